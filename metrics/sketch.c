/*
 * sketch.c - a mergeable quantile sketch with a relative error bound, after
 * the idea of DDSketch (Masson, Rim and Lee, VLDB 2019); written from the
 * idea, not from their code.
 *
 * Mapping. With a = alpha and gamma = (1 + a) / (1 - a), a magnitude m > 0
 * goes to bucket i = ceil(log_gamma(m)), which holds (gamma^(i-1), gamma^i].
 * The bucket answers with its representative value
 * 2 gamma^i / (gamma + 1), which simplifies to (1 - a) gamma^i.
 *
 * Why the bound holds. For m in bucket i, gamma^(i-1) < m <= gamma^i, so
 * rep / m lies in [1 - a, (1 - a) gamma) = [1 - a, 1 + a): |rep - m| <= a m.
 * The mapping is monotone (m1 <= m2 gives i1 <= i2), so the observations
 * sorted by value are also sorted by bucket, and the rank-r observation is
 * in the bucket where the cumulative count first reaches r. The sketch
 * returns that bucket's representative, which is within a relative a of the
 * exact rank-r value, whatever the distribution and n. Merging adds counts
 * bucket by bucket, which is exactly the sketch of the union, so the bound
 * survives any number of merges. Zero is counted apart and returned
 * exactly; a negative v is kept as |v| in a second store that is read in
 * reverse order.
 *
 * Rounding. i is computed in floating point, so a magnitude within a few
 * 1e-13 (relative) of a bucket edge can land in the neighbouring bucket,
 * which widens the bound by that much. The representative is computed with
 * exp(); for subnormal magnitudes (below 2.2e-308) the result is rounded to
 * the subnormal grid and the bound does not hold; sitrep's values are never
 * that small.
 *
 * Cost. add() is one log(), a multiply and a few increments; it allocates
 * only when it enters a slice of 128 buckets not touched before. (A
 * table-driven ln() with an exact fallback measured no faster than glibc's
 * log(), which is itself table-driven, so the definition is used as is.)
 * merge() adds src's non-empty pages into dst, 128 counts at a time.
 *
 * Storage. Counts live in pages of PAGE_LEN consecutive buckets (1 KiB),
 * allocated when first touched; a directory of page pointers spans the
 * touched pages. Every bucket index lies between those of DBL_TRUE_MIN and
 * DBL_MAX, which bounds the directory (1,137 slots at a = 0.005, for any
 * input), and pages cost 1 KiB per touched slice of 128 buckets (a factor
 * of 3.6 in value at a = 0.005; 1e-3..1e7 spans 19 pages). Pages whose
 * count is 0 may exist (left by a failed merge or decode) and are skipped.
 *
 * Encoding, version 1 (little-endian; varint = unsigned LEB128):
 *   u8 magic 0xD5, u8 version, f64 alpha, varint n, varint zero count,
 *   store positive, store negative, u32 CRC-32C of all preceding bytes.
 *   store = varint runs, then per run: where it starts (first run: the
 *   bucket index as a zigzag varint; later runs: the number of empty
 *   buckets since the previous run), varint length >= 1, length counts.
 * A run is split at RUN_GAP or more empty buckets, where a new run header
 * costs no more than the zeros. Decoding walks the buffer twice: first it
 * checks everything (bounds, index range, sums, overflow) and gives dst
 * every page the counts need (empty pages change no observation), then it
 * adds; so dst's observations change only when the whole buffer is valid
 * and nothing can fail any more.
 *
 * A sketch is not locked: callers serialise writers; concurrent readers of
 * an unchanging sketch are fine.
 */
#include "sketch.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define PAGE_BITS 7
#define PAGE_LEN (1u << PAGE_BITS)
#define PAGE_MASK (PAGE_LEN - 1)

#define ENC_MAGIC 0xD5
#define ENC_VERSION 1
#define ENC_HEADER 10 /* magic, version, alpha */
#define ENC_TRAILER 4 /* CRC-32C */
#define RUN_GAP 3

typedef struct {
    uint64_t n; /* sum of c[] */
    uint64_t c[PAGE_LEN];
} page;

/*
 * Buckets of one sign. A bucket is named by its key u = i - idx_min >= 0;
 * page number u >> PAGE_BITS, slot u & PAGE_MASK.
 */
typedef struct {
    page **dir;    /* dir[k] is page number base + k, or NULL; owned */
    uint32_t base; /* page number of dir[0] */
    uint32_t cap;  /* entries in dir */
    uint64_t n;    /* sum of the pages' n */
} store;

struct sr_sketch {
    double alpha;
    double ln_gamma;     /* ln((1 + a) / (1 - a)) */
    double inv_ln_gamma; /* 1 / ln_gamma */
    double ln_rep;       /* ln(1 - a): representative = gamma^i (1 - a) */
    int32_t idx_min;     /* bucket of DBL_TRUE_MIN: key 0 */
    int32_t idx_max;     /* bucket of DBL_MAX */
    uint32_t page_max;   /* page number of idx_max */
    uint64_t n;          /* all observations: zero + pos.n + neg.n */
    uint64_t zero;
    store pos;
    store neg; /* magnitudes of the negative observations */
};

/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), eight bytes per
 * step ("slicing by 8"): crc_table[k][b] is the CRC of byte b followed by
 * k zero bytes. Built once by the first sr_sketch_create().
 */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t r = b;
        for (int j = 0; j < 8; j++)
            r = (r >> 1) ^ (0x82F63B78u & (0u - (r & 1u)));
        crc_table[0][b] = r;
    }
    for (uint32_t b = 0; b < 256; b++) {
        for (int k = 1; k < 8; k++) {
            uint32_t prev = crc_table[k - 1][b];
            crc_table[k][b] = (prev >> 8) ^ crc_table[0][prev & 0xFF];
        }
    }
}

static inline uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc32c(const unsigned char *p, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (; len >= 8; p += 8, len -= 8) {
        uint32_t lo = crc ^ load_le32(p), hi = load_le32(p + 4);
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
              crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xFF] ^
              crc_table[2][(hi >> 8) & 0xFF] ^ crc_table[1][(hi >> 16) & 0xFF] ^
              crc_table[0][hi >> 24];
    }
    for (; len > 0; p++, len--)
        crc = crc_table[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ceil(x) for |x| < 2^31, without a libm call or a branch. */
static inline int32_t ceil_i32(double x)
{
    int32_t i = (int32_t)x;
    return i + ((double)i < x);
}

/*
 * The key of a finite m > 0: its bucket index ceil(ln(m) / ln(gamma)) less
 * idx_min. The clamp only guards memory should log() ever be non-monotone
 * at the ends of the double range.
 */
static inline uint32_t key_of(const sr_sketch *s, double m)
{
    int32_t i = ceil_i32(log(m) * s->inv_ln_gamma);
    if (i < s->idx_min)
        i = s->idx_min;
    if (i > s->idx_max)
        i = s->idx_max;
    return (uint32_t)(i - s->idx_min);
}

/*
 * The representative value of key u, kept inside the positive finite
 * doubles: exp() can overflow in the top bucket; the lower clamp is only a
 * guard (a bucket's representative exceeds half its smallest value, so it
 * does not round to 0). Either clamp moves the answer towards the bucket.
 */
static double key_value(const sr_sketch *s, uint32_t u)
{
    double i = (double)((int64_t)u + s->idx_min);
    double v = exp(i * s->ln_gamma + s->ln_rep);
    if (v > DBL_MAX)
        return DBL_MAX;
    return v > 0 ? v : DBL_TRUE_MIN;
}

/* ---- stores ---- */

static void store_fini(store *st)
{
    for (uint32_t k = 0; k < st->cap; k++)
        free(st->dir[k]);
    free(st->dir);
    memset(st, 0, sizeof *st);
}

static inline page *store_page(const store *st, uint32_t pn)
{
    uint32_t k = pn - st->base; /* wraps to >= cap when pn < base */
    return k < st->cap ? st->dir[k] : NULL;
}

/* Widens the directory to cover pages lo..hi (inclusive, <= page_max). */
static int store_cover(store *st, uint32_t lo, uint32_t hi, uint32_t page_max)
{
    uint32_t old_hi = st->base + st->cap - 1;
    if (st->cap > 0 && lo >= st->base && hi <= old_hi)
        return 0;
    uint32_t new_lo = lo, new_hi = hi;
    if (st->cap > 0) {
        new_lo = lo < st->base ? lo : st->base;
        new_hi = hi > old_hi ? hi : old_hi;
    }
    /* Room to grow on the side(s) that grew, so growth is amortised. */
    uint32_t extra = (new_hi - new_lo + 1) / 2 + 4;
    if (st->cap == 0 || lo < st->base)
        new_lo = new_lo > extra ? new_lo - extra : 0;
    if (st->cap == 0 || hi > old_hi)
        new_hi = page_max - new_hi > extra ? new_hi + extra : page_max;
    uint32_t cap = new_hi - new_lo + 1;
    page **dir = calloc(cap, sizeof *dir);
    if (!dir)
        return SR_ENOMEM;
    if (st->cap > 0)
        memcpy(dir + (st->base - new_lo), st->dir, st->cap * sizeof *dir);
    free(st->dir);
    st->dir = dir;
    st->base = new_lo;
    st->cap = cap;
    return 0;
}

/* Makes page pn exist (with zero counts if new). */
static int store_reserve(store *st, uint32_t pn, uint32_t page_max)
{
    if (store_page(st, pn))
        return 0;
    int rc = store_cover(st, pn, pn, page_max);
    if (rc)
        return rc;
    page *p = calloc(1, sizeof *p);
    if (!p)
        return SR_ENOMEM;
    st->dir[pn - st->base] = p;
    return 0;
}

/* How many observations have a key <= u. */
static uint64_t store_count_le(const store *st, uint32_t u)
{
    uint32_t pn = u >> PAGE_BITS;
    uint64_t sum = 0;
    for (uint32_t k = 0; k < st->cap && st->base + k <= pn; k++) {
        const page *p = st->dir[k];
        if (!p)
            continue;
        if (st->base + k < pn) {
            sum += p->n;
        } else {
            for (unsigned j = 0; j <= (u & PAGE_MASK); j++)
                sum += p->c[j];
        }
    }
    return sum;
}

/* The key holding the r-th smallest (asc) or largest observation, 1 <= r <= st->n. */
static uint32_t store_rank(const store *st, uint64_t r, bool asc)
{
    for (uint32_t t = 0; t < st->cap; t++) {
        uint32_t k = asc ? t : st->cap - 1 - t;
        const page *p = st->dir[k];
        if (!p)
            continue;
        if (p->n < r) {
            r -= p->n;
            continue;
        }
        for (unsigned s = 0; s < PAGE_LEN; s++) {
            unsigned j = asc ? s : PAGE_LEN - 1 - s;
            if (p->c[j] >= r)
                return ((st->base + k) << PAGE_BITS) + j;
            r -= p->c[j];
        }
    }
    return 0; /* unreachable while st->n counts what the pages hold */
}

/* ---- lifecycle, add, merge ---- */

int sr_sketch_create(double alpha, sr_sketch **out)
{
    if (!(alpha >= SR_SKETCH_ALPHA_MIN && alpha < 0.5))
        return SR_EINVAL;
    pthread_once(&crc_once, crc_init);
    sr_sketch *s = calloc(1, sizeof *s);
    if (!s)
        return SR_ENOMEM;
    s->alpha = alpha;
    s->ln_gamma = log1p(alpha) - log1p(-alpha);
    s->inv_ln_gamma = 1.0 / s->ln_gamma;
    s->ln_rep = log1p(-alpha);
    s->idx_min = ceil_i32(log(DBL_TRUE_MIN) * s->inv_ln_gamma);
    s->idx_max = ceil_i32(log(DBL_MAX) * s->inv_ln_gamma);
    s->page_max = (uint32_t)(s->idx_max - s->idx_min) >> PAGE_BITS;
    *out = s;
    return 0;
}

void sr_sketch_destroy(sr_sketch *s)
{
    if (!s)
        return;
    store_fini(&s->pos);
    store_fini(&s->neg);
    free(s);
}

void sr_sketch_clear(sr_sketch *s)
{
    store_fini(&s->pos);
    store_fini(&s->neg);
    s->n = 0;
    s->zero = 0;
}

int sr_sketch_add(sr_sketch *s, double v)
{
    if (!isfinite(v))
        return SR_EINVAL;
    if (s->n == UINT64_MAX)
        return SR_ERANGE;
    if (v == 0) {
        s->zero++;
        s->n++;
        return 0;
    }
    store *st = v > 0 ? &s->pos : &s->neg;
    uint32_t u = key_of(s, fabs(v));
    page *p = store_page(st, u >> PAGE_BITS);
    if (!p) {
        int rc = store_reserve(st, u >> PAGE_BITS, s->page_max);
        if (rc)
            return rc;
        p = store_page(st, u >> PAGE_BITS);
    }
    p->c[u & PAGE_MASK]++;
    p->n++;
    st->n++;
    s->n++;
    return 0;
}

static bool same_alpha(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Gives dst every page that holds counts in src. */
static int store_reserve_like(store *dst, const store *src, uint32_t page_max)
{
    uint32_t lo = UINT32_MAX, hi = 0;
    for (uint32_t k = 0; k < src->cap; k++) {
        if (src->dir[k] && src->dir[k]->n) {
            if (lo == UINT32_MAX)
                lo = src->base + k;
            hi = src->base + k;
        }
    }
    if (lo == UINT32_MAX)
        return 0;
    int rc = store_cover(dst, lo, hi, page_max);
    for (uint32_t pn = lo; rc == 0 && pn <= hi; pn++) {
        const page *p = store_page(src, pn);
        if (p && p->n)
            rc = store_reserve(dst, pn, page_max);
    }
    return rc;
}

/* Adds src's counts into dst, which has every page needed. */
static void store_add(store *dst, const store *src)
{
    for (uint32_t k = 0; k < src->cap; k++) {
        const page *sp = src->dir[k];
        if (!sp || !sp->n)
            continue;
        page *dp = store_page(dst, src->base + k);
        for (unsigned j = 0; j < PAGE_LEN; j++)
            dp->c[j] += sp->c[j];
        dp->n += sp->n;
    }
    dst->n += src->n;
}

int sr_sketch_merge(sr_sketch *dst, const sr_sketch *src)
{
    if (!same_alpha(dst->alpha, src->alpha))
        return SR_EINVAL;
    if (src->n == 0)
        return 0;
    if (src->n > UINT64_MAX - dst->n)
        return SR_ERANGE;
    if (dst != src) {
        int rc = store_reserve_like(&dst->pos, &src->pos, dst->page_max);
        if (rc == 0)
            rc = store_reserve_like(&dst->neg, &src->neg, dst->page_max);
        if (rc)
            return rc;
    }
    store_add(&dst->pos, &src->pos);
    store_add(&dst->neg, &src->neg);
    dst->zero += src->zero;
    dst->n += src->n;
    return 0;
}

/* ---- queries ---- */

uint64_t sr_sketch_count(const sr_sketch *s)
{
    return s->n;
}

double sr_sketch_at_rank(const sr_sketch *s, uint64_t r)
{
    if (r == 0 || r > s->n)
        return NAN;
    if (r <= s->neg.n)
        return -key_value(s, store_rank(&s->neg, r, false));
    r -= s->neg.n;
    if (r <= s->zero)
        return 0.0;
    r -= s->zero;
    return key_value(s, store_rank(&s->pos, r, true));
}

double sr_sketch_quantile(const sr_sketch *s, double q)
{
    if (s->n == 0 || !(q >= 0.0 && q <= 1.0))
        return NAN;
    /*
     * q * n a few ulps above an integer is that integer: q = 0.07 is stored
     * as slightly more than 7/100, and 0.07 * 100 rounds to 7.000000000000001,
     * whose ceiling would be rank 8.
     */
    double x = q * (double)s->n;
    x -= x * (4 * DBL_EPSILON);
    double c = ceil(x);
    uint64_t r;
    if (c >= (double)s->n)
        r = s->n;
    else if (c < 1.0)
        r = 1;
    else
        r = (uint64_t)c;
    return sr_sketch_at_rank(s, r);
}

uint64_t sr_sketch_count_le(const sr_sketch *s, double x)
{
    if (isnan(x))
        return 0;
    if (x > 0) {
        if (isinf(x))
            return s->n;
        return s->neg.n + s->zero + store_count_le(&s->pos, key_of(s, x));
    }
    if (x == 0)
        return s->neg.n + s->zero;
    if (isinf(x))
        return 0;
    /* Magnitudes in x's bucket or above: all of neg minus the keys below. */
    uint32_t u = key_of(s, -x);
    return u == 0 ? s->neg.n : s->neg.n - store_count_le(&s->neg, u - 1);
}

/* ---- buckets ---- */

int64_t sr_sketch_bucket(const sr_sketch *s, double v)
{
    if (v > 0)
        return (int64_t)key_of(s, v) + 1;
    if (v < 0)
        return -(int64_t)key_of(s, -v) - 1;
    return 0;
}

uint64_t sr_sketch_count_below(const sr_sketch *s, int64_t b)
{
    if (b > 0) {
        uint32_t u = (uint32_t)(b - 1);
        return s->neg.n + s->zero + (u == 0 ? 0 : store_count_le(&s->pos, u - 1));
    }
    if (b == 0)
        return s->neg.n;
    /* negative: the magnitudes in keys above -b - 1 are the lower values */
    uint32_t u = (uint32_t)(-b - 1);
    return s->neg.n - store_count_le(&s->neg, u);
}

int sr_sketch_rank_bucket(const sr_sketch *s, uint64_t r, int64_t *bucket, uint64_t *below)
{
    if (r == 0 || r > s->n)
        return SR_EINVAL;
    if (r <= s->neg.n)
        *bucket = -(int64_t)store_rank(&s->neg, r, false) - 1;
    else if (r <= s->neg.n + s->zero)
        *bucket = 0;
    else
        *bucket = (int64_t)store_rank(&s->pos, r - s->neg.n - s->zero, true) + 1;
    *below = sr_sketch_count_below(s, *bucket);
    return 0;
}

/* ---- encoding ---- */

typedef struct {
    unsigned char *p; /* owned until handed to the caller */
    size_t len, cap;
    bool failed; /* out of memory: p is freed at the end */
} writer;

static void put_grow(writer *w)
{
    size_t cap = w->cap ? 2 * w->cap : 256;
    unsigned char *p = realloc(w->p, cap);
    if (!p) {
        w->failed = true;
        return;
    }
    w->p = p;
    w->cap = cap;
}

static inline void put_byte(writer *w, unsigned b)
{
    if (w->len == w->cap) {
        put_grow(w);
        if (w->failed)
            return;
    }
    w->p[w->len++] = (unsigned char)b;
}

static void put_varint(writer *w, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(w, (unsigned)(v & 0x7F) | 0x80);
        v >>= 7;
    }
    put_byte(w, (unsigned)v);
}

static uint64_t zigzag(int64_t i)
{
    return i < 0 ? ((uint64_t)(-(i + 1)) << 1) | 1 : (uint64_t)i << 1;
}

static int64_t unzigzag(uint64_t z)
{
    return z & 1 ? -(int64_t)(z >> 1) - 1 : (int64_t)(z >> 1);
}

/*
 * Writes the run of keys start..end: where it starts (prev_end is one past
 * the previous run, -1 for the first run), its length, its counts.
 */
static void put_run(writer *w, const sr_sketch *s, const store *st, uint32_t start, uint32_t end,
                    int64_t prev_end)
{
    if (prev_end < 0)
        put_varint(w, zigzag((int64_t)start + s->idx_min));
    else
        put_varint(w, (uint64_t)(start - prev_end));
    put_varint(w, (uint64_t)(end - start) + 1);
    for (uint32_t u = start; u <= end;) {
        const page *p = store_page(st, u >> PAGE_BITS);
        uint32_t stop = (u | PAGE_MASK) < end ? (u | PAGE_MASK) : end;
        for (; u <= stop; u++)
            put_varint(w, p ? p->c[u & PAGE_MASK] : 0);
    }
}

/*
 * The encoder reads a page as two words of bits, one per non-empty bucket,
 * built without a branch on whether a bucket is empty (that is random, and
 * a branch on it, mispredicted about half the time, costs more than the
 * rest of the scan). A run starts at a bucket with none of the RUN_GAP
 * buckets before it non-empty: counted a word at a time.
 */

/* The non-empty buckets among c[0..64) as the bits of a word. */
static inline uint64_t word_bits(const uint64_t *c)
{
    uint64_t w = 0;
    for (unsigned j = 0; j < 64; j++)
        w |= (uint64_t)(c[j] != 0) << j;
    return w;
}

/* Number of runs in st. */
static uint64_t store_runs(const store *st)
{
    uint64_t runs = 0, prev = 0; /* prev: the word before, 0 past an empty page */
    for (uint32_t k = 0; k < st->cap; k++) {
        const page *p = st->dir[k];
        if (!p || !p->n) {
            prev = 0;
            continue;
        }
        for (unsigned h = 0; h < PAGE_LEN / 64; h++) {
            uint64_t w = word_bits(p->c + 64 * h);
            uint64_t near = w << 1 | w << 2 | w << 3 | prev >> 61 | prev >> 62 | prev >> 63;
            runs += (uint64_t)__builtin_popcountll(w & ~near);
            prev = w;
        }
    }
    return runs;
}

static void put_store(writer *w, const sr_sketch *s, const store *st)
{
    put_varint(w, store_runs(st));
    int64_t prev_end = -1;        /* one past the previous run */
    int64_t start = -1, last = 0; /* the open run's first and last keys */
    for (uint32_t k = 0; k < st->cap; k++) {
        const page *p = st->dir[k];
        if (!p || !p->n)
            continue;
        for (unsigned h = 0; h < PAGE_LEN / 64; h++) {
            int64_t u0 = ((int64_t)(st->base + k) << PAGE_BITS) + 64 * h;
            for (uint64_t bits = word_bits(p->c + 64 * h); bits; bits &= bits - 1) {
                int64_t u = u0 + __builtin_ctzll(bits);
                if (start >= 0 && u - last > RUN_GAP) {
                    put_run(w, s, st, (uint32_t)start, (uint32_t)last, prev_end);
                    prev_end = last + 1;
                    start = -1;
                }
                start = start < 0 ? u : start;
                last = u;
            }
        }
    }
    if (start >= 0)
        put_run(w, s, st, (uint32_t)start, (uint32_t)last, prev_end);
}

int sr_sketch_encode(const sr_sketch *s, unsigned char **buf, size_t *len)
{
    writer w = {0};
    uint64_t abits;
    memcpy(&abits, &s->alpha, sizeof abits);
    put_byte(&w, ENC_MAGIC);
    put_byte(&w, ENC_VERSION);
    for (int b = 0; b < 8; b++)
        put_byte(&w, (unsigned)(abits >> (8 * b)) & 0xFF);
    put_varint(&w, s->n);
    put_varint(&w, s->zero);
    put_store(&w, s, &s->pos);
    put_store(&w, s, &s->neg);
    uint32_t crc = w.failed ? 0 : crc32c(w.p, w.len);
    for (int b = 0; b < 4; b++)
        put_byte(&w, (crc >> (8 * b)) & 0xFF);
    if (w.failed) {
        free(w.p);
        return SR_ENOMEM;
    }
    *buf = w.p;
    *len = w.len;
    return 0;
}

/* ---- decoding ---- */

typedef struct {
    const unsigned char *p, *end;
} reader;

static bool get_varint_slow(reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end)
            return false;
        unsigned b = *r->p++;
        if (shift == 63 && b > 1)
            return false; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static inline bool get_varint(reader *r, uint64_t *out)
{
    if (r->p != r->end && *r->p < 0x80) {
        *out = *r->p++;
        return true;
    }
    return get_varint_slow(r, out);
}

typedef enum {
    WALK_CHECK, /* validate, sum the counts, allocate the pages needed */
    WALK_ADD,   /* add the counts (the buffer has passed WALK_CHECK) */
} walk_mode;

/*
 * Walks one encoded store. WALK_CHECK checks every field: runs lie in
 * [idx_min, idx_max], in order, without overlap, and the counts' sum
 * (added to *sum) does not overflow; it also gives st a page for every
 * non-zero count. Pages hold no observation until WALK_ADD, so a refusal
 * after some were allocated still leaves the sketch's observations as they
 * were. Returns SR_ECORRUPT or SR_ENOMEM.
 */
static int walk_store(sr_sketch *s, store *st, reader *r, walk_mode mode, uint64_t *sum)
{
    uint64_t runs, v;
    int64_t next = 0; /* one past the previous run */
    if (!get_varint(r, &runs))
        return SR_ECORRUPT;
    for (uint64_t k = 0; k < runs; k++) {
        int64_t start;
        if (!get_varint(r, &v))
            return SR_ECORRUPT;
        if (k == 0) {
            start = unzigzag(v);
            if (start < s->idx_min || start > s->idx_max)
                return SR_ECORRUPT;
        } else {
            if (next > s->idx_max || v > (uint64_t)(s->idx_max - next))
                return SR_ECORRUPT;
            start = next + (int64_t)v;
        }
        uint64_t len;
        if (!get_varint(r, &len) || len == 0 || len > (uint64_t)(s->idx_max - start) + 1)
            return SR_ECORRUPT;
        /* The run, page by page; no branch on whether a count is 0. */
        uint32_t u = (uint32_t)(start - s->idx_min);
        for (uint64_t left = len; left > 0;) {
            unsigned j = u & PAGE_MASK;
            unsigned chunk = left < PAGE_LEN - j ? (unsigned)left : PAGE_LEN - j;
            page *p = mode == WALK_ADD ? store_page(st, u >> PAGE_BITS) : NULL;
            uint64_t any = 0, added = 0, c;
            for (unsigned t = j; t < j + chunk; t++) {
                if (!get_varint(r, &c))
                    return SR_ECORRUPT;
                if (mode == WALK_CHECK) {
                    if (c > UINT64_MAX - *sum)
                        return SR_ECORRUPT;
                    *sum += c;
                    any |= c;
                } else if (p) { /* no page: WALK_CHECK saw only zeros here */
                    p->c[t] += c;
                    added += c;
                }
            }
            if (any) {
                int rc = store_reserve(st, u >> PAGE_BITS, s->page_max);
                if (rc)
                    return rc;
            }
            if (p) {
                p->n += added;
                st->n += added;
            }
            u += chunk;
            left -= chunk;
        }
        next = start + (int64_t)len;
    }
    return 0;
}

static int walk_stores(sr_sketch *s, reader body, walk_mode mode, uint64_t *sum)
{
    int rc = walk_store(s, &s->pos, &body, mode, sum);
    if (rc == 0)
        rc = walk_store(s, &s->neg, &body, mode, sum);
    if (rc == 0 && body.p != body.end)
        rc = SR_ECORRUPT; /* trailing bytes */
    return rc;
}

int sr_sketch_merge_encoded(sr_sketch *dst, const unsigned char *buf, size_t len)
{
    /* The shortest body: n, zero count and two empty stores, a byte each. */
    if (!buf || len < ENC_HEADER + 4 + ENC_TRAILER || buf[0] != ENC_MAGIC)
        return SR_ECORRUPT;
    size_t body = len - ENC_TRAILER;
    if (load_le32(buf + body) != crc32c(buf, body))
        return SR_ECORRUPT;
    if (buf[1] == 0)
        return SR_ECORRUPT;
    if (buf[1] > ENC_VERSION)
        return SR_EVERSION;
    uint64_t abits = 0;
    for (int b = 0; b < 8; b++)
        abits |= (uint64_t)buf[2 + b] << (8 * b);
    double alpha;
    memcpy(&alpha, &abits, sizeof alpha);
    if (!same_alpha(alpha, dst->alpha))
        return SR_EINVAL;

    reader r = {buf + ENC_HEADER, buf + body};
    uint64_t n, zero;
    if (!get_varint(&r, &n) || !get_varint(&r, &zero))
        return SR_ECORRUPT;
    uint64_t sum = zero;
    int rc = walk_stores(dst, r, WALK_CHECK, &sum);
    if (rc)
        return rc;
    if (sum != n)
        return SR_ECORRUPT;
    if (n > UINT64_MAX - dst->n)
        return SR_ERANGE;
    walk_stores(dst, r, WALK_ADD, NULL);
    dst->zero += zero;
    dst->n += n;
    return 0;
}
