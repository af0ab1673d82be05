/*
 * Tests of metrics/sketch.c: the relative error bound against exact
 * nearest-rank order statistics on many distributions (fixed-seed PRNG),
 * exact merges, the encoding and its refusal of damaged input, and the
 * edges (empty, NaN, infinities, extremes).
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/common.h"
#include "../../metrics/sketch.h"

#define A SR_SKETCH_ALPHA
/* The documented bound plus room for rounding in log() and exp(). */
#define BOUND (A * (1 + 1e-9))

/* ---- a fixed-seed PRNG (splitmix64) and distributions ---- */

typedef struct {
    uint64_t s;
} rng;

static uint64_t rng_u64(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double rng_unit(rng *r)
{
    return ((double)(rng_u64(r) >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(rng *r)
{
    return sqrt(-2.0 * log(rng_unit(r))) * cos(6.283185307179586 * rng_unit(r));
}

static double g_uniform(rng *r)
{
    return 1000.0 * rng_unit(r);
}

static double g_exponential(rng *r)
{
    return -300.0 * log(rng_unit(r));
}

static double g_lognormal(rng *r)
{
    return exp(log(600.0) + 1.0 * rng_normal(r));
}

static double g_pareto(rng *r)
{
    return pow(rng_unit(r), -1.0 / 1.1); /* x_m = 1, shape 1.1: heavy tail */
}

static double g_duplicates(rng *r)
{
    static const double v[] = {0.5, 1, 2, 3, 5, 8, 13, 600, 601, 602, 1e4};
    return v[rng_u64(r) % (sizeof v / sizeof v[0])];
}

static double g_constant(rng *r)
{
    (void)r;
    return 42.0;
}

static double g_with_zeros(rng *r)
{
    return rng_unit(r) < 0.3 ? 0.0 : g_exponential(r);
}

static double g_negative(rng *r)
{
    return -g_lognormal(r);
}

static double g_mixed(rng *r)
{
    double u = rng_unit(r);
    if (u < 0.05)
        return 0.0;
    return 100.0 * rng_normal(r);
}

static double g_wide(rng *r)
{
    return exp(log(1e-3) + rng_unit(r) * log(1e10)); /* log-uniform 1e-3..1e7 */
}

static double g_extremes(rng *r)
{
    static const double v[] = {DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN, 1e-300, 1e300, -1e-300, 1, 0};
    return v[rng_u64(r) % (sizeof v / sizeof v[0])];
}

typedef struct {
    const char *name;
    double (*gen)(rng *);
    size_t n;
} dist;

static const dist dists[] = {
    {"uniform", g_uniform, 20000},
    {"exponential", g_exponential, 20000},
    {"lognormal", g_lognormal, 20000},
    {"pareto", g_pareto, 20000},
    {"duplicates", g_duplicates, 20000},
    {"constant", g_constant, 5000},
    {"zeros", g_with_zeros, 20000},
    {"negative", g_negative, 20000},
    {"mixed", g_mixed, 20000},
    {"wide", g_wide, 20000},
    {"extremes", g_extremes, 2000},
    {"one", g_lognormal, 1},
    {"two", g_mixed, 2},
    {"three", g_pareto, 3},
};
#define NDISTS (sizeof dists / sizeof dists[0])

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* n values of d, sorted; caller owns the array (free()). */
static double *sample(const dist *d, uint64_t seed)
{
    rng r = {seed};
    double *v = malloc(d->n * sizeof *v);
    cr_assert_not_null(v);
    for (size_t i = 0; i < d->n; i++)
        v[i] = d->gen(&r);
    return v;
}

static sr_sketch *sketch_of(const double *v, size_t n)
{
    sr_sketch *s = NULL;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(sr_sketch_add(s, v[i]), 0, "add(%g)", v[i]);
    return s;
}

static double rel_err(double est, double exact)
{
    if (exact == 0)
        return est == 0 ? 0 : INFINITY;
    return fabs(est - exact) / fabs(exact);
}

/* The nearest rank of per-mille pm among n: ceil(pm * n / 1000), at least 1. */
static uint64_t rank_pm(unsigned pm, uint64_t n)
{
    uint64_t r = (pm * n + 999) / 1000;
    return r ? r : 1;
}

/* Per-mille points: p1..p99 and p99.9. */
static unsigned percentile_pm(size_t k)
{
    return k < 99 ? (unsigned)(10 * (k + 1)) : 999;
}
#define NPCT 100

static void encode(const sr_sketch *s, unsigned char **buf, size_t *len)
{
    cr_assert_eq(sr_sketch_encode(s, buf, len), 0);
}

/* Same buckets: identical counts, encodings and quantiles. */
static void assert_same(const sr_sketch *a, const sr_sketch *b)
{
    unsigned char *ea, *eb;
    size_t la, lb;
    encode(a, &ea, &la);
    encode(b, &eb, &lb);
    cr_assert_eq(sr_sketch_count(a), sr_sketch_count(b));
    cr_assert_eq(la, lb);
    cr_assert_eq(memcmp(ea, eb, la), 0);
    for (size_t k = 0; k < NPCT; k++) {
        double q = percentile_pm(k) / 1000.0;
        double x = sr_sketch_quantile(a, q), y = sr_sketch_quantile(b, q);
        cr_assert(x == y || (isnan(x) && isnan(y)), "q %g: %.17g vs %.17g", q, x, y);
    }
    free(ea);
    free(eb);
}

/* Encodes s and checks that dst's encoding is still that. */
static void assert_encodes_to(const sr_sketch *s, const unsigned char *enc, size_t len)
{
    unsigned char *e;
    size_t l;
    encode(s, &e, &l);
    cr_assert_eq(l, len);
    cr_assert_eq(memcmp(e, enc, l), 0);
    free(e);
}

/* ---- the error bound ---- */

/*
 * For every rank, and for every percentile p1..p99 and p99.9 through
 * sr_sketch_quantile(), the sketch is within a relative alpha of the exact
 * order statistic. Returns the largest relative error seen.
 */
static double check_bound(const dist *d, uint64_t seed)
{
    double *v = sample(d, seed);
    sr_sketch *s = sketch_of(v, d->n);
    qsort(v, d->n, sizeof *v, cmp_double);
    cr_assert_eq(sr_sketch_count(s), d->n);
    double worst = 0;
    for (uint64_t r = 1; r <= d->n; r++) {
        double est = sr_sketch_at_rank(s, r), exact = v[r - 1];
        double e = rel_err(est, exact);
        cr_assert(e <= BOUND, "%s: rank %llu of %zu: %.17g for %.17g (error %g)", d->name,
                  (unsigned long long)r, d->n, est, exact, e);
        if (e > worst)
            worst = e;
    }
    for (size_t k = 0; k < NPCT; k++) {
        unsigned pm = percentile_pm(k);
        uint64_t r = rank_pm(pm, d->n);
        double est = sr_sketch_quantile(s, pm / 1000.0);
        cr_assert_eq(est, sr_sketch_at_rank(s, r), "%s: p%g is not rank %llu", d->name, pm / 10.0,
                     (unsigned long long)r);
        cr_assert(rel_err(est, v[r - 1]) <= BOUND, "%s: p%g = %.17g, exact %.17g", d->name,
                  pm / 10.0, est, v[r - 1]);
    }
    cr_assert_eq(sr_sketch_quantile(s, 0.0), sr_sketch_at_rank(s, 1));
    cr_assert_eq(sr_sketch_quantile(s, 1.0), sr_sketch_at_rank(s, d->n));
    sr_sketch_destroy(s);
    free(v);
    return worst;
}

Test(sketch, error_bound_on_every_distribution)
{
    for (size_t i = 0; i < NDISTS; i++) {
        double worst = 0;
        for (uint64_t seed = 1; seed <= 3; seed++) {
            double e = check_bound(&dists[i], seed * 1000 + i);
            if (e > worst)
                worst = e;
        }
        cr_log_info("%-12s max relative error %.9f (bound %g)", dists[i].name, worst, A);
    }
}

Test(sketch, error_bound_at_other_alphas)
{
    static const double alphas[] = {SR_SKETCH_ALPHA_MIN, 0.001, 0.01, 0.05, 0.2, 0.49};
    for (size_t k = 0; k < sizeof alphas / sizeof alphas[0]; k++) {
        rng r = {77 + k};
        sr_sketch *s;
        cr_assert_eq(sr_sketch_create(alphas[k], &s), 0);
        enum { N = 5000 };
        double v[N];
        for (size_t i = 0; i < N; i++) {
            v[i] = i % 2 ? g_wide(&r) : g_mixed(&r);
            cr_assert_eq(sr_sketch_add(s, v[i]), 0);
        }
        qsort(v, N, sizeof v[0], cmp_double);
        for (uint64_t i = 1; i <= N; i++) {
            double e = rel_err(sr_sketch_at_rank(s, i), v[i - 1]);
            cr_assert(e <= alphas[k] * (1 + 1e-9), "alpha %g rank %llu error %g", alphas[k],
                      (unsigned long long)i, e);
        }
        sr_sketch_destroy(s);
    }
}

Test(sketch, nearest_rank_convention)
{
    /* 1..100: p(k) is exactly the value k; q = 0.07 must give rank 7, not 8. */
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    for (int i = 1; i <= 100; i++)
        cr_assert_eq(sr_sketch_add(s, i), 0);
    for (int p = 1; p <= 100; p++) {
        double est = sr_sketch_quantile(s, p / 100.0);
        cr_assert_eq(est, sr_sketch_at_rank(s, (uint64_t)p), "p%d", p);
        cr_assert(rel_err(est, p) <= BOUND, "p%d = %g", p, est);
    }
    cr_assert(rel_err(sr_sketch_quantile(s, 0.0), 1) <= BOUND);
    cr_assert(rel_err(sr_sketch_quantile(s, 0.001), 1) <= BOUND);
    cr_assert(rel_err(sr_sketch_quantile(s, 0.999), 100) <= BOUND);
    cr_assert(rel_err(sr_sketch_quantile(s, 0.015), 2) <= BOUND);
    sr_sketch_destroy(s);
}

Test(sketch, many_copies_of_one_value)
{
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    for (int i = 0; i < 1000000; i++)
        cr_assert_eq(sr_sketch_add(s, 600.0), 0);
    cr_assert_eq(sr_sketch_count(s), 1000000);
    double lo = sr_sketch_at_rank(s, 1), hi = sr_sketch_at_rank(s, 1000000);
    cr_assert_eq(lo, hi);
    cr_assert(rel_err(lo, 600.0) <= BOUND);
    sr_sketch_destroy(s);
}

/* ---- edges ---- */

Test(sketch, create_refuses_bad_alpha)
{
    static const double bad[] = {0, -0.1, 0.5, 1, 2, NAN, INFINITY, SR_SKETCH_ALPHA_MIN / 2};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sr_sketch *s = (sr_sketch *)&bad; /* must stay untouched */
        cr_assert_eq(sr_sketch_create(bad[i], &s), SR_EINVAL, "alpha %g", bad[i]);
        cr_assert_eq(s, (sr_sketch *)&bad);
    }
    sr_sketch_destroy(NULL);
}

Test(sketch, empty_sketch_has_no_value)
{
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    cr_assert_eq(sr_sketch_count(s), 0);
    cr_assert(isnan(sr_sketch_quantile(s, 0.5)));
    cr_assert(isnan(sr_sketch_quantile(s, 0.0)));
    cr_assert(isnan(sr_sketch_at_rank(s, 1)));
    cr_assert_eq(sr_sketch_count_le(s, 1e9), 0);
    cr_assert_eq(sr_sketch_count_le(s, INFINITY), 0);
    sr_sketch_destroy(s);
}

Test(sketch, nan_and_infinities_are_refused)
{
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    cr_assert_eq(sr_sketch_add(s, NAN), SR_EINVAL);
    cr_assert_eq(sr_sketch_add(s, INFINITY), SR_EINVAL);
    cr_assert_eq(sr_sketch_add(s, -INFINITY), SR_EINVAL);
    cr_assert_eq(sr_sketch_count(s), 0);
    cr_assert_eq(sr_sketch_add(s, 3.0), 0);
    cr_assert_eq(sr_sketch_add(s, -NAN), SR_EINVAL);
    cr_assert_eq(sr_sketch_count(s), 1);
    cr_assert(rel_err(sr_sketch_quantile(s, 0.5), 3.0) <= BOUND);
    sr_sketch_destroy(s);
}

Test(sketch, out_of_range_questions_give_nan)
{
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    cr_assert_eq(sr_sketch_add(s, 5.0), 0);
    cr_assert_eq(sr_sketch_add(s, 7.0), 0);
    cr_assert(isnan(sr_sketch_quantile(s, -0.01)));
    cr_assert(isnan(sr_sketch_quantile(s, 1.01)));
    cr_assert(isnan(sr_sketch_quantile(s, NAN)));
    cr_assert(isnan(sr_sketch_at_rank(s, 0)));
    cr_assert(isnan(sr_sketch_at_rank(s, 3)));
    cr_assert(!isnan(sr_sketch_at_rank(s, 2)));
    sr_sketch_destroy(s);
}

Test(sketch, zero_and_negative_zero_are_exact)
{
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    cr_assert_eq(sr_sketch_add(s, 0.0), 0);
    cr_assert_eq(sr_sketch_add(s, -0.0), 0);
    cr_assert_eq(sr_sketch_add(s, -1.0), 0);
    cr_assert_eq(sr_sketch_at_rank(s, 2), 0.0);
    cr_assert_eq(sr_sketch_at_rank(s, 3), 0.0);
    cr_assert(rel_err(sr_sketch_at_rank(s, 1), -1.0) <= BOUND);
    sr_sketch_destroy(s);
}

Test(sketch, clear_forgets_everything)
{
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    for (int i = 1; i <= 1000; i++)
        cr_assert_eq(sr_sketch_add(s, i % 3 ? i : -i), 0);
    sr_sketch_clear(s);
    cr_assert_eq(sr_sketch_count(s), 0);
    cr_assert(isnan(sr_sketch_quantile(s, 0.5)));
    cr_assert_eq(sr_sketch_count_le(s, INFINITY), 0);
    cr_assert_eq(sr_sketch_add(s, 10.0), 0);
    cr_assert(rel_err(sr_sketch_quantile(s, 0.5), 10.0) <= BOUND);
    sr_sketch_destroy(s);
}

Test(sketch, subnormal_values_keep_their_sign)
{
    static const double v[] = {DBL_TRUE_MIN, -DBL_TRUE_MIN, 1e-310, DBL_MAX};
    sr_sketch *s = sketch_of(v, sizeof v / sizeof v[0]);
    cr_assert_lt(sr_sketch_at_rank(s, 1), 0.0);
    cr_assert_gt(sr_sketch_at_rank(s, 2), 0.0);
    cr_assert_gt(sr_sketch_at_rank(s, 3), 0.0);
    cr_assert(isfinite(sr_sketch_at_rank(s, 4)));
    cr_assert(rel_err(sr_sketch_at_rank(s, 4), DBL_MAX) <= BOUND);
    cr_assert_eq(sr_sketch_count_le(s, sr_sketch_at_rank(s, 2)), 2);
    sr_sketch_destroy(s);
}

/* ---- count_le ---- */

Test(sketch, count_le_on_known_values)
{
    static const double v[] = {-10, -1, 0, 0, 1, 10, 100};
    sr_sketch *s = sketch_of(v, sizeof v / sizeof v[0]);
    cr_assert_eq(sr_sketch_count_le(s, -INFINITY), 0);
    cr_assert_eq(sr_sketch_count_le(s, -20), 0);
    cr_assert_eq(sr_sketch_count_le(s, -10), 1);
    cr_assert_eq(sr_sketch_count_le(s, -5), 1);
    cr_assert_eq(sr_sketch_count_le(s, -1), 2);
    cr_assert_eq(sr_sketch_count_le(s, -0.5), 2);
    cr_assert_eq(sr_sketch_count_le(s, -0.0), 4);
    cr_assert_eq(sr_sketch_count_le(s, 0.0), 4);
    cr_assert_eq(sr_sketch_count_le(s, 0.5), 4);
    cr_assert_eq(sr_sketch_count_le(s, 1), 5);
    cr_assert_eq(sr_sketch_count_le(s, 9), 5);
    cr_assert_eq(sr_sketch_count_le(s, 10), 6);
    cr_assert_eq(sr_sketch_count_le(s, 99), 6);
    cr_assert_eq(sr_sketch_count_le(s, 100), 7);
    cr_assert_eq(sr_sketch_count_le(s, DBL_MAX), 7);
    cr_assert_eq(sr_sketch_count_le(s, INFINITY), 7);
    cr_assert_eq(sr_sketch_count_le(s, NAN), 0);
    /* Within x's own bucket: counted as <= x. */
    cr_assert_eq(sr_sketch_count_le(s, 100 * (1 - A / 4)), 7);
    cr_assert_eq(sr_sketch_count_le(s, -10 * (1 - A / 4)), 1);
    sr_sketch_destroy(s);
}

static uint64_t exact_le(const double *sorted, size_t n, double x)
{
    size_t lo = 0, hi = n; /* first index with sorted[i] > x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

Test(sketch, count_le_is_within_one_bucket)
{
    const double gamma = (1 + A) / (1 - A);
    const dist *d = &dists[8]; /* mixed */
    double *v = sample(d, 4242);
    sr_sketch *s = sketch_of(v, d->n);
    qsort(v, d->n, sizeof *v, cmp_double);
    rng r = {99};
    for (int i = 0; i < 5000; i++) {
        double x = 300.0 * rng_normal(&r);
        if (i % 10 == 0)
            x = v[rng_u64(&r) % d->n]; /* exactly an observation */
        uint64_t c = sr_sketch_count_le(s, x);
        uint64_t lo = exact_le(v, d->n, x);
        uint64_t hi = x > 0   ? exact_le(v, d->n, x * gamma * (1 + 1e-9))
                      : x < 0 ? exact_le(v, d->n, x / gamma * (1 - 1e-9))
                              : lo;
        cr_assert(lo <= c && c <= hi, "x %g: %llu not in [%llu, %llu]", x, (unsigned long long)c,
                  (unsigned long long)lo, (unsigned long long)hi);
    }
    sr_sketch_destroy(s);
    free(v);
}

/* ---- merge ---- */

/* Splits d's sample into three parts by a random choice per value. */
static void three_parts(const dist *d, uint64_t seed, sr_sketch *part[3], sr_sketch **all)
{
    double *v = sample(d, seed);
    rng r = {seed + 1};
    for (int k = 0; k < 3; k++)
        cr_assert_eq(sr_sketch_create(A, &part[k]), 0);
    cr_assert_eq(sr_sketch_create(A, all), 0);
    for (size_t i = 0; i < d->n; i++) {
        cr_assert_eq(sr_sketch_add(part[rng_u64(&r) % 3], v[i]), 0);
        cr_assert_eq(sr_sketch_add(*all, v[i]), 0);
    }
    free(v);
}

Test(sketch, merge_equals_sketch_of_union)
{
    for (size_t i = 0; i < NDISTS; i++) {
        sr_sketch *p[3], *all, *m;
        three_parts(&dists[i], 500 + i, p, &all);
        cr_assert_eq(sr_sketch_create(A, &m), 0);
        for (int k = 0; k < 3; k++)
            cr_assert_eq(sr_sketch_merge(m, p[k]), 0);
        assert_same(m, all);
        for (int k = 0; k < 3; k++)
            sr_sketch_destroy(p[k]);
        sr_sketch_destroy(m);
        sr_sketch_destroy(all);
    }
}

Test(sketch, merge_is_associative_and_commutative)
{
    for (size_t i = 0; i < NDISTS; i++) {
        sr_sketch *p[3], *all, *ab, *ba, *ab_c, *bc, *a_bc;
        three_parts(&dists[i], 900 + i, p, &all);
        cr_assert_eq(sr_sketch_create(A, &ab), 0);
        cr_assert_eq(sr_sketch_create(A, &ba), 0);
        cr_assert_eq(sr_sketch_create(A, &bc), 0);
        cr_assert_eq(sr_sketch_merge(ab, p[0]), 0);
        cr_assert_eq(sr_sketch_merge(ab, p[1]), 0);
        cr_assert_eq(sr_sketch_merge(ba, p[1]), 0);
        cr_assert_eq(sr_sketch_merge(ba, p[0]), 0);
        assert_same(ab, ba);
        ab_c = ab;
        cr_assert_eq(sr_sketch_merge(ab_c, p[2]), 0);
        cr_assert_eq(sr_sketch_merge(bc, p[1]), 0);
        cr_assert_eq(sr_sketch_merge(bc, p[2]), 0);
        a_bc = p[0];
        cr_assert_eq(sr_sketch_merge(a_bc, bc), 0);
        assert_same(ab_c, a_bc);
        assert_same(ab_c, all);
        for (int k = 0; k < 3; k++)
            sr_sketch_destroy(p[k]);
        sr_sketch_destroy(ab);
        sr_sketch_destroy(ba);
        sr_sketch_destroy(bc);
        sr_sketch_destroy(all);
    }
}

Test(sketch, merge_with_itself_doubles)
{
    const dist *d = &dists[8];
    double *v = sample(d, 31);
    sr_sketch *s = sketch_of(v, d->n), *twice = sketch_of(v, d->n);
    for (size_t i = 0; i < d->n; i++)
        cr_assert_eq(sr_sketch_add(twice, v[i]), 0);
    cr_assert_eq(sr_sketch_merge(s, s), 0);
    assert_same(s, twice);
    sr_sketch_destroy(s);
    sr_sketch_destroy(twice);
    free(v);
}

Test(sketch, merge_of_empty_changes_nothing)
{
    const dist *d = &dists[2];
    double *v = sample(d, 32);
    sr_sketch *s = sketch_of(v, d->n), *ref = sketch_of(v, d->n), *e;
    cr_assert_eq(sr_sketch_create(A, &e), 0);
    cr_assert_eq(sr_sketch_merge(s, e), 0);
    assert_same(s, ref);
    cr_assert_eq(sr_sketch_merge(e, s), 0);
    assert_same(e, ref);
    sr_sketch_destroy(s);
    sr_sketch_destroy(ref);
    sr_sketch_destroy(e);
    free(v);
}

Test(sketch, merge_refuses_other_alpha)
{
    sr_sketch *a, *b;
    cr_assert_eq(sr_sketch_create(A, &a), 0);
    cr_assert_eq(sr_sketch_create(0.01, &b), 0);
    cr_assert_eq(sr_sketch_add(a, 1.0), 0);
    cr_assert_eq(sr_sketch_add(b, 2.0), 0);
    unsigned char *before;
    size_t len;
    encode(a, &before, &len);
    cr_assert_eq(sr_sketch_merge(a, b), SR_EINVAL);
    cr_assert_eq(sr_sketch_count(a), 1);
    assert_encodes_to(a, before, len);
    free(before);
    sr_sketch_destroy(a);
    sr_sketch_destroy(b);
}

/* ---- encoding ---- */

/* CRC-32C, bit by bit: independent of the table-driven one in sketch.c. */
static uint32_t crc32c_bitwise(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

/* A hand-made frame of the version-1 format, for forging damaged input. */
typedef struct {
    unsigned char b[4096];
    size_t n;
} frame;

static void fr_byte(frame *f, unsigned v)
{
    cr_assert_lt(f->n, sizeof f->b);
    f->b[f->n++] = (unsigned char)v;
}

static void fr_varint(frame *f, uint64_t v)
{
    while (v >= 0x80) {
        fr_byte(f, (unsigned)(v & 0x7F) | 0x80);
        v >>= 7;
    }
    fr_byte(f, (unsigned)v);
}

static uint64_t zz(int64_t i)
{
    return i < 0 ? ((uint64_t)(-(i + 1)) << 1) | 1 : (uint64_t)i << 1;
}

static void fr_begin(frame *f, unsigned version, double alpha)
{
    uint64_t bits;
    memcpy(&bits, &alpha, sizeof bits);
    f->n = 0;
    fr_byte(f, 0xD5);
    fr_byte(f, version);
    for (int k = 0; k < 8; k++)
        fr_byte(f, (unsigned)(bits >> (8 * k)) & 0xFF);
}

static void fr_end(frame *f)
{
    uint32_t crc = crc32c_bitwise(f->b, f->n);
    for (int k = 0; k < 4; k++)
        fr_byte(f, (crc >> (8 * k)) & 0xFF);
}

/* A sketch with a few values, and its encoding (to compare after a refusal). */
static sr_sketch *dst_with_data(unsigned char **enc, size_t *len)
{
    static const double v[] = {-3, 0, 1.5, 600, 601, 7200};
    sr_sketch *s = sketch_of(v, sizeof v / sizeof v[0]);
    encode(s, enc, len);
    return s;
}

static void assert_refused(const unsigned char *buf, size_t len, int want, const char *what)
{
    unsigned char *before;
    size_t blen;
    sr_sketch *dst = dst_with_data(&before, &blen);
    uint64_t n = sr_sketch_count(dst);
    int rc = sr_sketch_merge_encoded(dst, buf, len);
    cr_assert_eq(rc, want, "%s: got %d, want %d", what, rc, want);
    cr_assert_eq(sr_sketch_count(dst), n, "%s: count changed", what);
    assert_encodes_to(dst, before, blen);
    free(before);
    sr_sketch_destroy(dst);
}

/* The control: buf is accepted and adds `added` observations. */
static void assert_accepted(const unsigned char *buf, size_t len, uint64_t added, const char *what)
{
    unsigned char *before;
    size_t blen;
    sr_sketch *dst = dst_with_data(&before, &blen);
    uint64_t n = sr_sketch_count(dst);
    int rc = sr_sketch_merge_encoded(dst, buf, len);
    cr_assert_eq(rc, 0, "%s: got %d", what, rc);
    cr_assert_eq(sr_sketch_count(dst), n + added, "%s", what);
    free(before);
    sr_sketch_destroy(dst);
}

Test(sketch, crc_is_crc32c)
{
    cr_assert_eq(crc32c_bitwise((const unsigned char *)"123456789", 9), 0xE3069283u);
    const dist *d = &dists[9];
    double *v = sample(d, 5);
    sr_sketch *s = sketch_of(v, d->n);
    unsigned char *e;
    size_t len;
    encode(s, &e, &len);
    uint32_t stored = e[len - 4] | (uint32_t)e[len - 3] << 8 | (uint32_t)e[len - 2] << 16 |
                      (uint32_t)e[len - 1] << 24;
    cr_assert_eq(stored, crc32c_bitwise(e, len - 4));
    cr_assert_eq(e[0], 0xD5);
    cr_assert_eq(e[1], 1);
    free(e);
    free(v);
    sr_sketch_destroy(s);
}

Test(sketch, round_trip_is_identical)
{
    for (size_t i = 0; i < NDISTS; i++) {
        const dist *d = &dists[i];
        double *v = sample(d, 700 + i);
        sr_sketch *s = sketch_of(v, d->n), *t;
        unsigned char *e;
        size_t len;
        encode(s, &e, &len);
        cr_assert_eq(sr_sketch_create(A, &t), 0);
        cr_assert_eq(sr_sketch_merge_encoded(t, e, len), 0, "%s", d->name);
        assert_same(s, t);
        for (size_t k = 0; k < d->n; k += 97) {
            cr_assert_eq(sr_sketch_count_le(s, v[k]), sr_sketch_count_le(t, v[k]));
            cr_assert_eq(sr_sketch_at_rank(s, k + 1), sr_sketch_at_rank(t, k + 1));
        }
        /* Into a non-empty sketch it is a merge. */
        cr_assert_eq(sr_sketch_merge_encoded(t, e, len), 0);
        cr_assert_eq(sr_sketch_merge(s, s), 0);
        assert_same(s, t);
        free(e);
        free(v);
        sr_sketch_destroy(s);
        sr_sketch_destroy(t);
    }
}

Test(sketch, empty_round_trip)
{
    sr_sketch *s, *t;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    cr_assert_eq(sr_sketch_create(A, &t), 0);
    unsigned char *e;
    size_t len;
    encode(s, &e, &len);
    cr_assert_eq(len, 18); /* header 10, four zero varints, CRC 4 */
    cr_assert_eq(sr_sketch_merge_encoded(t, e, len), 0);
    cr_assert_eq(sr_sketch_count(t), 0);
    cr_assert(isnan(sr_sketch_quantile(t, 0.5)));
    free(e);
    sr_sketch_destroy(s);
    sr_sketch_destroy(t);
}

Test(sketch, encoding_is_compact)
{
    rng r = {600};
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(A, &s), 0);
    size_t len100 = 0, len10k = 0;
    for (int i = 1; i <= 10000; i++) {
        cr_assert_eq(sr_sketch_add(s, exp(log(600.0) + 0.5 * rng_normal(&r))), 0);
        if (i == 100 || i == 10000) {
            unsigned char *e;
            size_t len;
            encode(s, &e, &len);
            free(e);
            *(i == 100 ? &len100 : &len10k) = len;
        }
    }
    cr_log_info("encoded: 100 values %zu bytes, 10000 values %zu bytes", len100, len10k);
    cr_assert_lt(len100, 400);
    cr_assert_lt(len10k, 1000);
    /* Far-apart values cost a few bytes each, not the span between them. */
    sr_sketch_clear(s);
    static const double far[] = {1e-300, 1e-3, 1, 1e7, 1e300, -1e-300, -1e300, DBL_MAX};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++)
        cr_assert_eq(sr_sketch_add(s, far[i]), 0);
    unsigned char *e;
    size_t len;
    encode(s, &e, &len);
    cr_assert_lt(len, 80);
    free(e);
    sr_sketch_destroy(s);
}

Test(sketch, truncated_buffers_are_refused)
{
    const dist *d = &dists[8];
    double *v = sample(d, 6);
    sr_sketch *s = sketch_of(v, 300);
    unsigned char *e;
    size_t len;
    encode(s, &e, &len);
    for (size_t n = 0; n < len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past the end. */
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, e, n);
        assert_refused(cut, n, SR_ECORRUPT, "truncated");
        free(cut);
    }
    assert_refused(NULL, 0, SR_ECORRUPT, "NULL");
    free(e);
    free(v);
    sr_sketch_destroy(s);
}

Test(sketch, flipped_bits_are_refused)
{
    const dist *d = &dists[8];
    double *v = sample(d, 7);
    sr_sketch *s = sketch_of(v, 200);
    unsigned char *e;
    size_t len;
    encode(s, &e, &len);
    for (size_t i = 0; i < len; i++) {
        for (int b = 0; b < 8; b++) {
            e[i] ^= (unsigned char)(1u << b);
            assert_refused(e, len, SR_ECORRUPT, "bit flip");
            e[i] ^= (unsigned char)(1u << b);
        }
    }
    /* Trailing junk after a valid encoding. */
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, e, len);
    longer[len] = 0;
    assert_refused(longer, len + 1, SR_ECORRUPT, "trailing byte");
    free(longer);
    free(e);
    free(v);
    sr_sketch_destroy(s);
}

Test(sketch, garbage_is_refused)
{
    rng r = {8};
    unsigned char buf[300];
    for (int t = 0; t < 3000; t++) {
        size_t n = rng_u64(&r) % sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)rng_u64(&r);
        if (t % 2 && n > 0)
            buf[0] = 0xD5; /* get past the magic byte */
        assert_refused(buf, n, SR_ECORRUPT, "garbage");
    }
}

Test(sketch, garbage_with_a_valid_checksum_is_refused)
{
    /* Random bodies behind a correct header and CRC: the parser itself must refuse. */
    rng r = {9};
    int accepted = 0;
    for (int t = 0; t < 3000; t++) {
        frame f;
        fr_begin(&f, 1, A);
        size_t n = rng_u64(&r) % 60;
        for (size_t i = 0; i < n; i++)
            fr_byte(&f, (unsigned)rng_u64(&r) & 0xFF);
        fr_end(&f);
        sr_sketch *dst;
        cr_assert_eq(sr_sketch_create(A, &dst), 0);
        int rc = sr_sketch_merge_encoded(dst, f.b, f.n);
        cr_assert(rc == 0 || rc == SR_ECORRUPT || rc == SR_ERANGE, "rc %d", rc);
        if (rc == 0) {
            accepted++; /* a body that happens to be well-formed: must be consistent */
            cr_assert_geq(sr_sketch_count_le(dst, INFINITY), sr_sketch_count(dst));
        } else {
            cr_assert_eq(sr_sketch_count(dst), 0);
        }
        sr_sketch_destroy(dst);
    }
    cr_assert_lt(accepted, 30);
}

/* A frame with one run of len counts (count, then zeros) in the positive store. */
static void fr_one_run(frame *f, uint64_t n, uint64_t zero, uint64_t runs, uint64_t start,
                       uint64_t len, uint64_t count)
{
    fr_begin(f, 1, A);
    fr_varint(f, n);
    fr_varint(f, zero);
    fr_varint(f, runs);
    fr_varint(f, start);
    fr_varint(f, len);
    for (uint64_t k = 0; k < len && k < 100; k++)
        fr_varint(f, k == 0 ? count : 0);
    fr_varint(f, 0); /* negative runs */
    fr_end(f);
}

/*
 * The encoder's runs against the format written out by hand: counts at
 * chosen buckets, sparse to dense, across 64-bucket words, 128-bucket
 * pages and whole empty pages, with gaps of every length around RUN_GAP
 * (a run goes on over at most two empty buckets).
 */
Test(sketch, runs_split_at_gaps_wherever_the_buckets_lie)
{
    const double ln_gamma = log1p(A) - log1p(-A);
    const int64_t idx_min = (int64_t)ceil(log(DBL_TRUE_MIN) / ln_gamma);
    const int64_t first = ((-idx_min) / 128 + 2) * 128; /* a page's first key, near value 1 */
    enum { SPAN = 520 };
    rng r = {21};
    for (int t = 0; t < 400; t++) {
        uint64_t count[SPAN] = {0};
        uint64_t dense = 1 + rng_u64(&r) % 100; /* percent of buckets with a count */
        sr_sketch *s;
        cr_assert_eq(sr_sketch_create(A, &s), 0);
        uint64_t n = 0;
        for (int k = 0; k < SPAN; k++) {
            bool edge = k % 64 == 0 || k % 64 == 63 || k % 128 == 3;
            if (k >= 260 && k < 390 && t % 2)
                continue; /* a whole page empty */
            if (rng_u64(&r) % 100 >= dense && !(edge && t % 3 == 0))
                continue;
            double v = exp((double)(first + k + idx_min - 0.5) * ln_gamma);
            if (sr_sketch_bucket(s, v) - 1 != first + k)
                continue; /* not this bucket's after all: leave it empty */
            count[k] = 1 + rng_u64(&r) % 3;
            for (uint64_t c = 0; c < count[k]; c++)
                cr_assert_eq(sr_sketch_add(s, v), 0);
            n += count[k];
        }
        frame f;
        fr_begin(&f, 1, A);
        fr_varint(&f, n);
        fr_varint(&f, 0);
        uint64_t runs = 0;
        for (int k = 0, last = -100; k < SPAN; k++) {
            if (count[k]) {
                runs += k - last > 3;
                last = k;
            }
        }
        fr_varint(&f, runs);
        int prev_end = -1;
        for (int k = 0; k < SPAN;) {
            if (!count[k]) {
                k++;
                continue;
            }
            int end = k;
            for (int j = k + 1; j < SPAN && j - end <= 3; j++) {
                if (count[j])
                    end = j;
            }
            fr_varint(&f, prev_end < 0 ? zz(first + k + idx_min) : (uint64_t)(k - prev_end));
            fr_varint(&f, (uint64_t)(end - k + 1));
            for (int j = k; j <= end; j++)
                fr_varint(&f, count[j]);
            prev_end = end + 1;
            k = end + 1;
        }
        fr_varint(&f, 0); /* negative runs */
        fr_end(&f);
        unsigned char *b;
        size_t len;
        cr_assert_eq(sr_sketch_encode(s, &b, &len), 0);
        cr_assert(len == f.n && memcmp(b, f.b, len) == 0,
                  "round %d (%llu%% dense): %zu bytes, want %zu", t, (unsigned long long)dense, len,
                  f.n);
        free(b);
        sr_sketch_destroy(s);
    }
}

/* Well-formed frames with one defect each. */
Test(sketch, forged_frames_are_refused)
{
    frame f;
    /* The buckets of the smallest and largest positive doubles. */
    const double ln_gamma = log1p(A) - log1p(-A);
    const int64_t idx_min = (int64_t)ceil(log(DBL_TRUE_MIN) / ln_gamma);
    const int64_t idx_max = (int64_t)ceil(log(DBL_MAX) / ln_gamma);

    /* Positive control: the forger makes frames the decoder accepts. */
    fr_begin(&f, 1, A);
    fr_varint(&f, 5);       /* n */
    fr_varint(&f, 1);       /* zero */
    fr_varint(&f, 2);       /* positive runs */
    fr_varint(&f, zz(640)); /* start */
    fr_varint(&f, 2);       /* length */
    fr_varint(&f, 1);
    fr_varint(&f, 2);
    fr_varint(&f, 10); /* skip 10 empty buckets */
    fr_varint(&f, 1);
    fr_varint(&f, 1);
    fr_varint(&f, 0); /* negative runs */
    fr_end(&f);
    sr_sketch *ok;
    cr_assert_eq(sr_sketch_create(A, &ok), 0);
    cr_assert_eq(sr_sketch_merge_encoded(ok, f.b, f.n), 0);
    cr_assert_eq(sr_sketch_count(ok), 5);
    const double gamma = (1 + A) / (1 - A);
    cr_assert_eq(sr_sketch_at_rank(ok, 1), 0.0);
    cr_assert(rel_err(sr_sketch_at_rank(ok, 2), pow(gamma, 640) * (1 - A)) < 1e-9);
    cr_assert(rel_err(sr_sketch_at_rank(ok, 4), pow(gamma, 641) * (1 - A)) < 1e-9);
    cr_assert(rel_err(sr_sketch_at_rank(ok, 5), pow(gamma, 652) * (1 - A)) < 1e-9);
    sr_sketch_destroy(ok);
    /* Runs that end exactly at the last bucket or start at the first are fine. */
    fr_one_run(&f, 1, 0, 1, zz(idx_max - 9), 10, 1);
    assert_accepted(f.b, f.n, 1, "run up to the last bucket");
    fr_one_run(&f, 1, 0, 1, zz(idx_max), 1, 1);
    assert_accepted(f.b, f.n, 1, "run at the last bucket");
    fr_one_run(&f, 1, 0, 1, zz(idx_min), 1, 1);
    assert_accepted(f.b, f.n, 1, "run at the first bucket");

    struct {
        const char *what;
        uint64_t n, zero, runs, start, len, count;
    } one_run[] = {
        {"count mismatch", 5, 1, 1, zz(10), 1, 3},
        {"index above the range", 1, 0, 1, zz(idx_max + 1), 1, 1},
        {"index below the range", 1, 0, 1, zz(idx_min - 1), 1, 1},
        {"zigzag of INT64_MIN", 1, 0, 1, UINT64_MAX, 1, 1},
        {"empty run", 0, 0, 1, zz(10), 0, 0},
        {"run past the last bucket", 1, 0, 1, zz(idx_max - 5), 10, 1},
        {"run one past the last bucket", 1, 0, 1, zz(idx_max - 9), 11, 1},
        {"run longer than the buffer", 1, 0, 1, zz(10), 1000, 1},
        {"more runs than bytes", 1, 0, UINT64_C(1) << 60, zz(10), 1, 1},
        {"count sum overflows", 1, UINT64_MAX, 1, zz(10), 1, 2},
    };
    for (size_t i = 0; i < sizeof one_run / sizeof one_run[0]; i++) {
        fr_one_run(&f, one_run[i].n, one_run[i].zero, one_run[i].runs, one_run[i].start,
                   one_run[i].len, one_run[i].count);
        assert_refused(f.b, f.n, SR_ECORRUPT, one_run[i].what);
    }

    /* A later run whose skip runs past the last bucket. */
    fr_begin(&f, 1, A);
    fr_varint(&f, 2);
    fr_varint(&f, 0);
    fr_varint(&f, 2);
    fr_varint(&f, zz(10));
    fr_varint(&f, 1);
    fr_varint(&f, 1);
    fr_varint(&f, UINT64_MAX); /* skip */
    fr_varint(&f, 1);
    fr_varint(&f, 1);
    fr_varint(&f, 0);
    fr_end(&f);
    assert_refused(f.b, f.n, SR_ECORRUPT, "skip overflow");

    /*
     * A varint of 11 bytes; a tenth byte with more than the 64th bit (n would
     * wrap to 0, which would make the frame valid).
     */
    fr_begin(&f, 1, A);
    for (int k = 0; k < 10; k++)
        fr_byte(&f, 0x80);
    fr_byte(&f, 0x00);
    fr_varint(&f, 0);
    fr_varint(&f, 0);
    fr_varint(&f, 0);
    fr_end(&f);
    assert_refused(f.b, f.n, SR_ECORRUPT, "11-byte varint");
    fr_begin(&f, 1, A);
    for (int k = 0; k < 9; k++)
        fr_byte(&f, 0x80);
    fr_byte(&f, 0x02);
    fr_varint(&f, 0);
    fr_varint(&f, 0);
    fr_varint(&f, 0);
    fr_end(&f);
    assert_refused(f.b, f.n, SR_ECORRUPT, "varint past 64 bits");

    /* The negative store is missing; then a byte too many. */
    fr_begin(&f, 1, A);
    fr_varint(&f, 0);
    fr_varint(&f, 0);
    fr_varint(&f, 0);
    fr_end(&f);
    assert_refused(f.b, f.n, SR_ECORRUPT, "missing store");
    fr_begin(&f, 1, A);
    for (int k = 0; k < 5; k++)
        fr_varint(&f, 0);
    fr_end(&f);
    assert_refused(f.b, f.n, SR_ECORRUPT, "extra byte");

    /* Wrong magic with a valid CRC; version 0. */
    fr_begin(&f, 1, A);
    for (int k = 0; k < 4; k++)
        fr_varint(&f, 0);
    f.b[0] = 0xD4;
    fr_end(&f);
    assert_refused(f.b, f.n, SR_ECORRUPT, "magic");
    fr_begin(&f, 0, A);
    for (int k = 0; k < 4; k++)
        fr_varint(&f, 0);
    fr_end(&f);
    assert_refused(f.b, f.n, SR_ECORRUPT, "version 0");
}

Test(sketch, newer_version_is_refused)
{
    frame f;
    fr_begin(&f, 2, A);
    for (int k = 0; k < 4; k++)
        fr_varint(&f, 0);
    fr_end(&f);
    assert_refused(f.b, f.n, SR_EVERSION, "version 2");
}

Test(sketch, other_alpha_is_refused)
{
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(0.01, &s), 0);
    for (int i = 1; i <= 100; i++)
        cr_assert_eq(sr_sketch_add(s, i), 0);
    unsigned char *e;
    size_t len;
    encode(s, &e, &len);
    assert_refused(e, len, SR_EINVAL, "alpha 0.01 into 0.005");
    free(e);
    sr_sketch_destroy(s);
    /* The same alpha is accepted (the control). */
    frame f;
    fr_begin(&f, 1, A);
    for (int k = 0; k < 4; k++)
        fr_varint(&f, 0);
    fr_end(&f);
    assert_accepted(f.b, f.n, 0, "alpha 0.005 into 0.005");
}

Test(sketch, counts_never_overflow)
{
    /* A valid frame holding UINT64_MAX zeros. */
    frame f;
    fr_begin(&f, 1, A);
    fr_varint(&f, UINT64_MAX);
    fr_varint(&f, UINT64_MAX);
    fr_varint(&f, 0);
    fr_varint(&f, 0);
    fr_end(&f);
    sr_sketch *big, *one;
    cr_assert_eq(sr_sketch_create(A, &big), 0);
    cr_assert_eq(sr_sketch_merge_encoded(big, f.b, f.n), 0);
    cr_assert_eq(sr_sketch_count(big), UINT64_MAX);
    cr_assert_eq(sr_sketch_quantile(big, 1.0), 0.0);
    cr_assert_eq(sr_sketch_add(big, 1.0), SR_ERANGE);
    cr_assert_eq(sr_sketch_count(big), UINT64_MAX);
    cr_assert_eq(sr_sketch_create(A, &one), 0);
    cr_assert_eq(sr_sketch_add(one, 1.0), 0);
    cr_assert_eq(sr_sketch_merge(big, one), SR_ERANGE);
    cr_assert_eq(sr_sketch_count(big), UINT64_MAX);
    cr_assert_eq(sr_sketch_merge(one, big), SR_ERANGE);
    cr_assert_eq(sr_sketch_count(one), 1);
    assert_refused(f.b, f.n, SR_ERANGE, "count past UINT64_MAX");
    sr_sketch_destroy(big);
    sr_sketch_destroy(one);
}

Test(sketch, buckets_order_like_values_and_locate_every_rank)
{
    sr_sketch *s;
    cr_assert_eq(sr_sketch_create(SR_SKETCH_ALPHA, &s), 0);
    enum { N = 3000 };
    static double v[N];
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int k = (int)(x >> 60);
        v[i] = k < 2 ? 0 : k < 6 ? -(double)(x >> 40) / 1e3 : (double)(x >> 38) / 1e4;
        cr_assert_eq(sr_sketch_add(s, v[i]), 0);
    }
    qsort(v, N, sizeof v[0], cmp_double);
    for (int i = 1; i < N; i++)
        cr_assert_leq(sr_sketch_bucket(s, v[i - 1]), sr_sketch_bucket(s, v[i]));
    cr_assert_eq(sr_sketch_bucket(s, 0), 0);
    cr_assert_lt(sr_sketch_bucket(s, -1e-3), 0);
    cr_assert_gt(sr_sketch_bucket(s, 1e-3), 0);
    for (uint64_t r = 1; r <= N; r++) {
        int64_t b;
        uint64_t below;
        cr_assert_eq(sr_sketch_rank_bucket(s, r, &b, &below), 0);
        cr_assert_eq(sr_sketch_bucket(s, v[r - 1]), b, "rank %llu", (unsigned long long)r);
        uint64_t want = 0;
        while (want < N && sr_sketch_bucket(s, v[want]) < b)
            want++;
        cr_assert_eq(below, want, "rank %llu", (unsigned long long)r);
        cr_assert_eq(sr_sketch_count_below(s, b), below);
    }
    int64_t b;
    uint64_t below;
    cr_assert_eq(sr_sketch_rank_bucket(s, 0, &b, &below), SR_EINVAL);
    cr_assert_eq(sr_sketch_rank_bucket(s, N + 1, &b, &below), SR_EINVAL);
    sr_sketch_destroy(s);
}
