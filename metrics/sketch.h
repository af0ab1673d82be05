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
 * the 1% that DESIGN.md promises.
 */
#ifndef SR_SKETCH_H
#define SR_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define SR_SKETCH_ALPHA 0.005

typedef struct sr_sketch sr_sketch;

/* Caller owns *out; free with sr_sketch_destroy(). alpha in (0, 0.5). */
int sr_sketch_create(double alpha, sr_sketch **out);
void sr_sketch_destroy(sr_sketch *s);
void sr_sketch_clear(sr_sketch *s);

/* Adds one observation. NaN and infinities are refused with SR_EINVAL. */
int sr_sketch_add(sr_sketch *s, double v);

/* Adds src into dst; both must have the same alpha (else SR_EINVAL). */
int sr_sketch_merge(sr_sketch *dst, const sr_sketch *src);

uint64_t sr_sketch_count(const sr_sketch *s);

/*
 * The value at nearest rank ceil(q * n) (q in [0, 1]; q = 0 gives the
 * minimum's bucket). NAN when the sketch is empty.
 */
double sr_sketch_quantile(const sr_sketch *s, double q);

/*
 * The value at 1-based rank r (1 <= r <= count), NAN otherwise. Used for
 * linear interpolation between two ranks.
 */
double sr_sketch_at_rank(const sr_sketch *s, uint64_t r);

/*
 * How many observations are <= x, judged by bucket: exact when no bucket
 * straddles x, otherwise the observations of x's own bucket are counted as
 * <= x (each of them is within a relative a of x).
 */
uint64_t sr_sketch_count_le(const sr_sketch *s, double x);

/*
 * Serialises the sketch (a compact, versioned, little-endian encoding).
 * Caller owns *buf; free with free().
 */
int sr_sketch_encode(const sr_sketch *s, unsigned char **buf, size_t *len);

/*
 * Decodes buf and merges it into dst. Outside input (a cache file): every
 * field is checked; a malformed buffer gives SR_ECORRUPT and leaves dst
 * unchanged.
 */
int sr_sketch_merge_encoded(sr_sketch *dst, const unsigned char *buf, size_t len);

#endif
