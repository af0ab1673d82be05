/*
 * sketch.h - a mergeable quantile sketch with a relative error bound.
 *
 * Values are mapped to logarithmic buckets of ratio gamma = (1+a)/(1-a), so
 * that every value in a bucket is within a relative distance a of the
 * bucket's representative value. For any quantile, the sketch returns a
 * value within a relative error a of the exact order statistic at the same
 * rank (nearest-rank definition), whatever the distribution. Sketches with
 * the same a merge exactly (bucket counts add), so the sketch of a parent
 * entity or of a long window is the merge of its parts.
 *
 * Zero is counted apart; negative values are kept in a mirrored set of
 * buckets. sitrep uses a = 0.005 (SR_SKETCH_ALPHA): a bound of 0.5%, inside
 * the 1% that DESIGN.md promises. The bound holds for every finite double
 * except subnormal ones (magnitude below 2.2e-308), up to floating-point
 * rounding of a few 1e-13 (relative); sketch.c explains why.
 *
 * Memory: about 1 KiB per slice of 128 adjacent buckets that holds any
 * observation (a factor of 3.6 in value at a = 0.005), plus a directory of
 * at most about 9 KiB per sign at a = 0.005, whatever the input.
 *
 * A sketch has no lock: one writer at a time; readers of a sketch that no
 * one is changing may run concurrently.
 */
#ifndef SR_SKETCH_H
#define SR_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define SR_SKETCH_ALPHA 0.005
/* The smallest alpha accepted; it bounds the number of buckets. */
#define SR_SKETCH_ALPHA_MIN 1e-4

typedef struct sr_sketch sr_sketch;

/*
 * Creates an empty sketch with relative accuracy alpha, which must lie in
 * [SR_SKETCH_ALPHA_MIN, 0.5) (else SR_EINVAL). Caller owns *out; free with
 * sr_sketch_destroy(). *out is set only on success. SR_ENOMEM possible.
 */
int sr_sketch_create(double alpha, sr_sketch **out);

/* Frees the sketch and its buckets; NULL is a no-op. */
void sr_sketch_destroy(sr_sketch *s);

/* Forgets every observation and frees the buckets; alpha stays. */
void sr_sketch_clear(sr_sketch *s);

/*
 * Adds one observation. NaN and infinities are refused with SR_EINVAL; 0
 * and -0 count as zero. SR_ENOMEM when a new bucket page cannot be
 * allocated, SR_ERANGE when the count would pass UINT64_MAX; on any error
 * the sketch is unchanged. Costs one log(); allocates only when v falls in
 * a slice of 128 buckets not touched before.
 */
int sr_sketch_add(sr_sketch *s, double v);

/*
 * Adds src's observations into dst; src may be dst (counts double). Both
 * must have the same alpha (else SR_EINVAL). SR_ENOMEM or SR_ERANGE (total
 * count past UINT64_MAX) leave dst's observations unchanged. Costs about
 * one pass over src's non-empty bucket pages.
 */
int sr_sketch_merge(sr_sketch *dst, const sr_sketch *src);

/* Number of observations. */
uint64_t sr_sketch_count(const sr_sketch *s);

/*
 * The value at nearest rank ceil(q * n) (q in [0, 1]; q = 0 gives the
 * minimum's bucket, q = 1 the maximum's). NAN when the sketch is empty or q
 * is outside [0, 1] or NaN. A q * n within a few ulps above an integer
 * counts as that integer, so q = 0.07 with n = 100 gives rank 7 although
 * 0.07 * 100 rounds to 7.000000000000001.
 */
double sr_sketch_quantile(const sr_sketch *s, double q);

/*
 * The value at 1-based rank r (1 <= r <= count), NAN otherwise: a bucket's
 * representative value, within a relative alpha of the exact rank-r
 * observation (exactly 0 for zeros). Used for linear interpolation between
 * two ranks.
 */
double sr_sketch_at_rank(const sr_sketch *s, uint64_t r);

/*
 * How many observations are <= x, judged by bucket: exact when no bucket
 * straddles x, otherwise the observations of x's own bucket are counted as
 * <= x (each of them is within a factor gamma = (1+a)/(1-a) of x). So for
 * x > 0 the answer lies between the exact counts at x and at x * gamma. x = +inf gives the
 * count, x = -inf and NaN give 0; zeros are exact.
 */
uint64_t sr_sketch_count_le(const sr_sketch *s, double x);

/*
 * Buckets, for exact answers (metrics/query.c): the bucket of v is an
 * integer that orders like v (v1 <= v2 gives bucket(v1) <= bucket(v2)),
 * the same for every sketch of the same alpha, 0 for zero, negative for
 * negative values. The sketch's count in each bucket is exact, so the
 * rank-r observation is the (r - below)-th smallest of the observations
 * in the bucket sr_sketch_rank_bucket names.
 */
int64_t sr_sketch_bucket(const sr_sketch *s, double v);

/* The bucket holding the rank-r observation (1 <= r <= count, else
 * SR_EINVAL) and how many observations lie in lower buckets. */
int sr_sketch_rank_bucket(const sr_sketch *s, uint64_t r, int64_t *bucket, uint64_t *below);

/* How many observations lie in buckets lower than b. */
uint64_t sr_sketch_count_below(const sr_sketch *s, int64_t b);

/*
 * Serialises the sketch (a compact, versioned, little-endian encoding with
 * a CRC-32C; the format is described in sketch.c). On success caller owns
 * *buf; free with free(). SR_ENOMEM leaves *buf and *len untouched.
 */
int sr_sketch_encode(const sr_sketch *s, unsigned char **buf, size_t *len);

/*
 * Decodes buf and merges it into dst. buf is borrowed for the call. It is
 * outside input (a cache file): every length, index and count is checked,
 * nothing is read past buf + len. Returns 0, or
 *   SR_ECORRUPT  truncated, damaged (checksum) or malformed,
 *   SR_EVERSION  written by a newer sitrep (a later format version),
 *   SR_EINVAL    a well-formed sketch with another alpha,
 *   SR_ERANGE    dst's count would pass UINT64_MAX,
 *   SR_ENOMEM;
 * on every error dst's observations are unchanged.
 */
int sr_sketch_merge_encoded(sr_sketch *dst, const unsigned char *buf, size_t len);

#endif
