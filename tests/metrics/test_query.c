/*
 * Tests of metrics/query.c: every aggregate against hand-computed values,
 * both percentile methods, pooling over the tree, window boundaries, empty
 * windows, gauges, counters, ratios, children, series, comparisons, and
 * rollup-based answers against a brute-force computation.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>

#include "../../metrics/memo.h"
#include "../../metrics/query.h"
#include "../../metrics/sketch.h"
#include "../../metrics/store.h"
#include "../helpers.h"
#include "catalog.h"

#define T0 1704067200000LL /* 2024-01-01T00:00:00Z, on an hour */
#define MIN SR_MS_MIN

static char dir[256];
static sr_store *st;
static sr_metric_def defs[8];
static sr_catalog cat = {defs, 0};

static void add_def(const char *name, sr_kind kind)
{
    th_add_def(&cat, sizeof defs / sizeof defs[0], st, name, kind);
}

static void put(const char *metric, const char *entity, sr_ms ts, double v)
{
    static int seq;
    char key[32];
    snprintf(key, sizeof key, "k%d", seq++);
    sr_sample s = {metric, entity, ts, v, key};
    bool dup;
    cr_assert_eq(sr_store_put(st, &s, &dup), 0);
    cr_assert_not(dup);
}

static void setup(void)
{
    st = th_store_in(dir, sizeof dir, "q.db");
    cat.n = 0;
    add_def("rt", SR_KIND_EVENT);
    defs[0].target = 10;
    add_def("rtl", SR_KIND_EVENT);
    defs[1].percentile = SR_PCT_LINEAR;
    add_def("open", SR_KIND_GAUGE);
    add_def("ot", SR_KIND_COUNTER);
    add_def("reg", SR_KIND_COUNTER);
    add_def("share", SR_KIND_RATIO);
    snprintf(defs[5].numerator, SR_NAME_MAX, "ot");
    snprintf(defs[5].denominator, SR_NAME_MAX, "reg");
    defs[5].scale = 100;

    cr_assert_eq(sr_store_begin(st), 0);
    static const struct {
        const char *e;
        int min;
        double v;
    } ev[] = {{"force/a/u1", 1, 5},  {"force/a/u1", 2, 15}, {"force/a/u1", 3, 25},
              {"force/a/u2", 4, 10}, {"force/b/u3", 5, 1},  {"force/b/u3", 6, 2},
              {"force/b/u3", 7, 100}};
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
        put("rt", ev[i].e, T0 + ev[i].min * MIN, ev[i].v);
        put("rtl", ev[i].e, T0 + ev[i].min * MIN, ev[i].v);
    }
    put("rt", "force/a/u1", T0 - 7 * SR_MS_DAY + MIN, 50); /* a week earlier */
    put("open", "force/a/u1", T0 + 5 * MIN, 50);
    put("open", "force/a/u1", T0 + 20 * MIN, 55);
    put("open", "force/a/u2", T0 + 10 * MIN, 30);
    put("open", "force/b/u3", T0 + 50 * MIN, 7);
    put("open", "force/b/u4", T0 - 3 * SR_MS_DAY, 1000);
    put("ot", "force/a/u1", T0, 2);
    put("ot", "force/a/u2", T0 + 30 * MIN, 3);
    put("ot", "force/b/u3", T0 + 59 * MIN, 5);
    put("reg", "force/a/u1", T0, 10);
    put("reg", "force/a/u2", T0 + 30 * MIN, 10);
    put("reg", "force/b/u3", T0 + 59 * MIN, 100);
    cr_assert_eq(sr_store_commit(st), 0);
}

static void teardown(void)
{
    sr_store_close(st);
    th_rmtree(dir);
}

TestSuite(query, .init = setup, .fini = teardown);

static int64_t exact_max; /* 0 = the default */
static int64_t raw_max;   /* 0 = the default */

static sr_result run(const char *metric, const char *entity, const char *agg, sr_ms from, sr_ms to)
{
    sr_query q = {.metric = metric,
                  .entity = entity,
                  .from_ms = from,
                  .to_ms = to,
                  .exact_max = exact_max,
                  .raw_max = raw_max};
    if (agg)
        cr_assert_eq(sr_agg_parse(agg, &q.agg), 0);
    else
        q.agg.kind = SR_AGG_VALUE;
    sr_result r;
    int rc = sr_query_run(st, &cat, &q, &r);
    cr_assert_eq(rc, 0, "%s %s %s: %s", metric, entity ? entity : "", agg ? agg : "",
                 sr_strerror(rc));
    return r;
}

#define HOUR(from) (from), (from) + SR_MS_HOUR
#define EPS 1e-9

Test(query, event_aggregates_whole_tree)
{
    cr_assert_float_eq(run("rt", "", "count", HOUR(T0)).value, 7, EPS);
    cr_assert_float_eq(run("rt", NULL, "sum", HOUR(T0)).value, 158, EPS);
    cr_assert_float_eq(run("rt", "", "avg", HOUR(T0)).value, 158.0 / 7, EPS);
    cr_assert_float_eq(run("rt", "", "min", HOUR(T0)).value, 1, EPS);
    cr_assert_float_eq(run("rt", "", "max", HOUR(T0)).value, 100, EPS);
    cr_assert_float_eq(run("rt", "", "last", HOUR(T0)).value, 100, EPS);
    /* within target 10: 1, 2, 5, 10 of seven */
    cr_assert_float_eq(run("rt", "", "within", HOUR(T0)).value, 400.0 / 7, 1e-9);
    sr_result r = run("rt", "force", "count", HOUR(T0));
    cr_assert_eq(r.n, 7);
}

Test(query, percentiles_both_methods)
{
    /* sorted: 1 2 5 10 15 25 100 */
    cr_assert_float_eq(run("rt", "", "p50", HOUR(T0)).value, 10, EPS);  /* rank ceil(3.5)=4 */
    cr_assert_float_eq(run("rt", "", "p90", HOUR(T0)).value, 100, EPS); /* rank ceil(6.3)=7 */
    cr_assert_float_eq(run("rt", "", "p10", HOUR(T0)).value, 1, EPS);   /* rank ceil(0.7)=1 */
    cr_assert_float_eq(run("rt", "", "p100", HOUR(T0)).value, 100, EPS);
    /* linear (R type 7): h = 6p */
    cr_assert_float_eq(run("rtl", "", "p50", HOUR(T0)).value, 10, EPS);
    cr_assert_float_eq(run("rtl", "", "p90", HOUR(T0)).value, 25 + 0.4 * 75, EPS);
    cr_assert_float_eq(run("rtl", "", "p25", HOUR(T0)).value, 2 + 0.5 * 3, EPS);
    sr_result r = run("rt", "", "p90", HOUR(T0));
    cr_assert(r.exact);
}

Test(query, pools_descendants)
{
    /* force/a: 5 10 15 25 */
    cr_assert_float_eq(run("rt", "force/a", "count", HOUR(T0)).value, 4, EPS);
    cr_assert_float_eq(run("rt", "force/a", "sum", HOUR(T0)).value, 55, EPS);
    cr_assert_float_eq(run("rt", "force/a", "p50", HOUR(T0)).value, 10, EPS);
    cr_assert_float_eq(run("rt", "force/a/u1", "p90", HOUR(T0)).value, 25, EPS);
    /* force/b: 1 2 100; p50 = rank 2 */
    cr_assert_float_eq(run("rt", "force/b", "p50", HOUR(T0)).value, 2, EPS);
    /* the parent's p50 (10) is not the mean of its children's (10, 2) */
    cr_assert_float_eq(run("rt", "force", "p50", HOUR(T0)).value, 10, EPS);
}

Test(query, window_is_half_open)
{
    /* [1m, 4m): 5 15 25; the sample at 4m is out, the one at 1m in */
    cr_assert_float_eq(run("rt", "", "count", T0 + MIN, T0 + 4 * MIN).value, 3, EPS);
    cr_assert_float_eq(run("rt", "", "sum", T0 + MIN, T0 + 4 * MIN).value, 45, EPS);
    cr_assert_float_eq(run("rt", "", "count", T0 + MIN + 1, T0 + 4 * MIN + 1).value, 3, EPS);
}

Test(query, empty_window_has_no_value_and_a_count_of_0)
{
    /* nothing happened: a count of 0, not "no data" (issue 13) */
    sr_result r = run("rt", "", "count", HOUR(T0 + 2 * SR_MS_HOUR));
    cr_assert(r.value == 0, "%g", r.value);
    cr_assert_eq(r.n, 0);
    cr_assert(isnan(run("rt", "", "p90", HOUR(T0 + 2 * SR_MS_HOUR)).value));
    cr_assert(isnan(run("ot", "", "sum", HOUR(T0 + 2 * SR_MS_HOUR)).value));
    cr_assert(isnan(run("open", "", NULL, HOUR(T0 + 2 * SR_MS_HOUR)).value));
    cr_assert(isnan(run("share", "", NULL, HOUR(T0 + 2 * SR_MS_HOUR)).value));
}

Test(query, unknown_things_are_errors)
{
    sr_query q = {.metric = "nope", .from_ms = T0, .to_ms = T0 + 1};
    sr_result r;
    cr_assert_eq(sr_query_run(st, &cat, &q, &r), SR_ENOENT);
    q.metric = "rt";
    q.entity = "force/zzz";
    cr_assert_eq(sr_query_run(st, &cat, &q, &r), SR_ENOENT);
    q.entity = NULL;
    q.agg = (sr_agg){SR_AGG_PCT, 90};
    q.metric = "open"; /* no percentile of a level */
    cr_assert_eq(sr_query_run(st, &cat, &q, &r), SR_EINVAL);
}

Test(query, gauge_sums_latest_per_entity)
{
    /* last hour: u1 55 (its newer sample), u2 30, u3 7 */
    sr_result r = run("open", "force", NULL, HOUR(T0));
    cr_assert_float_eq(r.value, 92, EPS);
    cr_assert_eq(r.n, 3);
    cr_assert_float_eq(run("open", "force/a", "last", HOUR(T0)).value, 85, EPS);
    /* first quarter hour: u1 50, u2 30 */
    cr_assert_float_eq(run("open", "", NULL, T0, T0 + 15 * MIN).value, 80, EPS);
    /* a week-long window reaches u4's report three days ago (via hourly cells) */
    cr_assert_float_eq(run("open", "", NULL, T0 - 6 * SR_MS_DAY, T0 + SR_MS_HOUR).value, 1092, EPS);
    cr_assert_float_eq(run("open", "force/b", "max", T0 - 6 * SR_MS_DAY, T0 + SR_MS_HOUR).value,
                       1000, EPS);
}

Test(query, counter_sums_and_ratio_divides_pooled_parts)
{
    cr_assert_float_eq(run("ot", "", NULL, HOUR(T0)).value, 10, EPS);
    cr_assert_float_eq(run("ot", "force/a", "sum", HOUR(T0)).value, 5, EPS);
    /* force: 10 / 120; force/a 5 / 20; force/b 5 / 100 */
    cr_assert_float_eq(run("share", "force", NULL, HOUR(T0)).value, 1000.0 / 120, 1e-9);
    cr_assert_float_eq(run("share", "force/a", NULL, HOUR(T0)).value, 25, 1e-9);
    cr_assert_float_eq(run("share", "force/b", NULL, HOUR(T0)).value, 5, 1e-9);
}

Test(query, children_one_row_each)
{
    sr_query q = {.metric = "rt",
                  .entity = "force",
                  .agg = {SR_AGG_PCT, 50},
                  .from_ms = T0,
                  .to_ms = T0 + SR_MS_HOUR};
    sr_child_result *kids;
    size_t n;
    cr_assert_eq(sr_query_children(st, &cat, &q, &kids, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(kids[0].entity, "force/a");
    cr_assert_float_eq(kids[0].r.value, 10, EPS);
    cr_assert_str_eq(kids[1].entity, "force/b");
    cr_assert_float_eq(kids[1].r.value, 2, EPS);
    free(kids);
}

Test(query, series_slices_the_window)
{
    sr_query q = {.metric = "rt", .agg = {SR_AGG_COUNT, 0}, .from_ms = T0, .to_ms = T0 + 10 * MIN};
    double v[10];
    cr_assert_eq(sr_query_series(st, &cat, &q, 10, v), 0);
    cr_assert(v[0] == 0, "a slice where nothing happened counts 0: %g", v[0]);
    for (int i = 1; i <= 7; i++)
        cr_assert_float_eq(v[i], 1, EPS, "slice %d", i);
    cr_assert(v[8] == 0 && v[9] == 0);
}

Test(query, compare_previous_and_last_week)
{
    sr_query q = {.metric = "rt", .agg = {SR_AGG_PCT, 90}, .from_ms = T0, .to_ms = T0 + SR_MS_HOUR};
    sr_compare c;
    cr_assert_eq(sr_query_compare(st, &cat, &q, &c), 0);
    cr_assert_float_eq(c.now.value, 100, EPS);
    cr_assert(isnan(c.prev.value));
    cr_assert_float_eq(c.week_ago.value, 50, EPS);
}

Test(query, percentile_sorted_reference_values)
{
    double v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    cr_assert_float_eq(sr_percentile_sorted(v, 10, 90, SR_PCT_NEAREST_RANK), 9, EPS);
    cr_assert_float_eq(sr_percentile_sorted(v, 10, 90, SR_PCT_LINEAR), 9.1, 1e-12);
    cr_assert_float_eq(sr_percentile_sorted(v, 10, 50, SR_PCT_NEAREST_RANK), 5, EPS);
    cr_assert_float_eq(sr_percentile_sorted(v, 10, 50, SR_PCT_LINEAR), 5.5, EPS);
    cr_assert_float_eq(sr_percentile_sorted(v, 10, 100, SR_PCT_NEAREST_RANK), 10, EPS);
    cr_assert_float_eq(sr_percentile_sorted(v, 1, 99, SR_PCT_LINEAR), 1, EPS);
    cr_assert(isnan(sr_percentile_sorted(v, 0, 50, SR_PCT_LINEAR)));
}

/* ---- rollups against brute force ---- */

typedef struct {
    sr_ms ts;
    double v;
    int unit;
} obs;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

Test(query, rollups_agree_with_brute_force)
{
    /* 35 days, ~6000 observations over 8 units in 2 districts */
    enum { N = 6000 };
    static obs o[N];
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = 0; i < N; i++) {
        o[i].ts = T0 - 35 * SR_MS_DAY + (sr_ms)(next_rand() % (35ULL * SR_MS_DAY));
        o[i].v = 30 + (double)(next_rand() % 100000) / 37.0;
        o[i].unit = (int)(next_rand() % 8);
        char e[64];
        snprintf(e, sizeof e, "city/d%d/u%d", o[i].unit / 4, o[i].unit);
        put("rt", e, o[i].ts, o[i].v);
    }
    cr_assert_eq(sr_store_commit(st), 0);
    static const struct {
        sr_ms from, to;
        const char *entity;
        int district;
    } w[] = {
        {T0 - 30 * SR_MS_DAY + 12345, T0 - 17, "city", -1},
        {T0 - 30 * SR_MS_DAY, T0, "city/d1", 1},
        {T0 - 3 * SR_MS_DAY - 59999, T0 - 2 * SR_MS_DAY + 61001, "city/d0", 0},
        {T0 - 20 * SR_MS_HOUR + 30000, T0 - 2 * SR_MS_HOUR - 30000, "city", -1},
    };
    static double vals[N];
    for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
        size_t n = 0;
        double sum = 0, mn = INFINITY, mx = -INFINITY;
        for (int i = 0; i < N; i++) {
            if (o[i].ts < w[k].from || o[i].ts >= w[k].to)
                continue;
            if (w[k].district >= 0 && o[i].unit / 4 != w[k].district)
                continue;
            vals[n++] = o[i].v;
            sum += o[i].v;
            mn = fmin(mn, o[i].v);
            mx = fmax(mx, o[i].v);
        }
        cr_assert_gt(n, 10);
        qsort(vals, n, sizeof vals[0], cmp_double);
        cr_assert_float_eq(run("rt", w[k].entity, "count", w[k].from, w[k].to).value, (double)n,
                           EPS, "window %zu", k);
        cr_assert_float_eq(run("rt", w[k].entity, "sum", w[k].from, w[k].to).value, sum, 1e-6 * sum,
                           "window %zu", k);
        cr_assert_float_eq(run("rt", w[k].entity, "min", w[k].from, w[k].to).value, mn, EPS);
        cr_assert_float_eq(run("rt", w[k].entity, "max", w[k].from, w[k].to).value, mx, EPS);
        for (double p = 10; p <= 99; p += 11) {
            char agg[16];
            snprintf(agg, sizeof agg, "p%g", p);
            double exact = sr_percentile_sorted(vals, n, p, SR_PCT_NEAREST_RANK);
            /* few observations: exact whatever the window */
            exact_max = 0;
            sr_result r = run("rt", w[k].entity, agg, w[k].from, w[k].to);
            cr_assert(r.exact);
            cr_assert_float_eq(r.value, exact, EPS, "window %zu %s", k, agg);
            /* many (here: more than 100): long windows come from the sketches */
            exact_max = 100;
            r = run("rt", w[k].entity, agg, w[k].from, w[k].to);
            if (w[k].to - w[k].from <= 48 * SR_MS_HOUR) {
                cr_assert(r.exact);
                cr_assert_float_eq(r.value, exact, EPS, "window %zu %s", k, agg);
            } else {
                cr_assert_not(r.exact);
                cr_assert(fabs(r.value - exact) <= SR_SKETCH_ALPHA * exact * (1 + 1e-9),
                          "window %zu %s: %g vs exact %g", k, agg, r.value, exact);
            }
            exact_max = 0;
        }
    }
}

/* A series computed slice by slice with sr_query_run, as sr_query_series
 * defines it (a level's slice looks back to the window's start). */
static void series_by_slices(const sr_query *q, size_t buckets, bool level, double *out)
{
    sr_ms len = q->to_ms - q->from_ms;
    sr_ms slice = (len + (sr_ms)buckets - 1) / (sr_ms)buckets;
    slice = slice <= SR_MS_SEC ? SR_MS_SEC : sr_ceil_ms(slice, SR_MS_SEC);
    sr_ms end = sr_ceil_ms(q->to_ms, slice);
    for (size_t i = 0; i < buckets; i++) {
        sr_query bq = *q;
        bq.from_ms = end - (sr_ms)(buckets - i) * slice;
        bq.to_ms = bq.from_ms + slice < q->to_ms ? bq.from_ms + slice : q->to_ms;
        out[i] = NAN;
        if (bq.to_ms <= bq.from_ms)
            continue;
        if (level && q->from_ms < bq.from_ms)
            bq.from_ms = q->from_ms;
        sr_result r;
        cr_assert_eq(sr_query_run(st, &cat, &bq, &r), 0);
        out[i] = r.value;
    }
}

Test(query, level_series_in_one_pass_equal_slice_by_slice)
{
    add_def("cap", SR_KIND_GAUGE);
    add_def("util", SR_KIND_RATIO);
    snprintf(defs[7].numerator, SR_NAME_MAX, "open");
    snprintf(defs[7].denominator, SR_NAME_MAX, "cap");
    defs[7].scale = 100;
    static const char *const ents[] = {"force/a/u1", "force/a/u2", "force/b/u3", "force/b/u4",
                                       "force/c"};
    srand(7);
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = 0; i < 400; i++) {
        const char *e = ents[rand() % 5];
        sr_ms ts = T0 - SR_MS_HOUR + (sr_ms)(rand() % (6 * 3600)) * SR_MS_SEC;
        put(rand() % 2 ? "open" : "cap", e, ts, (double)(rand() % 100));
    }
    cr_assert_eq(sr_store_commit(st), 0);
    static const struct {
        sr_ms from, len;
    } w[] = {{T0, SR_MS_HOUR},
             {T0 + 7 * MIN + 3 * SR_MS_SEC, SR_MS_HOUR},
             {T0 + 13 * MIN, 3 * SR_MS_HOUR + 17 * MIN},
             {T0 + 2 * MIN, 20 * MIN},
             {T0 - 2 * SR_MS_HOUR, 8 * SR_MS_HOUR}};
    static const size_t nb[] = {30, 7, 1};
    static const struct {
        const char *metric;
        sr_agg_kind agg;
    } m[] = {{"open", SR_AGG_VALUE}, {"open", SR_AGG_LAST}, {"util", SR_AGG_VALUE}};
    static const char *const at[] = {"", "force/a", "force/b/u4"};
    for (size_t wi = 0; wi < sizeof w / sizeof w[0]; wi++)
        for (size_t bi = 0; bi < 3; bi++)
            for (size_t mi = 0; mi < 3; mi++)
                for (size_t ei = 0; ei < 3; ei++) {
                    sr_query q = {.metric = m[mi].metric,
                                  .entity = at[ei],
                                  .agg = {m[mi].agg, 0},
                                  .from_ms = w[wi].from,
                                  .to_ms = w[wi].from + w[wi].len};
                    double got[30], want[30];
                    cr_assert_eq(sr_query_series(st, &cat, &q, nb[bi], got), 0);
                    series_by_slices(&q, nb[bi], true, want);
                    for (size_t i = 0; i < nb[bi]; i++)
                        cr_assert(got[i] == want[i] || (isnan(got[i]) && isnan(want[i])),
                                  "%s at '%s', window %zu, %zu slices: slice %zu is %g, not %g",
                                  m[mi].metric, at[ei], wi, nb[bi], i, got[i], want[i]);
                }
}

/* ---- exact percentiles from the hour cells' values, and the memo ---- */

/* Observations of "rt" over 10 days in two districts: values with ties,
 * zeros and negatives, so that every kind of bucket is crossed. */
enum { BN = 5000 };
static obs bo[BN];

static void fill_buckets_data(void)
{
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = 0; i < BN; i++) {
        bo[i].ts = T0 - 10 * SR_MS_DAY + (sr_ms)(next_rand() % (10ULL * SR_MS_DAY));
        uint64_t r = next_rand() % 100;
        bo[i].v = r < 5    ? 0
                  : r < 10 ? -(double)(next_rand() % 500) / 7.0
                  : r < 20 ? 600 /* ties */
                           : 1 + (double)(next_rand() % 200000) / 13.0;
        bo[i].unit = (int)(next_rand() % 8);
        char e[64];
        snprintf(e, sizeof e, "city/d%d/u%d", bo[i].unit / 4, bo[i].unit);
        put("rt", e, bo[i].ts, bo[i].v);
    }
    cr_assert_eq(sr_store_commit(st), 0);
}

/* The brute-force values of [from, to) (district -1: all), sorted; n. */
static size_t brute(sr_ms from, sr_ms to, int district, double *vals)
{
    size_t n = 0;
    for (int i = 0; i < BN; i++) {
        if (bo[i].ts >= from && bo[i].ts < to && (district < 0 || bo[i].unit / 4 == district))
            vals[n++] = bo[i].v;
    }
    qsort(vals, n, sizeof vals[0], cmp_double);
    return n;
}

static double brute_within(const double *v, size_t n, double target, bool lower)
{
    size_t good = 0;
    for (size_t i = 0; i < n; i++)
        good += lower ? v[i] <= target : v[i] >= target;
    return 100.0 * (double)good / (double)n;
}

Test(query, cells_values_give_the_exact_percentiles)
{
    fill_buckets_data();
    static const struct {
        sr_ms from, to;
        const char *entity;
        int district;
    } w[] = {
        {T0 - 9 * SR_MS_DAY + 12345, T0 - 17, "city", -1},
        {T0 - 7 * SR_MS_DAY, T0, "city/d1", 1},
        {T0 - 3 * SR_MS_DAY - 59999, T0 - 2 * SR_MS_DAY + 61001, "city/d0", 0},
        {T0 - 20 * SR_MS_HOUR + 30000, T0 - 2 * SR_MS_HOUR - 30000, "", -1},
        {T0 - 5 * SR_MS_HOUR, T0 - 3 * SR_MS_HOUR, "city", -1},
    };
    static double vals[BN];
    static const double ps[] = {1, 10, 33.3, 50, 90, 99, 100};
    /* every value present, and others between them */
    static const double targets[] = {0, 600, -3, 1000.5, 1e9, -1e9};
    raw_max = 1; /* the cells' values, not the raw samples */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
            size_t n = brute(w[k].from, w[k].to, w[k].district, vals);
            cr_assert_gt(n, 20);
            for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
                char agg[16];
                snprintf(agg, sizeof agg, "p%g", ps[i]);
                sr_result r = run("rt", w[k].entity, agg, w[k].from, w[k].to);
                cr_assert(r.exact);
                cr_assert_eq(r.n, (int64_t)n);
                cr_assert_eq(r.value, sr_percentile_sorted(vals, n, ps[i], SR_PCT_NEAREST_RANK),
                             "pass %d window %zu %s", pass, k, agg);
                defs[0].percentile = SR_PCT_LINEAR;
                r = run("rt", w[k].entity, agg, w[k].from, w[k].to);
                defs[0].percentile = SR_PCT_NEAREST_RANK;
                cr_assert_float_eq(r.value, sr_percentile_sorted(vals, n, ps[i], SR_PCT_LINEAR),
                                   1e-9 * (1 + fabs(r.value)), "pass %d window %zu linear %s", pass,
                                   k, agg);
            }
            for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
                defs[0].target = targets[t];
                for (int lower = 0; lower < 2; lower++) {
                    defs[0].better = lower ? SR_BETTER_LOWER : SR_BETTER_HIGHER;
                    sr_result r = run("rt", w[k].entity, "within", w[k].from, w[k].to);
                    cr_assert_float_eq(r.value, brute_within(vals, n, targets[t], lower), 1e-9,
                                       "pass %d window %zu target %g", pass, k, targets[t]);
                }
            }
            defs[0].target = 10;
            defs[0].better = SR_BETTER_LOWER;
        }
        /* the second pass from the memo; then cells without their values
         * (too many observations) read their hours' raw samples */
        if (pass == 0) {
            int64_t hits, misses;
            sr_memo_counts(sr_store_memo(st), &hits, &misses);
            cr_assert_gt(misses, 0);
        }
    }
    sr_store_close(st);
    char db[300];
    snprintf(db, sizeof db, "%s/q.db", dir);
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, sr_store_vfs()), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "UPDATE rollup SET vals = NULL", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    size_t n = brute(w[0].from, w[0].to, -1, vals);
    sr_result r = run("rt", "city", "p90", w[0].from, w[0].to);
    cr_assert_eq(r.value, sr_percentile_sorted(vals, n, 90, SR_PCT_NEAREST_RANK));
    raw_max = 0;
}

/* The brute-force values of day i of the ten before T0 in city/d0, with
 * the 40 late samples the tests below add to day 3 (not in bo[]). */
static size_t brute_late_day(int i, double *vals)
{
    sr_ms from = T0 - (10 - i) * SR_MS_DAY;
    size_t n = brute(from, from + SR_MS_DAY, 0, vals);
    if (i == 3) {
        for (int k = 0; k < 40; k++)
            vals[n++] = 1e6 + k;
        qsort(vals, n, sizeof vals[0], cmp_double);
    }
    return n;
}

/* p90 of city/d0 over the ten days before T0, from the cells' values. */
static sr_query d0_p90(void)
{
    return (sr_query){.metric = "rt",
                      .entity = "city/d0",
                      .agg = {SR_AGG_PCT, 90},
                      .from_ms = T0 - 10 * SR_MS_DAY,
                      .to_ms = T0,
                      .raw_max = 1};
}

Test(query, a_memoised_slice_is_computed_again_when_late_data_lands_in_it)
{
    fill_buckets_data();
    raw_max = 1;
    /* ten one-day slices: the nine older ones are memoised */
    sr_query q = d0_p90();
    double before[10], again[10], after[10], cnt_before[10], cnt_after[10];
    static double vals[BN];
    sr_query cq = q;
    cq.agg = (sr_agg){SR_AGG_COUNT, 0};
    cr_assert_eq(sr_query_series(st, &cat, &cq, 10, cnt_before), 0); /* counts: memoised too */
    cr_assert_eq(sr_query_series(st, &cat, &q, 10, before), 0);
    int64_t h0, m0, h1, m1;
    sr_memo_counts(sr_store_memo(st), &h0, &m0);
    cr_assert_eq(sr_query_series(st, &cat, &q, 10, again), 0);
    sr_memo_counts(sr_store_memo(st), &h1, &m1);
    cr_assert_eq(m1, m0, "the same series again misses nothing");
    cr_assert_geq(h1 - h0, 9);
    for (int i = 0; i < 10; i++)
        cr_assert(before[i] == again[i] || (isnan(before[i]) && isnan(again[i])));
    /* the window's own figure, before: it fills the memo of day sketches
     * and of bucket values */
    size_t nb = brute(q.from_ms, q.to_ms, 0, vals);
    cr_assert_eq(run("rt", "city/d0", "p99", q.from_ms, q.to_ms).value,
                 sr_percentile_sorted(vals, nb, 99, SR_PCT_NEAREST_RANK));
    /* late data in the fourth slice: enough values above its p90 to move it */
    sr_ms day3 = T0 - 7 * SR_MS_DAY;
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = 0; i < 40; i++)
        put("rt", "city/d0/u1", day3 + 3 * SR_MS_HOUR + i * SR_MS_SEC, 1e6 + i);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sr_query_series(st, &cat, &q, 10, after), 0);
    cr_assert_eq(sr_query_series(st, &cat, &cq, 10, cnt_after), 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(cnt_after[i], (isnan(cnt_before[i]) ? 0 : cnt_before[i]) + (i == 3 ? 40 : 0),
                     "count of slice %d", i);
    for (int i = 0; i < 10; i++) {
        size_t n = brute_late_day(i, vals);
        if (i == 3) {
            cr_assert_neq(after[i], before[i]);
        } else {
            cr_assert(after[i] == before[i] || (isnan(after[i]) && isnan(before[i])),
                      "slice %d changed without new data", i);
        }
        double want = n ? sr_percentile_sorted(vals, n, 90, SR_PCT_NEAREST_RANK) : NAN;
        cr_assert(after[i] == want || (isnan(want) && isnan(after[i])), "slice %d: %g, want %g", i,
                  after[i], want);
    }
    /* the window's own figure (whole days from the memo of day sketches,
     * hours from the memo of bucket values) sees it too */
    size_t n = brute(q.from_ms, q.to_ms, 0, vals);
    for (int k = 0; k < 40; k++)
        vals[n++] = 1e6 + k;
    qsort(vals, n, sizeof vals[0], cmp_double);
    sr_result r = run("rt", "city/d0", "p99", q.from_ms, q.to_ms);
    cr_assert_eq(r.value, sr_percentile_sorted(vals, n, 99, SR_PCT_NEAREST_RANK));
    raw_max = 0;
}

Test(query, long_series_are_cut_into_whole_hours)
{
    cr_assert_eq(sr_query_series_points(30 * SR_MS_DAY, 158), 144, "30 days: 144 slices of 5 h");
    cr_assert_eq(sr_query_series_points(30 * SR_MS_DAY, 78), 72, "30 days: 72 slices of 10 h");
    cr_assert_eq(sr_query_series_points(30 * SR_MS_DAY, 30), 30, "30 days: 30 days");
    cr_assert_eq(sr_query_series_points(SR_MS_DAY, 158), 158, "under 2 h a slice: as asked");
    cr_assert_eq(sr_query_series_points(7 * SR_MS_DAY, 158), 158);
    cr_assert_eq(sr_query_series_points(SR_MS_DAY, 0), 0);
    /* any window and width: slices of 2 h or more are whole hours, cover the
     * window, and are never more than asked */
    for (sr_ms len = SR_MS_HOUR; len < 90 * SR_MS_DAY; len = len * 7 / 5 + 12345) {
        for (size_t want = 2; want <= 200; want += 13) {
            size_t n = sr_query_series_points(len, want);
            cr_assert(n >= 1 && n <= want);
            sr_query q = {.from_ms = T0 - len, .to_ms = T0};
            sr_ms slice, end;
            sr_query_series_slices(&q, n, &slice, &end);
            cr_assert_geq((sr_ms)n * slice, len, "len %lld want %zu", (long long)len, want);
            if (slice >= 2 * SR_MS_HOUR || n < want) {
                cr_assert_eq(slice % SR_MS_HOUR, 0, "len %lld want %zu: slice %lld", (long long)len,
                             want, (long long)slice);
                cr_assert_eq(end % SR_MS_HOUR, 0);
            }
        }
    }
}

/* The count of rt under entity over a wide window, in a read transaction
 * when in_read (as the dashboard's and snapshot's renders run). */
static int64_t count_in(const char *entity, bool in_read)
{
    if (in_read)
        cr_assert_eq(sr_store_read_begin(st), 0);
    sr_result r = run("rt", entity, "count", T0 - 30 * SR_MS_DAY, T0 + SR_MS_DAY);
    sr_result p = run("rt", entity, "p50", T0 - 30 * SR_MS_DAY, T0 + SR_MS_DAY);
    cr_assert_eq(p.n, r.value, "the percentile's count and the count agree");
    if (in_read)
        sr_store_read_end(st);
    return (int64_t)r.value;
}

Test(query, the_roots_only_child_is_read_as_the_root_until_another_appears)
{
    int64_t force;
    cr_assert_eq(sr_store_entity_id(st, "force", &force), 0);
    cr_assert_eq(sr_store_entity_same(st, force), force, "outside a read transaction: itself");
    cr_assert_eq(sr_store_read_begin(st), 0);
    cr_assert_eq(sr_store_entity_same(st, force), SR_ENTITY_ROOT, "the root's only child");
    int64_t a;
    cr_assert_eq(sr_store_entity_id(st, "force/a", &a), 0);
    cr_assert_eq(sr_store_entity_same(st, a), a);
    sr_store_read_end(st);
    cr_assert_eq(count_in("force", true), 8);
    cr_assert_eq(count_in("", true), 8);

    /* another process adds a second force: this handle has never seen it */
    char db[300];
    snprintf(db, sizeof db, "%s/q.db", dir);
    sr_store *other;
    cr_assert_eq(sr_store_open(db, 0, &other, NULL, 0), 0);
    cr_assert_eq(sr_store_begin(other), 0);
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "o%d", i);
        sr_sample s = {"rt", "other/x", T0 + i * MIN, 7, key};
        bool dup;
        cr_assert_eq(sr_store_put(other, &s, &dup), 0);
    }
    cr_assert_eq(sr_store_commit(other), 0);
    sr_store_close(other);

    cr_assert_eq(count_in("force", true), 8, "the force alone, not the root");
    cr_assert_eq(count_in("", true), 11);
    cr_assert_eq(count_in("force", false), 8);
    cr_assert_eq(sr_store_read_begin(st), 0);
    cr_assert_eq(sr_store_entity_same(st, force), force);
    sr_store_read_end(st);
}

/* The p90 series of city/d0 in ten one-day slices on handle h; the memo's
 * hits and misses it took in *hits and *misses. */
static void d0_series(sr_store *h, double out[10], int64_t *hits, int64_t *misses)
{
    sr_query q = d0_p90();
    int64_t h0, m0;
    sr_memo_counts(sr_store_memo(h), &h0, &m0);
    cr_assert_eq(sr_query_series(h, &cat, &q, 10, out), 0);
    sr_memo_counts(sr_store_memo(h), hits, misses);
    *hits -= h0;
    *misses -= m0;
}

static sr_store *open_reader(void)
{
    char db[300];
    snprintf(db, sizeof db, "%s/q.db", dir);
    sr_store *h;
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &h, NULL, 0), 0);
    return h;
}

static bool same_value(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

Test(query, the_writers_figures_are_read_by_another_process_until_late_data_lands)
{
    fill_buckets_data();
    raw_max = 1;
    double mine[10], theirs[10];
    int64_t hits, misses;
    d0_series(st, mine, &hits, &misses);

    /* nothing saved yet: another process computes everything itself */
    sr_store *r0 = open_reader();
    d0_series(r0, theirs, &hits, &misses);
    cr_assert_eq(hits, 0);
    cr_assert_gt(misses, 0);
    cr_assert_eq(sr_store_memo_save(r0, r0), SR_EINVAL, "a read-only handle writes nothing");
    sr_store_close(r0);

    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_memo_save(st, st), SR_EBUSY, "not inside a batch");
    sr_store_rollback(st);
    cr_assert_eq(sr_store_memo_save(st, st), 0);

    /* saved: a new process's first series reads the nine closed slices */
    sr_store *r1 = open_reader();
    d0_series(r1, theirs, &hits, &misses);
    cr_assert_geq(hits, 9, "hits %lld", (long long)hits);
    for (int i = 0; i < 10; i++)
        cr_assert(same_value(theirs[i], mine[i]), "slice %d: %g, want %g", i, theirs[i], mine[i]);
    sr_store_close(r1);

    /* damaged entries in the cache are computed anew, never believed */
    char db[300];
    snprintf(db, sizeof db, "%s/q.db", dir);
    th_cache_exec(db, "UPDATE memo SET v = x'01ff'");
    sr_store *rd = open_reader();
    d0_series(rd, theirs, &hits, &misses);
    for (int i = 0; i < 10; i++)
        cr_assert(same_value(theirs[i], mine[i]), "damaged, slice %d: %g, want %g", i, theirs[i],
                  mine[i]);
    double big[10];
    sr_query q = {.metric = "rt",
                  .entity = "city",
                  .agg = {SR_AGG_PCT, 90},
                  .from_ms = T0 - 9 * SR_MS_DAY + 5 * SR_MS_HOUR,
                  .to_ms = T0,
                  .raw_max = 1};
    cr_assert_eq(sr_query_series(rd, &cat, &q, 3, big), 0);
    sr_store_close(rd);
    cr_assert_eq(sr_store_memo_save(st, st), 0);

    /* late data in the fourth slice: the saved figure no longer holds */
    sr_ms day3 = T0 - 7 * SR_MS_DAY;
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = 0; i < 40; i++)
        put("rt", "city/d0/u1", day3 + 3 * SR_MS_HOUR + i * SR_MS_SEC, 1e6 + i);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store *r2 = open_reader();
    d0_series(r2, theirs, &hits, &misses);
    static double vals[BN];
    for (int i = 0; i < 10; i++) {
        size_t n = brute_late_day(i, vals);
        double want = n ? sr_percentile_sorted(vals, n, 90, SR_PCT_NEAREST_RANK) : NAN;
        cr_assert(same_value(theirs[i], want), "slice %d: %g, want %g", i, theirs[i], want);
    }
    cr_assert_neq(theirs[3], mine[3]);
    sr_store_close(r2);
    raw_max = 0;
}

Test(query, a_windows_memoised_parts_follow_late_data_at_both_ends)
{
    fill_buckets_data();
    raw_max = 1;
    /* hours before the first whole day, whole days, hours after the last */
    sr_ms from = T0 - 10 * SR_MS_DAY + 5 * SR_MS_HOUR + 123, to = T0 - 5 * SR_MS_HOUR - 77;
    static double vals[BN + 100];
    for (int pass = 0; pass < 3; pass++) {
        size_t n = brute(from, to, -1, vals);
        if (pass == 2) {
            for (int k = 0; k < 30; k++) {
                vals[n++] = 2e6 + k;
                vals[n++] = 3e6 + k;
            }
            qsort(vals, n, sizeof vals[0], cmp_double);
        }
        for (double p = 50; p <= 100; p += 49.5) {
            char agg[16];
            snprintf(agg, sizeof agg, "p%g", p);
            sr_result r = run("rt", "city", agg, from, to);
            cr_assert_eq(r.n, (int64_t)n, "pass %d", pass);
            cr_assert_eq(r.value, sr_percentile_sorted(vals, n, p, SR_PCT_NEAREST_RANK),
                         "pass %d %s", pass, agg);
        }
        if (pass == 1) {
            /* late data in an hour of each end */
            cr_assert_eq(sr_store_begin(st), 0);
            for (int k = 0; k < 30; k++) {
                put("rt", "city/d1/u5", T0 - 10 * SR_MS_DAY + 7 * SR_MS_HOUR + k, 2e6 + k);
                put("rt", "city/d0/u2", T0 - 9 * SR_MS_HOUR + k, 3e6 + k);
            }
            cr_assert_eq(sr_store_commit(st), 0);
        }
    }
    raw_max = 0;
}

static sr_ms kept_from = INT64_MIN; /* bo[] older than this was deleted */

/* count and p90 of rt under city over [from, to) on handle h, in a read
 * transaction (where h keeps its cells' stamps: metrics/stamps.h), checked
 * against the brute force of bo[] plus extra[0..n_extra) */
static void check_in_read(sr_store *h, sr_ms from, sr_ms to, const double *extra, size_t n_extra,
                          const char *what)
{
    static double vals[BN + 200];
    size_t n = brute(from > kept_from ? from : kept_from, to, -1, vals);
    for (size_t i = 0; i < n_extra; i++)
        vals[n++] = extra[i];
    qsort(vals, n, sizeof vals[0], cmp_double);
    cr_assert_eq(sr_store_read_begin(h), 0);
    sr_query q = {.metric = "rt", .entity = "city", .from_ms = from, .to_ms = to, .raw_max = 1};
    sr_result r;
    q.agg = (sr_agg){SR_AGG_COUNT, 0};
    cr_assert_eq(sr_query_run(h, &cat, &q, &r), 0);
    cr_assert_eq(r.value, (double)n, "%s: count %g, want %zu", what, r.value, n);
    q.agg = (sr_agg){SR_AGG_PCT, 90};
    cr_assert_eq(sr_query_run(h, &cat, &q, &r), 0);
    cr_assert_eq(r.value, sr_percentile_sorted(vals, n, 90, SR_PCT_NEAREST_RANK), "%s: p90", what);
    sr_store_read_end(h);
}

Test(query, a_readers_kept_stamps_follow_every_commit)
{
    fill_buckets_data();
    raw_max = 1;
    sr_store *r = open_reader();
    sr_ms from = T0 - 10 * SR_MS_DAY + 3 * SR_MS_HOUR + 17, to = T0 - 2 * SR_MS_HOUR;
    check_in_read(r, from, to, NULL, 0, "at first");
    check_in_read(r, from, to, NULL, 0, "again, from what it kept");

    /* late data in an old hour, and samples in an hour it has not read */
    static double extra[100];
    size_t ne = 0;
    cr_assert_eq(sr_store_begin(st), 0);
    for (int k = 0; k < 20; k++) {
        put("rt", "city/d0/u1", T0 - 8 * SR_MS_DAY + 3 * SR_MS_HOUR + k, 5e5 + k);
        extra[ne++] = 5e5 + k;
    }
    put("rt", "city/d0/u1", T0 + SR_MS_HOUR, 1);
    cr_assert_eq(sr_store_commit(st), 0);
    check_in_read(r, from, to, extra, ne, "late data");
    extra[ne] = 1; /* the new hour's sample, in the longer window only */
    check_in_read(r, from, T0 + 2 * SR_MS_HOUR, extra, ne + 1, "a new hour");

    /* the log of touched times pruned past what the reader saw: it forgets */
    cr_assert_eq(sr_store_begin(st), 0);
    for (int k = 0; k < 20; k++) {
        put("rt", "city/d1/u4", T0 - 6 * SR_MS_DAY + 9 * SR_MS_HOUR + k, 7e5 + k);
        extra[ne++] = 7e5 + k;
    }
    cr_assert_eq(sr_store_commit(st), 0);
    char db[300];
    snprintf(db, sizeof db, "%s/q.db", dir);
    th_cache_exec(db, "DELETE FROM touch");
    cr_assert_eq(sr_store_begin(st), 0);
    put("rt", "city/d1/u4", T0 - 30 * SR_MS_DAY, 3); /* outside the window */
    cr_assert_eq(sr_store_commit(st), 0);
    check_in_read(r, from, to, extra, ne, "after a gap in the log");

    /* retention */
    int64_t deleted;
    cr_assert_eq(sr_store_retain(st, T0 - 7 * SR_MS_DAY, &deleted), 0);
    cr_assert_gt(deleted, 0);
    kept_from = T0 - 7 * SR_MS_DAY;
    ne = 20; /* the 5e5 ones were older than the cut */
    memmove(extra, extra + 20, 20 * sizeof *extra);
    check_in_read(r, T0 - 7 * SR_MS_DAY, to, extra, ne, "after retention");
    check_in_read(r, from, to, extra, ne, "after retention, the old window");
    sr_store_close(r);
    kept_from = INT64_MIN;
    raw_max = 0;
}

/* The level of open under the whole tree over the last week, on handle h
 * in a read transaction (where h keeps its gauge's reporting entities). */
static double level_in_read(sr_store *h)
{
    cr_assert_eq(sr_store_read_begin(h), 0);
    sr_query q = {.metric = "open",
                  .entity = "",
                  .agg = {SR_AGG_LAST, 0},
                  .from_ms = T0 - 6 * SR_MS_DAY,
                  .to_ms = T0 + SR_MS_HOUR};
    sr_result r;
    cr_assert_eq(sr_query_run(h, &cat, &q, &r), 0);
    sr_store_read_end(h);
    return r.value;
}

Test(query, a_readers_gauge_takes_in_an_entity_that_starts_reporting)
{
    sr_store *r = open_reader();
    /* the nodes holding the gauge's cells: its four reporting units only */
    int64_t metric;
    cr_assert_eq(sr_store_metric_id(r, "open", &metric), 0);
    const int64_t *ids;
    size_t n;
    cr_assert_eq(sr_store_cell_nodes(r, metric, &ids, &n), 0);
    cr_assert_eq(n, 4);
    const char *units[4] = {"force/a/u1", "force/a/u2", "force/b/u3", "force/b/u4"};
    for (size_t i = 0; i < 4; i++) {
        int64_t id;
        cr_assert_eq(sr_store_entity_id(r, units[i], &id), 0);
        cr_assert_eq(ids[i], id, "%s", units[i]);
    }
    cr_assert_float_eq(level_in_read(r), 1092, EPS);
    cr_assert_float_eq(level_in_read(r), 1092, EPS, "again, from the nodes it kept");

    /* a new unit reports, and another's first report lands late in an old hour */
    cr_assert_eq(sr_store_begin(st), 0);
    put("open", "force/c/u9", T0 + 30 * MIN, 5);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_float_eq(level_in_read(r), 1097, EPS, "the new unit counts");
    cr_assert_eq(sr_store_begin(st), 0);
    put("open", "force/c/u8", T0 - 2 * SR_MS_DAY, 40);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_float_eq(level_in_read(r), 1137, EPS, "and the late one");

    /* the log of touched times pruned past what the reader saw: it reads the
     * nodes again */
    char db[300];
    snprintf(db, sizeof db, "%s/q.db", dir);
    cr_assert_eq(sr_store_begin(st), 0);
    put("open", "force/c/u7", T0 + 40 * MIN, 100);
    cr_assert_eq(sr_store_commit(st), 0);
    th_cache_exec(db, "DELETE FROM touch");
    cr_assert_eq(sr_store_begin(st), 0);
    put("rt", "force/a/u1", T0 - 30 * SR_MS_DAY, 3); /* another metric */
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_float_eq(level_in_read(r), 1237, EPS, "after a gap in the log");
    sr_store_close(r);
}

Test(query, a_save_while_another_process_writes_keeps_its_figures_for_the_next)
{
    fill_buckets_data();
    raw_max = 1;
    double mine[10], theirs[10];
    int64_t hits, misses;
    d0_series(st, mine, &hits, &misses);
    char db[300];
    snprintf(db, sizeof db, "%s/q.db", dir);
    sqlite3 *other;
    cr_assert_eq(
        sqlite3_open_v2(db, &other, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    cr_assert_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_neq(sr_store_memo_save(st, st), 0, "the other writer holds the lock");
    cr_assert_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    cr_assert_eq(sr_store_memo_save(st, st), 0, "saved the next time");
    sr_store *r = open_reader();
    d0_series(r, theirs, &hits, &misses);
    cr_assert_geq(hits, 9, "hits %lld", (long long)hits);
    sr_store_close(r);
    raw_max = 0;
}

/*
 * A window ending where the data ends is still filling (a source reports a
 * slot once it is over): the windows it is compared with end as far into
 * theirs. "ot" is reported per quarter hour; at T0 + 2h the cache holds
 * T0 + 1h .. T0 + 1h45 of the last hour (three quarters).
 */
Test(query, a_window_still_filling_is_compared_with_the_same_part_of_the_one_before)
{
    cr_assert_eq(sr_store_begin(st), 0);
    for (int q = 0; q < 4; q++) /* the hour before: 10 a quarter */
        put("ot", "force/c/u9", T0 + SR_MS_HOUR + q * 15 * MIN - SR_MS_HOUR, 10);
    for (int q = 0; q < 3; q++) /* this hour so far: 10 a quarter */
        put("ot", "force/c/u9", T0 + SR_MS_HOUR + q * 15 * MIN, 10);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_query q = {.metric = "ot",
                  .entity = "force/c",
                  .agg = {SR_AGG_SUM, 0},
                  .from_ms = T0 + SR_MS_HOUR,
                  .to_ms = T0 + 2 * SR_MS_HOUR};
    sr_ms end;
    cr_assert_eq(sr_query_data_end(st, &cat, &q, &end), 0);
    cr_assert_eq(end, T0 + SR_MS_HOUR + 30 * MIN + 1);
    sr_compare c;
    cr_assert_eq(sr_query_compare(st, &cat, &q, &c), 0);
    cr_assert_float_eq(c.now.value, 30, EPS);
    cr_assert_float_eq(c.prev.value, 30, EPS, "the hour before, its first three quarters");
    /* once the next quarter is in, the hour is over and compared whole */
    cr_assert_eq(sr_store_begin(st), 0);
    put("ot", "force/c/u9", T0 + 2 * SR_MS_HOUR, 10);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sr_query_data_end(st, &cat, &q, &end), 0);
    cr_assert_eq(end, q.to_ms);
    cr_assert_eq(sr_query_compare(st, &cat, &q, &c), 0);
    cr_assert_float_eq(c.prev.value, 40, EPS);
}
