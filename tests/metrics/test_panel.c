/*
 * Tests of metrics/panel.c: the panel model over a real cache built in a
 * temp dir, against hand-computed figures: value, comparisons, status and
 * change, aggregate resolution, rows worst first (both directions), leaf
 * flags, row series, histograms (exact and from sketches, negative values,
 * subtrees), events, freshness for every kind, unknown things, fini.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/panel.h"
#include "../../metrics/privacy.h"
#include "../helpers.h"
#include "catalog.h"

#define T0 1704067200000LL /* 2024-01-01T00:00:00Z, on an hour */
#define MIN SR_MS_MIN
#define SEC SR_MS_SEC
#define HOUR SR_MS_HOUR
#define NOW (T0 + HOUR) /* every panel here looks at [T0, T0 + 1h) unless it says */
#define EPS 1e-9

static char dir[256];
static sr_store *st;
static sr_metric_def defs[12];
static sr_catalog cat = {defs, 0};

static sr_metric_def *add_def(const char *name, sr_kind kind)
{
    return th_add_def(&cat, sizeof defs / sizeof defs[0], st, name, kind);
}

/* One sample; key NULL = none. */
static void put(const char *metric, const char *entity, sr_ms ts, double v, const char *key)
{
    sr_sample s = {metric, entity, ts, v, key};
    bool dup;
    cr_assert_eq(sr_store_put(st, &s, &dup), 0, "%s %s", metric, entity);
    cr_assert_not(dup);
}

/*
 * The tree: force/{a/{u1,u2}, b/u3, c/u5, d/u6, e}. Response times "rt" in
 * [T0, T0+1h):
 *   a: 5 15 25 (u1, minutes 1-3), 10 (u2, 4)   p90 25  WARN
 *   b: 1 2 95 (u3, minutes 5-7), 7 (8, no key)  p90 95  CRIT
 *   c: nothing (only an "open" gauge)                   none
 *   d: 3 4 (u6, minutes 20, 21)                 p90 4   OK
 *   e: 8 (e itself, a leaf, minute 40)          p90 8   OK
 * whole: 1 2 3 4 5 7 8 10 15 25 95 -> p90 (rank 10 of 11) = 25, WARN.
 */
static void setup(void)
{
    st = th_store_in(dir, sizeof dir, "p.db");
    cat.n = 0;
    sr_metric_def *rt = add_def("rt", SR_KIND_EVENT);
    rt->target = 10;
    rt->warn = 20;
    rt->crit = 50;
    sr_metric_def *open = add_def("open", SR_KIND_GAUGE);
    open->agg.kind = SR_AGG_VALUE; /* "the kind's own": resolves to last */
    add_def("ot", SR_KIND_COUNTER);
    add_def("reg", SR_KIND_COUNTER);
    sr_metric_def *share = add_def("share", SR_KIND_RATIO);
    snprintf(share->numerator, SR_NAME_MAX, "ot");
    snprintf(share->denominator, SR_NAME_MAX, "reg");
    share->scale = 100;
    sr_metric_def *sv = add_def("sv", SR_KIND_COUNTER);
    sv->better = SR_BETTER_HIGHER;
    sv->warn = 10;
    sv->crit = 5;
    add_def("delta", SR_KIND_EVENT);
    add_def("fr", SR_KIND_EVENT);
    add_def("gl", SR_KIND_GAUGE);

    cr_assert_eq(sr_store_begin(st), 0);
    put("rt", "force/a/u1", T0 + 1 * MIN, 5, "a-1");
    put("rt", "force/a/u1", T0 + 2 * MIN, 15, "a-2");
    put("rt", "force/a/u1", T0 + 3 * MIN, 25, "a-3");
    put("rt", "force/a/u2", T0 + 4 * MIN, 10, "a-4");
    put("rt", "force/b/u3", T0 + 5 * MIN, 1, "b-1");
    put("rt", "force/b/u3", T0 + 6 * MIN, 2, "b-2");
    put("rt", "force/b/u3", T0 + 7 * MIN, 95, "b-3");
    put("rt", "force/b/u3", T0 + 8 * MIN, 7, NULL);
    put("rt", "force/d/u6", T0 + 20 * MIN, 3, "d-1");
    put("rt", "force/d/u6", T0 + 21 * MIN, 4, "d-2");
    put("rt", "force/e", T0 + 40 * MIN, 8, "e-1");
    /* the previous hour: 20 and 40 -> p90 40; a week earlier: 50 */
    put("rt", "force/a/u1", T0 - 30 * MIN, 20, "prev-1");
    put("rt", "force/b/u3", T0 - 10 * MIN, 40, "prev-2");
    put("rt", "force/a/u2", T0 - 7 * SR_MS_DAY + 5 * MIN, 50, "week-1");
    /* later data: [T0, T0 + 1h) is over, compared whole (sr_query_data_end) */
    put("rt", "force/e", T0 + 3 * HOUR, 9, "later-1");

    put("open", "force/c/u5", T0 + 10 * MIN, 12, NULL);
    put("open", "force/a/u1", T0 + 30 * MIN, 5, NULL);

    /* counters: the previous hour sums to 0 */
    put("ot", "force/a/u1", T0 - 30 * MIN, 0, NULL);
    put("ot", "force/a/u1", T0 + 10 * MIN, 4, NULL);
    put("ot", "force/b/u3", T0 + 50 * MIN, 6, NULL);
    put("reg", "force/a/u1", T0 + 20 * MIN, 40, NULL);
    put("reg", "force/b/u3", T0 + 30 * MIN, 10, NULL);
    put("ot", "force/e", T0 + 3 * HOUR, 1, NULL); /* later data, as for rt */
    put("reg", "force/e", T0 + 3 * HOUR, 1, NULL);

    /* better = higher: a 3 CRIT, b 7 WARN, d 20 OK, e 12 OK, c none */
    put("sv", "force/a/u1", T0 + 1 * MIN, 1, NULL);
    put("sv", "force/a/u2", T0 + 2 * MIN, 2, NULL);
    put("sv", "force/b/u3", T0 + 3 * MIN, 7, NULL);
    put("sv", "force/d/u6", T0 + 4 * MIN, 20, NULL);
    put("sv", "force/e", T0 + 5 * MIN, 12, NULL);

    static const double deltas[] = {-7, -1, 0, 3, 12};
    for (int i = 0; i < 5; i++)
        put("delta", "force/a/u1", T0 + (10 + i) * MIN, deltas[i], NULL);

    /* freshness: "fr" events and "gl" gauges, some after the times asked */
    put("fr", "force/a/u1", T0 + 10 * MIN, 1, NULL);
    put("fr", "force/a/u1", T0 + 10 * MIN + 20 * SEC, 1, NULL);
    put("fr", "force/a/u1", T0 + 10 * MIN + 50 * SEC, 1, NULL);
    put("fr", "force/a/u1", T0 + 15 * MIN, 1, NULL);
    put("fr", "force/b/u3", T0 + 10 * MIN + 30 * SEC, 1, NULL);
    put("fr", "force/b/u3", T0 + 2 * HOUR, 1, NULL);
    put("gl", "force/a/u1", T0 + 20 * MIN, 1, NULL);
    put("gl", "force/a/u2", T0 - 3 * HOUR, 2, NULL);
    put("gl", "force/b/u3", T0 + 40 * MIN, 3, NULL);
    put("gl", "force/b/u3", T0 + 40 * MIN + 30 * SEC, 4, NULL);
    cr_assert_eq(sr_store_commit(st), 0);
}

static void teardown(void)
{
    sr_store_close(st);
    th_rmtree(dir);
}

TestSuite(panel, .init = setup, .fini = teardown);

static sr_panel_spec spec_of(const char *metric, const char *entity, const char *agg)
{
    sr_panel_spec s = {.metric = metric, .entity = entity, .window_ms = HOUR};
    if (agg)
        cr_assert_eq(sr_agg_parse(agg, &s.agg), 0);
    else
        s.agg.kind = SR_AGG_VALUE;
    return s;
}

/* Computes a panel that must succeed. */
static void compute(const char *metric, const char *entity, const char *agg, sr_ms now,
                    unsigned what, size_t n_series, size_t n_hist, size_t max_events,
                    sr_panel_model *m)
{
    sr_panel_spec s = spec_of(metric, entity, agg);
    int rc = sr_panel_compute(st, &cat, &s, now, what, n_series, n_hist, max_events, m);
    cr_assert_eq(rc, 0, "%s %s: %s", metric, entity ? entity : "", sr_strerror(rc));
}

static sr_ms newest_of(const char *metric, const char *entity, sr_ms now)
{
    sr_panel_model m;
    compute(metric, entity, NULL, now, 0, 0, 0, 0, &m);
    sr_ms t = m.newest_ms;
    sr_panel_model_fini(&m);
    return t;
}

/* A model that holds nothing: what the screen may draw after an error. */
static void assert_drawable_empty(const sr_panel_model *m)
{
    cr_assert(isnan(m->c.now.value));
    cr_assert(isnan(m->c.prev.value));
    cr_assert(isnan(m->c.week_ago.value));
    cr_assert_eq(m->c.now.n, 0);
    cr_assert(isnan(m->change_pct));
    cr_assert_eq(m->status, SR_STATUS_NONE);
    cr_assert_eq(m->newest_ms, 0);
    cr_assert_eq(m->n_series, 0);
    cr_assert(isnan(m->series[0]));
    cr_assert_null(m->rows);
    cr_assert_eq(m->n_rows, 0);
    cr_assert_eq(m->n_hist, 0);
    cr_assert(isnan(m->hist_lo) && isnan(m->hist_hi));
    cr_assert_null(m->events);
    cr_assert_eq(m->n_events, 0);
}

/* ---- value, comparisons, status, change ---- */

Test(panel, value_compare_status_change)
{
    sr_panel_model m;
    compute("rt", "", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_eq(m.def, &defs[0]);
    cr_assert_eq(m.from_ms, T0);
    cr_assert_eq(m.to_ms, NOW);
    cr_assert_float_eq(m.c.now.value, 25, EPS);
    cr_assert_eq(m.c.now.n, 11);
    cr_assert_float_eq(m.c.prev.value, 40, EPS);
    cr_assert_float_eq(m.c.week_ago.value, 50, EPS);
    cr_assert_eq(m.status, SR_STATUS_WARN);
    cr_assert_float_eq(m.change_pct, (25.0 - 40) / 40 * 100, EPS); /* -37.5 */
    /* within target 10: 5 10 1 2 7 3 4 8 of the eleven */
    cr_assert_float_eq(m.within_pct, 800.0 / 11, 1e-9);
    sr_panel_model_fini(&m);

    /* force/b: p90 95, CRIT; its previous hour holds 40 alone */
    compute("rt", "force/b", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_float_eq(m.c.now.value, 95, EPS);
    cr_assert_eq(m.status, SR_STATUS_CRIT);
    cr_assert_float_eq(m.change_pct, (95.0 - 40) / 40 * 100, EPS);
    cr_assert_float_eq(m.within_pct, 75, 1e-9); /* 1 2 7 of 1 2 95 7 */
    cr_assert(isnan(m.c.week_ago.value));
    sr_panel_model_fini(&m);

    /* force/d: OK, and no previous window -> no change */
    compute("rt", "force/d", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_float_eq(m.c.now.value, 4, EPS);
    cr_assert_eq(m.status, SR_STATUS_OK);
    cr_assert(isnan(m.change_pct));
    sr_panel_model_fini(&m);
}

/* The previous window is covered only when the metric's data begins at or
 * before its start: an export that begins inside it gives prev_partial and
 * no change (the Chicago example: 12 months against 5 months of data). */
Test(panel, prev_partial_when_the_data_begins_inside_the_previous_window)
{
    sr_panel_model m;
    /* "ot" begins at T0 - 30m: the previous hour [T0 - 1h, T0) holds it,
     * from its middle on */
    compute("ot", "", NULL, NOW + 20 * MIN, 0, 0, 0, 0, &m);
    cr_assert(isfinite(m.c.prev.value));
    cr_assert(m.prev_partial);
    cr_assert(isnan(m.change_pct));
    sr_panel_model_fini(&m);
    /* "rt" has data a week earlier: its previous hour is covered, also for
     * force/b, whose own first sample lies inside it (a quiet unit) */
    compute("rt", "force/b", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_not(m.prev_partial);
    cr_assert_float_eq(m.change_pct, (95.0 - 40) / 40 * 100, EPS);
    sr_panel_model_fini(&m);
    /* a ratio is covered when both parts are: "reg" begins at T0 + 20m */
    compute("share", "", NULL, NOW + 30 * MIN, 0, 0, 0, 0, &m);
    cr_assert(isfinite(m.c.prev.value), "%f", m.c.prev.value);
    cr_assert(m.prev_partial);
    sr_panel_model_fini(&m);
}

Test(panel, change_is_nan_when_previous_is_zero)
{
    sr_panel_model m;
    compute("ot", "", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_float_eq(m.c.now.value, 10, EPS);
    cr_assert_float_eq(m.c.prev.value, 0, EPS);
    cr_assert(isnan(m.change_pct));
    cr_assert_eq(m.status, SR_STATUS_NONE); /* no thresholds */
    sr_panel_model_fini(&m);
}

Test(panel, aggregate_resolution_and_names)
{
    sr_panel_model m;
    compute("rt", "", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_eq(m.agg.kind, SR_AGG_PCT);
    cr_assert_float_eq(m.agg.p, 90, EPS);
    cr_assert_str_eq(m.agg_name, "p90");
    sr_panel_model_fini(&m);

    /* another aggregate than the metric's own: its value, but no status */
    compute("rt", "", "p50", NOW, 0, 0, 0, 0, &m);
    cr_assert_str_eq(m.agg_name, "p50");
    cr_assert_float_eq(m.c.now.value, 7, EPS); /* rank ceil(5.5) = 6 of 11 */
    cr_assert_eq(m.status, SR_STATUS_NONE);
    sr_panel_model_fini(&m);
    compute("rt", "", "avg", NOW, 0, 0, 0, 0, &m);
    cr_assert_str_eq(m.agg_name, "avg");
    cr_assert_float_eq(m.c.now.value, 175.0 / 11, EPS);
    sr_panel_model_fini(&m);

    /* a gauge whose definition says "value": its kind's own, last */
    compute("open", "", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_eq(m.agg.kind, SR_AGG_LAST);
    cr_assert_str_eq(m.agg_name, "last");
    cr_assert_float_eq(m.c.now.value, 17, EPS);
    sr_panel_model_fini(&m);

    compute("ot", "", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_eq(m.agg.kind, SR_AGG_SUM);
    cr_assert_str_eq(m.agg_name, "sum");
    sr_panel_model_fini(&m);

    /* ratios stay "value": 10 / 50 * 100 */
    compute("share", "", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_eq(m.agg.kind, SR_AGG_VALUE);
    cr_assert_str_eq(m.agg_name, "value");
    cr_assert_float_eq(m.c.now.value, 20, EPS);
    cr_assert(isnan(m.change_pct));
    sr_panel_model_fini(&m);
    compute("share", "force/a", NULL, NOW, 0, 0, 0, 0, &m);
    cr_assert_float_eq(m.c.now.value, 10, EPS);
    sr_panel_model_fini(&m);
}

/* ---- series ---- */

Test(panel, series_in_slices)
{
    sr_panel_model m;
    compute("rt", "", NULL, NOW, SR_PANEL_SERIES, 12, 0, 0, &m);
    cr_assert_eq(m.n_series, 12);
    cr_assert_float_eq(m.series[0], 25, EPS); /* 5 15 25 10: rank 4 */
    cr_assert_float_eq(m.series[1], 95, EPS); /* 1 2 95 7 */
    cr_assert(isnan(m.series[2]));
    cr_assert_float_eq(m.series[4], 4, EPS); /* 3 4 */
    cr_assert_float_eq(m.series[8], 8, EPS);
    cr_assert(isnan(m.series[11]));
    cr_assert(isnan(m.series[12])); /* beyond n_series */
    cr_assert_null(m.rows);
    sr_panel_model_fini(&m);

    compute("rt", "", NULL, NOW, SR_PANEL_SERIES, 100000, 0, 0, &m);
    cr_assert_eq(m.n_series, SR_SERIES_MAX);
    sr_panel_model_fini(&m);

    compute("rt", "", NULL, NOW, 0, 12, 0, 0, &m); /* not asked */
    cr_assert_eq(m.n_series, 0);
    sr_panel_model_fini(&m);
}

/* ---- pooled percentile series ---- */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The exact p90 of v[0..n) as the metric computes it (sorts v). */
static double p90_of(double *v, size_t n, const sr_metric_def *d)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    return sr_percentile_sorted(v, n, 90, d->percentile);
}

/* Observations of "p1" at entity: per[i] of them in the 5-minute slice i of
 * [T0, T0 + 1h), value 100 * i + j * j (j-th of the slice), so a slice's
 * figures never average to a pooled run's. */
static void put_p1(const char *entity, const int *per, size_t slices, sr_ms slice_ms)
{
    cr_assert_eq(sr_store_begin(st), 0);
    for (size_t i = 0; i < slices; i++) {
        for (int j = 0; j < per[i]; j++) {
            sr_ms ts = T0 + (sr_ms)i * slice_ms + (sr_ms)j * (slice_ms / 16);
            put("p1", entity, ts, 100.0 * (double)i + (double)(j * j), NULL);
        }
    }
    cr_assert_eq(sr_store_commit(st), 0);
}

/* The values put_p1 put in slices [lo, hi), into v; returns how many. */
static size_t p1_values(const int *per, size_t lo, size_t hi, double *v)
{
    size_t n = 0;
    for (size_t i = lo; i < hi; i++) {
        for (int j = 0; j < per[i]; j++)
            v[n++] = 100.0 * (double)i + (double)(j * j);
    }
    return n;
}

static void compute_pooled(const char *entity, unsigned what, size_t n_series, int64_t min_n,
                           sr_panel_model *m)
{
    sr_panel_spec s = spec_of("p1", entity, "p90");
    s.pool_min_n = min_n;
    int rc = sr_panel_compute(st, &cat, &s, NOW, what, n_series, 0, 0, m);
    cr_assert_eq(rc, 0, "%s", sr_strerror(rc));
}

Test(panel, percentile_series_pooled_over_the_runs_observations)
{
    const sr_metric_def *d = add_def("p1", SR_KIND_EVENT);
    int per[12];
    for (size_t i = 0; i < 12; i++)
        per[i] = 4; /* 4 a slice: runs of 2 hold 8, of 3 hold 12 */
    put_p1("force/a/u1", per, 12, 5 * MIN);

    sr_panel_model m;
    compute_pooled("", SR_PANEL_SERIES | SR_PANEL_SERIES_N, 12, 10, &m);
    cr_assert_eq(m.n_series, 12);
    cr_assert_eq(m.series_pool, 3);
    cr_assert_eq(m.series_slice_ms, 5 * MIN);
    for (size_t run = 0; run < 4; run++) {
        double v[16];
        size_t n = p1_values(per, run * 3, run * 3 + 3, v);
        double want = p90_of(v, n, d);
        for (size_t i = run * 3; i < run * 3 + 3; i++) {
            cr_assert_float_eq(m.series[i], want, EPS, "slice %zu", i);
            cr_assert_float_eq(m.series_n[i], 12, EPS, "slice %zu", i);
        }
        /* not the average of the slices' own p90s */
        double avg = 0;
        for (size_t i = run * 3; i < run * 3 + 3; i++) {
            double sv[4];
            size_t sn = p1_values(per, i, i + 1, sv);
            avg += p90_of(sv, sn, d) / 3;
        }
        cr_assert(fabs(avg - want) > 1, "run %zu: %g is not an average", run, want);
    }
    cr_assert(isnan(m.series[12]));
    sr_panel_model_fini(&m);

    /* not asked to pool: one slice a point, each its own p90 */
    compute_pooled("", SR_PANEL_SERIES | SR_PANEL_SERIES_N, 12, 0, &m);
    cr_assert_eq(m.series_pool, 1);
    for (size_t i = 0; i < 12; i++) {
        double v[4];
        size_t n = p1_values(per, i, i + 1, v);
        cr_assert_float_eq(m.series[i], p90_of(v, n, d), EPS, "slice %zu", i);
        cr_assert_float_eq(m.series_n[i], 4, EPS);
    }
    sr_panel_model_fini(&m);

    /* enough in every slice: nothing pooled; counts alone (no series_n asked) decide */
    compute_pooled("", SR_PANEL_SERIES, 12, 4, &m);
    cr_assert_eq(m.series_pool, 1);
    cr_assert(isnan(m.series_n[0]), "series_n only when asked");
    sr_panel_model_fini(&m);

    /* never enough: the whole window is one point, as many as the window holds */
    compute_pooled("", SR_PANEL_SERIES | SR_PANEL_SERIES_N, 12, 100, &m);
    cr_assert_eq(m.series_pool, 12);
    double all[64];
    size_t n = p1_values(per, 0, 12, all);
    double whole = p90_of(all, n, d);
    for (size_t i = 0; i < 12; i++) {
        cr_assert_float_eq(m.series[i], whole, EPS);
        cr_assert_float_eq(m.series_n[i], 48, EPS);
    }
    sr_panel_model_fini(&m);

    /* not a percentile: never pooled */
    sr_panel_spec s = spec_of("p1", "", "count");
    s.pool_min_n = 10;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, SR_PANEL_SERIES, 12, 0, 0, &m), 0);
    cr_assert_eq(m.series_pool, 1);
    cr_assert_float_eq(m.series[0], 4, EPS);
    sr_panel_model_fini(&m);
}

Test(panel, pooling_takes_the_smallest_factor_most_runs_fill)
{
    const sr_metric_def *d = add_def("p1", SR_KIND_EVENT);
    /* one quiet slice in twelve: 11 of 12 (92%) hold 10, so nothing pools
     * and the quiet slice keeps its own count (privacy masks it) */
    int per[12] = {1, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10};
    put_p1("force/a/u1", per, 12, 5 * MIN);
    sr_panel_model m;
    compute_pooled("", SR_PANEL_SERIES | SR_PANEL_SERIES_N, 12, 10, &m);
    cr_assert_eq(m.series_pool, 1);
    cr_assert_float_eq(m.series_n[0], 1, EPS);
    cr_assert_float_eq(m.series_n[1], 10, EPS);
    sr_panel_model_fini(&m);

    /* three quiet slices (9 of 12 = 75% < 80%): pairs, counted back from the
     * newest; the oldest pair (1 + 1) stays under 10 for privacy to mask,
     * the next (1 + 10) is pooled over its 11 observations */
    int per2[12] = {1, 1, 1, 10, 10, 10, 10, 10, 10, 10, 10, 10};
    put_p1("force/b/u3", per2, 12, 5 * MIN);
    compute_pooled("force/b", SR_PANEL_SERIES | SR_PANEL_SERIES_N, 12, 10, &m);
    cr_assert_eq(m.series_pool, 2);
    cr_assert_float_eq(m.series_n[0], 2, EPS);
    cr_assert_float_eq(m.series_n[1], 2, EPS);
    cr_assert_float_eq(m.series_n[2], 11, EPS);
    cr_assert_float_eq(m.series_n[3], 11, EPS);
    double v[32];
    size_t n = p1_values(per2, 2, 4, v);
    double want = p90_of(v, n, d);
    cr_assert_float_eq(m.series[2], want, EPS);
    cr_assert_float_eq(m.series[3], want, EPS);
    n = p1_values(per2, 10, 12, v);
    cr_assert_float_eq(m.series[11], p90_of(v, n, d), EPS);
    cr_assert_float_eq(m.series_n[11], 20, EPS);
    sr_panel_model_fini(&m);
}

Test(panel, row_series_pooled_each_on_its_own)
{
    const sr_metric_def *d = add_def("p1", SR_KIND_EVENT);
    /* rows have 24 slices of 2.5 minutes: a has one a slice (pooled by 12:
     * 12 a run), b five a slice (pooled by 2: 10 a run) */
    int one[24], five[24];
    for (size_t i = 0; i < 24; i++) {
        one[i] = 1;
        five[i] = 5;
    }
    put_p1("force/a/u1", one, 24, 150 * SEC);
    put_p1("force/b/u3", five, 24, 150 * SEC);
    sr_panel_model m;
    compute_pooled("force", SR_PANEL_ROWS | SR_PANEL_ROW_SERIES | SR_PANEL_SERIES_N, 0, 10, &m);
    cr_assert_eq(m.row_slice_ms, 150 * SEC);
    cr_assert_eq(m.n_rows, 5);
    const sr_panel_row *a = NULL, *b = NULL;
    for (size_t i = 0; i < m.n_rows; i++) {
        if (strcmp(m.rows[i].entity, "force/a") == 0)
            a = &m.rows[i];
        if (strcmp(m.rows[i].entity, "force/b") == 0)
            b = &m.rows[i];
    }
    cr_assert(a && b);
    cr_assert_eq(a->series_pool, 12);
    cr_assert_eq(b->series_pool, 2);
    double v[64];
    for (size_t run = 0; run < 2; run++) {
        size_t n = p1_values(one, run * 12, run * 12 + 12, v);
        double want = p90_of(v, n, d);
        for (size_t i = run * 12; i < run * 12 + 12; i++) {
            cr_assert_float_eq(a->series[i], want, EPS, "a slice %zu", i);
            cr_assert_float_eq(a->series_n[i], 12, EPS);
        }
    }
    for (size_t run = 0; run < 12; run++) {
        size_t n = p1_values(five, run * 2, run * 2 + 2, v);
        double want = p90_of(v, n, d);
        cr_assert_float_eq(b->series[run * 2], want, EPS, "b run %zu", run);
        cr_assert_float_eq(b->series[run * 2 + 1], want, EPS, "b run %zu", run);
        cr_assert_float_eq(b->series_n[run * 2], 10, EPS);
    }
    for (size_t i = 0; i < m.n_rows; i++) {
        if (m.rows[i].r.n == 0)
            cr_assert_eq(m.rows[i].series_pool, 1, "%s: nothing to pool", m.rows[i].entity);
    }
    sr_panel_model_fini(&m);
}

/* ---- rows ---- */

/* The row of entity in m; fails the test when there is none. */
static const sr_panel_row *row_of(const sr_panel_model *m, const char *entity)
{
    for (size_t i = 0; i < m->n_rows; i++)
        if (strcmp(m->rows[i].entity, entity) == 0)
            return &m->rows[i];
    cr_assert_fail("no row %s", entity);
    return NULL;
}

Test(panel, rows_denominator_for_a_spread)
{
    /* sv per reg: a 3 over 40, b 7 over 10, d 20 over nothing (NAN, never 0) */
    sr_panel_spec s = spec_of("sv", "force", NULL);
    s.per = "reg";
    sr_panel_model m;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, SR_PANEL_ROWS, 0, 0, 0, &m), 0);
    cr_assert_float_eq(row_of(&m, "force/a")->denom.value, 40, EPS);
    cr_assert_float_eq(row_of(&m, "force/b")->denom.value, 10, EPS);
    cr_assert(isnan(row_of(&m, "force/d")->denom.value));
    cr_assert_float_eq(row_of(&m, "force/d")->r.value, 20, EPS, "the figure is the metric's");
    sr_panel_model_fini(&m);
    /* without per: 1, so the load is the figure */
    s.per = NULL;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, SR_PANEL_ROWS, 0, 0, 0, &m), 0);
    cr_assert_float_eq(row_of(&m, "force/d")->denom.value, 1, EPS);
    sr_panel_model_fini(&m);
    s.per = "nope";
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, SR_PANEL_ROWS, 0, 0, 0, &m), SR_ENOENT);
    sr_panel_model_fini(&m);
}

Test(panel, rows_worst_first_with_leaf_flags)
{
    sr_panel_model m;
    compute("rt", "force", NULL, NOW, SR_PANEL_ROWS, 0, 0, 0, &m);
    cr_assert_eq(m.n_rows, 5);
    static const char *const order[] = {"force/b", "force/a", "force/e", "force/d", "force/c"};
    static const sr_status status[] = {SR_STATUS_CRIT, SR_STATUS_WARN, SR_STATUS_OK, SR_STATUS_OK,
                                       SR_STATUS_NONE};
    static const double value[] = {95, 25, 8, 4, NAN};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_str_eq(m.rows[i].entity, order[i], "row %zu", i);
        cr_assert_eq(m.rows[i].status, status[i], "row %zu", i);
        if (isnan(value[i]))
            cr_assert(isnan(m.rows[i].r.value));
        else
            cr_assert_float_eq(m.rows[i].r.value, value[i], EPS, "row %zu", i);
        int64_t id;
        cr_assert_eq(sr_store_entity_id(st, order[i], &id), 0);
        cr_assert_eq(m.rows[i].id, id);
        cr_assert_eq(m.rows[i].n_series, 0); /* not asked */
        /* force/e reported itself and has no children */
        cr_assert_eq(m.rows[i].leaf, strcmp(order[i], "force/e") == 0, "row %zu", i);
    }
    sr_panel_model_fini(&m);

    compute("rt", "force/a", NULL, NOW, SR_PANEL_ROWS, 0, 0, 0, &m);
    cr_assert_eq(m.n_rows, 2);
    cr_assert_str_eq(m.rows[0].entity, "force/a/u1"); /* 25 WARN before 10 OK */
    cr_assert_eq(m.rows[0].status, SR_STATUS_WARN);
    cr_assert(m.rows[0].leaf && m.rows[1].leaf);
    sr_panel_model_fini(&m);

    /* a leaf has no rows */
    compute("rt", "force/e", NULL, NOW, SR_PANEL_ROWS, 0, 0, 0, &m);
    cr_assert_eq(m.n_rows, 0);
    cr_assert_null(m.rows);
    sr_panel_model_fini(&m);
}

Test(panel, rows_better_higher_reverses)
{
    sr_panel_model m;
    compute("sv", "force", NULL, NOW, SR_PANEL_ROWS, 0, 0, 0, &m);
    cr_assert_eq(m.n_rows, 5);
    static const char *const order[] = {"force/a", "force/b", "force/e", "force/d", "force/c"};
    static const sr_status status[] = {SR_STATUS_CRIT, SR_STATUS_WARN, SR_STATUS_OK, SR_STATUS_OK,
                                       SR_STATUS_NONE};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_str_eq(m.rows[i].entity, order[i], "row %zu", i);
        cr_assert_eq(m.rows[i].status, status[i], "row %zu", i);
    }
    cr_assert_float_eq(m.rows[2].r.value, 12, EPS); /* lower is worse: 12 before 20 */
    cr_assert_float_eq(m.rows[3].r.value, 20, EPS);
    sr_panel_model_fini(&m);
}

Test(panel, rows_change_against_the_previous_window)
{
    sr_panel_model m;
    compute("rt", "force", NULL, NOW, SR_PANEL_ROWS, 0, 0, 0, &m);
    cr_assert_eq(m.n_rows, 5);
    cr_assert_str_eq(m.rows[0].entity, "force/b");
    cr_assert_float_eq(m.rows[0].prev.value, 40, EPS); /* its previous hour: 40 */
    cr_assert_float_eq(m.rows[0].change_pct, (95.0 - 40) / 40 * 100, 1e-9);
    cr_assert_str_eq(m.rows[1].entity, "force/a");
    cr_assert_float_eq(m.rows[1].change_pct, 25, 1e-9); /* 25 against 20 */
    for (size_t i = 2; i < 5; i++)                      /* d, e, c: nothing the hour before */
        cr_assert(isnan(m.rows[i].change_pct), "row %zu", i);
    sr_panel_model_fini(&m);
}

/* A table of the share within target: worst (lowest) first, each row with
 * the status of its own p90 against the thresholds. */
Test(panel, rows_within_target_worst_first_with_the_metrics_status)
{
    sr_panel_model m;
    compute("rt", "force", "within", NOW, SR_PANEL_ROWS, 0, 0, 0, &m);
    cr_assert_eq(m.n_rows, 5);
    static const char *const order[] = {"force/b", "force/a", "force/d", "force/e", "force/c"};
    static const double within[] = {75, 50, 100, 100, NAN};
    static const sr_status status[] = {SR_STATUS_CRIT, SR_STATUS_WARN, SR_STATUS_OK, SR_STATUS_OK,
                                       SR_STATUS_NONE};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_str_eq(m.rows[i].entity, order[i], "row %zu", i);
        cr_assert_eq(m.rows[i].status, status[i], "row %zu: status %d", i, m.rows[i].status);
        if (isnan(within[i]))
            cr_assert(isnan(m.rows[i].r.value));
        else
            cr_assert_float_eq(m.rows[i].r.value, within[i], 1e-9, "row %zu", i);
    }
    cr_assert(isnan(m.rows[1].change_pct), "none within the hour before: no change from 0");
    sr_panel_model_fini(&m);

    /* without thresholds, statuses stay unknown */
    defs[0].warn = defs[0].crit = NAN;
    compute("rt", "force", "within", NOW, SR_PANEL_ROWS, 0, 0, 0, &m);
    for (size_t i = 0; i < m.n_rows; i++)
        cr_assert_eq(m.rows[i].status, SR_STATUS_NONE);
    cr_assert_str_eq(m.rows[0].entity, "force/a", "the lowest share first: 50%%");
    sr_panel_model_fini(&m);
}

/* A unit's two observations of a metric that is not personal: the p90 over
 * two is "n<10", and the observations are still listed, newest first. */
Test(panel, leaf_lists_its_few_observations_under_a_hidden_percentile)
{
    sr_panel_model m;
    compute("rt", "force/d/u6", NULL, NOW, SR_PANEL_EVENTS | SR_PANEL_ROWS, 0, 0, 20, &m);
    cr_assert_eq(m.n_rows, 0, "a leaf");
    sr_privacy p;
    sr_privacy_init(&p);
    sr_privacy_report r;
    sr_privacy_apply(&p, "force/d/u6", false, &m, &r);
    cr_assert_str_eq(m.mask, "n<10");
    cr_assert(isnan(m.c.now.value));
    cr_assert_eq(m.status, SR_STATUS_NONE);
    cr_assert_eq(m.n_events, 2, "the unit's observations: %zu", m.n_events);
    cr_assert_float_eq(m.events[0].value, 4, EPS);
    cr_assert_eq(m.events[0].ts_ms, T0 + 21 * MIN, "newest first");
    cr_assert_float_eq(m.events[1].value, 3, EPS);
    cr_assert_eq(r.events_hidden, 0);
    sr_panel_model_fini(&m);
}

Test(panel, sort_rows_ties_and_missing_values)
{
    sr_metric_def d;
    sr_metric_def_init(&d, "x");
    sr_panel_row rows[5];
    memset(rows, 0, sizeof rows);
    static const char *const names[] = {"z", "m", "a", "b", "c"};
    static const double vals[] = {NAN, 3, 3, 9, 1};
    for (int i = 0; i < 5; i++) {
        snprintf(rows[i].entity, sizeof rows[i].entity, "%s", names[i]);
        rows[i].id = i + 1;
        rows[i].r.value = vals[i];
        rows[i].status = SR_STATUS_NONE;
    }
    sr_agg own = d.agg;
    sr_panel_sort_rows(&d, own, rows, 5); /* lower is better: 9, 3 (a), 3 (m), 1, none */
    static const char *const lower[] = {"b", "a", "m", "c", "z"};
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(rows[i].entity, lower[i], "row %d", i);
    d.better = SR_BETTER_HIGHER;
    sr_panel_sort_rows(&d, own, rows, 5); /* 1, 3 (a), 3 (m), 9, none */
    static const char *const higher[] = {"c", "a", "m", "b", "z"};
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(rows[i].entity, higher[i], "row %d", i);
    sr_panel_sort_rows(NULL, own, rows, 5); /* no definition: lower is better */
    cr_assert_str_eq(rows[0].entity, "b");
    /* the share within target is better higher, whatever the metric: lowest first */
    d.better = SR_BETTER_LOWER;
    sr_panel_sort_rows(&d, (sr_agg){SR_AGG_WITHIN, 0}, rows, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(rows[i].entity, higher[i], "within, row %d", i);
    sr_panel_sort_rows(&d, own, NULL, 0);
}

Test(panel, row_series)
{
    sr_panel_model m;
    compute("rt", "force", NULL, NOW, SR_PANEL_ROWS | SR_PANEL_ROW_SERIES, 0, 0, 0, &m);
    cr_assert_eq(m.n_rows, 5);
    /* force/b in 2.5-minute slices: [5m, 7.5m) holds 1 2 95, [7.5m, 10m) holds 7 */
    const sr_panel_row *b = &m.rows[0];
    cr_assert_str_eq(b->entity, "force/b");
    cr_assert_eq(b->n_series, SR_ROW_SERIES);
    for (size_t i = 0; i < SR_ROW_SERIES; i++) {
        if (i == 2)
            cr_assert_float_eq(b->series[i], 95, EPS);
        else if (i == 3)
            cr_assert_float_eq(b->series[i], 7, EPS);
        else
            cr_assert(isnan(b->series[i]), "slice %zu", i);
    }
    const sr_panel_row *e = &m.rows[2];
    cr_assert_str_eq(e->entity, "force/e");
    cr_assert_float_eq(e->series[16], 8, EPS); /* 40m / 2.5m */
    const sr_panel_row *c = &m.rows[4];
    cr_assert_eq(c->n_series, SR_ROW_SERIES);
    for (size_t i = 0; i < SR_ROW_SERIES; i++)
        cr_assert(isnan(c->series[i]));
    sr_panel_model_fini(&m);
}

/* ---- histogram ---- */

static uint64_t hist_total(const sr_panel_model *m)
{
    uint64_t t = 0;
    for (size_t i = 0; i < m->n_hist; i++)
        t += m->hist[i];
    return t;
}

Test(panel, histogram_bins_hand_values)
{
    sr_panel_model m;
    /* 1 2 3 4 5 7 8 10 15 25 95: p99 95 -> width 10, edges 0..100 */
    compute("rt", "", NULL, NOW, SR_PANEL_HIST, 0, 10, 0, &m);
    cr_assert_eq(m.n_hist, 10);
    cr_assert(m.hist_exact);
    cr_assert_float_eq(m.hist_lo, 0, EPS);
    cr_assert_float_eq(m.hist_hi, 100, EPS);
    static const uint64_t want[10] = {7, 2, 1, 0, 0, 0, 0, 0, 0, 1};
    for (size_t i = 0; i < 10; i++)
        cr_assert_eq(m.hist[i], want[i], "bin %zu: %llu", i, (unsigned long long)m.hist[i]);
    cr_assert_eq(hist_total(&m), (uint64_t)m.c.now.n);
    cr_assert_eq(hist_total(&m), 11);
    sr_panel_model_fini(&m);
}

Test(panel, histogram_respects_the_subtree)
{
    sr_panel_model m;
    /* force/a: 5 10 15 25; p99 25 over 4 bins -> 6.25 -> width 8, edges 0 8 16 24 32 */
    compute("rt", "force/a", NULL, NOW, SR_PANEL_HIST, 0, 4, 0, &m);
    cr_assert_eq(m.n_hist, 4);
    cr_assert_float_eq(m.hist_lo, 0, EPS);
    cr_assert_float_eq(m.hist_hi, 32, EPS);
    cr_assert_eq(m.hist[0], 1);
    cr_assert_eq(m.hist[1], 2);
    cr_assert_eq(m.hist[2], 0);
    cr_assert_eq(m.hist[3], 1);
    cr_assert_eq(hist_total(&m), 4);
    sr_panel_model_fini(&m);
}

Test(panel, histogram_negative_values)
{
    sr_panel_model m;
    /* -7 -1 0 3 12: width 5 from -10 stops at 10 < 12, so width 6 from -12 to 12 */
    compute("delta", "force/a/u1", "p90", NOW, SR_PANEL_HIST, 0, 4, 0, &m);
    cr_assert_eq(m.n_hist, 4);
    cr_assert_float_eq(m.hist_lo, -12, EPS);
    cr_assert_float_eq(m.hist_hi, 12, EPS);
    cr_assert_eq(m.hist[0], 1); /* -7 */
    cr_assert_eq(m.hist[1], 1); /* -1 */
    cr_assert_eq(m.hist[2], 2); /* 0 3 */
    cr_assert_eq(m.hist[3], 1); /* 12, at hist_hi: the last bin */
    sr_panel_model_fini(&m);
}

Test(panel, histogram_from_sketches_beyond_the_exact_limit)
{
    sr_panel_spec s = spec_of("rt", "force/b", NULL);
    s.hist_exact_max = 2; /* force/b holds 4: the hour cell's sketch */
    sr_panel_model m;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, SR_PANEL_HIST, 0, 10, 0, &m), 0);
    cr_assert_not(m.hist_exact);
    cr_assert_eq(m.n_hist, 10);
    cr_assert_float_eq(m.hist_lo, 0, EPS);
    cr_assert_float_eq(m.hist_hi, 100, EPS); /* p99 ~95 */
    cr_assert_eq(m.hist[0], 3);              /* 1 2 7 */
    cr_assert_eq(m.hist[9], 1);              /* 95 */
    cr_assert_eq(hist_total(&m), 4);
    sr_panel_model_fini(&m);

    /* the limit counts what a raw scan reads, the whole tree (11), not force/a's 4 */
    s = spec_of("rt", "force/a", NULL);
    s.hist_exact_max = 5;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, SR_PANEL_HIST, 0, 4, 0, &m), 0);
    cr_assert_not(m.hist_exact);
    cr_assert_float_eq(m.hist_hi, 32, EPS); /* as exact: 5 | 10 15 | - | 25 */
    cr_assert_eq(m.hist[0], 1);
    cr_assert_eq(m.hist[1], 2);
    cr_assert_eq(m.hist[2], 0);
    cr_assert_eq(m.hist[3], 1);
    sr_panel_model_fini(&m);
    s.hist_exact_max = 11;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, SR_PANEL_HIST, 0, 4, 0, &m), 0);
    cr_assert(m.hist_exact);
    sr_panel_model_fini(&m);

    /* a window with partial hours: cells for the whole hour, raw samples at the edges */
    s = spec_of("rt", "", NULL);
    s.window_ms = 2 * HOUR;
    s.hist_exact_max = 1;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW + 30 * MIN, SR_PANEL_HIST, 0, 10, 0, &m), 0);
    cr_assert_not(m.hist_exact);
    cr_assert_eq(hist_total(&m), 13); /* the eleven, 20 at T0 - 30m and 40 at T0 - 10m */
    cr_assert_eq(hist_total(&m), (uint64_t)m.c.now.n);
    sr_panel_model_fini(&m);
}

Test(panel, histogram_only_for_events_with_data)
{
    sr_panel_model m;
    compute("open", "", NULL, NOW, SR_PANEL_HIST, 0, 10, 0, &m);
    cr_assert_eq(m.n_hist, 0);
    cr_assert(isnan(m.hist_lo));
    sr_panel_model_fini(&m);
    compute("rt", "force/c", NULL, NOW, SR_PANEL_HIST, 0, 10, 0, &m);
    cr_assert_eq(m.n_hist, 0);
    sr_panel_model_fini(&m);
    compute("rt", "", NULL, NOW, SR_PANEL_HIST, 0, 1000, 0, &m);
    cr_assert_eq(m.n_hist, SR_HIST_MAX);
    cr_assert_eq(hist_total(&m), 11);
    sr_panel_model_fini(&m);
}

/* ---- events ---- */

Test(panel, events_newest_first_with_keys)
{
    sr_panel_model m;
    compute("rt", "force/b", NULL, NOW, SR_PANEL_EVENTS, 0, 0, 3, &m);
    cr_assert_eq(m.n_events, 3);
    cr_assert_eq(m.events[0].ts_ms, T0 + 8 * MIN);
    cr_assert_float_eq(m.events[0].value, 7, EPS);
    cr_assert_str_eq(m.events[0].key, ""); /* stored without a key */
    cr_assert_str_eq(m.events[0].entity, "force/b/u3");
    cr_assert_eq(m.events[1].ts_ms, T0 + 7 * MIN);
    cr_assert_str_eq(m.events[1].key, "b-3");
    cr_assert_float_eq(m.events[1].value, 95, EPS);
    cr_assert_str_eq(m.events[2].key, "b-2");
    int64_t id;
    cr_assert_eq(sr_store_entity_id(st, "force/b/u3", &id), 0);
    cr_assert_eq(m.events[2].id, id);
    sr_panel_model_fini(&m);

    /* the whole tree, only inside the window (not the previous hour's) */
    compute("rt", "", NULL, NOW, SR_PANEL_EVENTS, 0, 0, 100, &m);
    cr_assert_eq(m.n_events, 11);
    cr_assert_str_eq(m.events[0].entity, "force/e");
    cr_assert_str_eq(m.events[0].key, "e-1");
    cr_assert_str_eq(m.events[10].key, "a-1");
    for (size_t i = 1; i < m.n_events; i++)
        cr_assert_geq(m.events[i - 1].ts_ms, m.events[i].ts_ms);
    sr_panel_model_fini(&m);

    compute("share", "", NULL, NOW, SR_PANEL_EVENTS, 0, 0, 10, &m); /* no raw samples */
    cr_assert_eq(m.n_events, 0);
    sr_panel_model_fini(&m);
}

/* ---- freshness ---- */

Test(panel, newest_events)
{
    cr_assert_eq(newest_of("rt", "", NOW), T0 + 40 * MIN);
    cr_assert_eq(newest_of("rt", "force/b", NOW), T0 + 8 * MIN);
    /* the hour cell answers when it ends before the time asked */
    cr_assert_eq(newest_of("fr", "", NOW), T0 + 15 * MIN);
    cr_assert_eq(newest_of("fr", "force/b", NOW), T0 + 10 * MIN + 30 * SEC);
    cr_assert_eq(newest_of("fr", "force/b", T0 + 2 * HOUR - 1), T0 + 10 * MIN + 30 * SEC);
    cr_assert_eq(newest_of("fr", "force/b", T0 + 2 * HOUR), T0 + 2 * HOUR); /* at `to` counts */
    cr_assert_eq(newest_of("fr", "force/b", T0 + 2 * HOUR + 1), T0 + 2 * HOUR);
    /* inside an hour holding later samples: whole minutes from the breakdown... */
    cr_assert_eq(newest_of("fr", "force/a", T0 + 12 * MIN), T0 + 10 * MIN + 50 * SEC);
    cr_assert_eq(newest_of("fr", "force/a", T0 + 11 * MIN), T0 + 10 * MIN + 50 * SEC);
    /* ...the minute holding `to` from raw samples of the subtree */
    cr_assert_eq(newest_of("fr", "", T0 + 10 * MIN + 40 * SEC), T0 + 10 * MIN + 30 * SEC);
    cr_assert_eq(newest_of("fr", "force/a", T0 + 10 * MIN + 40 * SEC), T0 + 10 * MIN + 20 * SEC);
    cr_assert_eq(newest_of("fr", "force/a", T0 + 10 * MIN + 20 * SEC), T0 + 10 * MIN + 20 * SEC);
    /* nothing at or before: 0 */
    cr_assert_eq(newest_of("fr", "force/b", T0 + 10 * MIN + 10 * SEC), 0);
    cr_assert_eq(newest_of("fr", "", T0 + 5 * MIN), 0);
    cr_assert_eq(newest_of("fr", "force/d", NOW), 0);
}

/* A gauge's newest is read from the last raw rows when the subtree is among
 * them, and by one seek per entity when other entities fill the last rows. */
Test(panel, newest_gauge_behind_a_busy_sibling)
{
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = 0; i < 600; i++) /* more rows than the scan reads before giving up */
        put("gl", "force/a/u1", T0 + 41 * MIN + i * SEC, 5, NULL);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(newest_of("gl", "", NOW), T0 + 41 * MIN + 599 * SEC);
    cr_assert_eq(newest_of("gl", "force/a", NOW), T0 + 41 * MIN + 599 * SEC);
    cr_assert_eq(newest_of("gl", "force/b", NOW), T0 + 40 * MIN + 30 * SEC);
    cr_assert_eq(newest_of("gl", "force/a/u2", NOW), T0 - 3 * HOUR);
    cr_assert_eq(newest_of("gl", "force/b", T0 + 41 * MIN + 10 * SEC), T0 + 40 * MIN + 30 * SEC);
}

Test(panel, newest_counters_gauges_ratios)
{
    cr_assert_eq(newest_of("ot", "", NOW), T0 + 50 * MIN);
    cr_assert_eq(newest_of("ot", "force/a", NOW), T0 + 10 * MIN);
    cr_assert_eq(newest_of("ot", "", T0 + 30 * MIN), T0 + 10 * MIN);
    cr_assert_eq(newest_of("ot", "", T0), T0 - 30 * MIN);

    /* gauges: each reporting entity of the subtree */
    cr_assert_eq(newest_of("gl", "", NOW), T0 + 40 * MIN + 30 * SEC);
    cr_assert_eq(newest_of("gl", "force/a", NOW), T0 + 20 * MIN);
    cr_assert_eq(newest_of("gl", "force/a/u2", NOW), T0 - 3 * HOUR);
    cr_assert_eq(newest_of("gl", "", T0 - HOUR), T0 - 3 * HOUR);
    /* u3's hour holds later samples: read raw, u1's 20m is the newest */
    cr_assert_eq(newest_of("gl", "", T0 + 30 * MIN), T0 + 20 * MIN);
    cr_assert_eq(newest_of("gl", "force/b", T0 + 30 * MIN), 0);
    cr_assert_eq(newest_of("gl", "force/b", T0 + 40 * MIN + 10 * SEC), T0 + 40 * MIN);
    cr_assert_eq(newest_of("open", "force/c", NOW), T0 + 10 * MIN);

    /* a ratio is as fresh as its older part: ot 50m, reg 30m */
    cr_assert_eq(newest_of("share", "", NOW), T0 + 30 * MIN);
    cr_assert_eq(newest_of("share", "force/a", NOW), T0 + 10 * MIN); /* ot 10m, reg 20m */
    cr_assert_eq(newest_of("share", "force/a", T0 + 15 * MIN), 0);   /* no reg yet */
    cr_assert_eq(newest_of("share", "force/d", NOW), 0);
}

/* ---- errors and lifecycle ---- */

Test(panel, unknown_metric_or_entity_is_enoent_and_drawable)
{
    sr_panel_model m;
    sr_panel_spec s = spec_of("nope", "", NULL);
    unsigned all =
        SR_PANEL_SERIES | SR_PANEL_ROWS | SR_PANEL_ROW_SERIES | SR_PANEL_HIST | SR_PANEL_EVENTS;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, all, 10, 10, 10, &m), SR_ENOENT);
    cr_assert_null(m.def);
    assert_drawable_empty(&m);
    sr_panel_model_fini(&m);

    s = spec_of("rt", "force/zzz", NULL);
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, all, 10, 10, 10, &m), SR_ENOENT);
    cr_assert_eq(m.def, &defs[0]);
    cr_assert_str_eq(m.agg_name, "p90");
    assert_drawable_empty(&m);
    sr_panel_model_fini(&m);
    sr_panel_model_fini(&m);
}

Test(panel, invalid_requests_are_einval_and_drawable)
{
    sr_panel_model m;
    sr_panel_spec s = spec_of("rt", "", NULL);
    s.window_ms = 0;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, SR_PANEL_ROWS, 0, 0, 0, &m), SR_EINVAL);
    assert_drawable_empty(&m);
    s = spec_of("share", "", "p90"); /* a ratio has no percentile */
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, SR_PANEL_ROWS, 0, 0, 0, &m), SR_EINVAL);
    assert_drawable_empty(&m);
    s = spec_of("open", "", "within");
    cr_assert_eq(sr_panel_compute(st, &cat, &s, NOW, 0, 0, 0, 0, &m), SR_EINVAL);
    sr_panel_model_fini(&m);
    cr_assert_eq(sr_panel_compute(st, &cat, NULL, NOW, 0, 0, 0, 0, &m), SR_EINVAL);
    assert_drawable_empty(&m);
}

Test(panel, fini_twice_and_on_zeroed_model)
{
    sr_panel_model m;
    compute("rt", "force", NULL, NOW, SR_PANEL_ROWS | SR_PANEL_EVENTS, 0, 0, 5, &m);
    cr_assert_not_null(m.rows);
    cr_assert_not_null(m.events);
    cr_assert_eq(m.n_events, 5);
    sr_panel_model_fini(&m);
    cr_assert_null(m.rows);
    cr_assert_null(m.events);
    cr_assert_eq(m.n_rows, 0);
    cr_assert_eq(m.n_events, 0);
    sr_panel_model_fini(&m);

    sr_panel_model z;
    memset(&z, 0, sizeof z);
    sr_panel_model_fini(&z);
    sr_panel_model_fini(NULL);
    cr_assert_null(z.rows);
}

/* ---- the figure against its baseline ---- */

/*
 * A count of calls at force/x, one hour slices on Fridays: the window is
 * Fri 2025-11-07 22-23h UTC and the hour before it. Week k back (1..8) of
 * each of the two slices holds base + k calls, so each band is the lowest
 * and the highest of the 8 (baseline.h: n/10 = 0 left out each side):
 * base + 1 to base + 8. The two slices of the run hold now_calls each.
 */
#define BFRI 1762552800000LL /* Fri 2025-11-07T22:00:00Z */
#define BWEEK (7 * SR_MS_DAY)

static void put_count(const char *entity, sr_ms from, int count)
{
    static int seq;
    for (int i = 0; i < count; i++) {
        char key[32];
        snprintf(key, sizeof key, "b%d", seq++);
        put("calls", entity, from + (i + 1) * (HOUR / (count + 2)), 1.0, key);
    }
}

static void baseline_cache(int weeks, int base, int now_calls)
{
    sr_metric_def *d = add_def("calls", SR_KIND_EVENT);
    d->agg = (sr_agg){SR_AGG_COUNT, 0};
    d->baseline_weeks = 8;
    d->unusual_slices = 2;
    cr_assert_eq(sr_store_begin(st), 0);
    for (int k = 1; k <= weeks; k++) {
        put_count("force/x", BFRI - k * BWEEK, base + k);
        put_count("force/x", BFRI - HOUR - k * BWEEK, base + k);
    }
    put_count("force/x", BFRI, now_calls);
    put_count("force/x", BFRI - HOUR, now_calls);
    cr_assert_eq(sr_store_commit(st), 0);
}

/* The panel of force/x's calls against its baseline, over
 * baseline_cache(weeks, base, now_calls). */
static void baseline_model(int weeks, int base, int now_calls, sr_panel_model *m)
{
    if (weeks)
        baseline_cache(weeks, base, now_calls);
    sr_panel_spec s = spec_of("calls", "force/x", NULL);
    s.baseline = true;
    s.baseline_opts.tz = "UTC";
    int rc = sr_panel_compute(st, &cat, &s, BFRI + HOUR, 0, 0, 0, 0, m);
    cr_assert_eq(rc, 0, "%s", sr_strerror(rc));
}

Test(panel, baseline_band_and_unusual_run)
{
    sr_panel_model m;
    baseline_model(8, 10, 30, &m);
    cr_assert_eq(m.c.now.value, 30);
    cr_assert_eq(m.n_base_run, 2, "the metric's unusual_slices");
    const sr_baseline_slice *own = &m.base_run[1];
    cr_assert_eq(own->from_ms, BFRI);
    cr_assert_eq(own->to_ms, BFRI + HOUR);
    cr_assert_eq(own->figure.value, 30);
    cr_assert(own->base.has_band, "%s", own->base.why);
    cr_assert_eq(own->base.used, 8);
    cr_assert_eq(own->base.low, 10 + 1);
    cr_assert_eq(own->base.high, 10 + 8);
    cr_assert_eq(m.base_run[0].from_ms, BFRI - HOUR);
    cr_assert_eq(m.base_run[0].base.low, 10 + 1);
    cr_assert_eq(m.unusual, SR_UNUSUAL_HIGH, "30 above 11-18 two slices running");
    cr_assert_str_eq(m.base_label, "Fri 22-23h");
    cr_assert_str_eq(m.base_mask, "");
    sr_panel_model_fini(&m);
    cr_assert_null(m.base_run);

    /* not asked: nothing of it, and the verdict unknown */
    compute("calls", "force/x", NULL, BFRI + HOUR, 0, 0, 0, 0, &m);
    cr_assert_null(m.base_run);
    cr_assert_eq(m.n_base_run, 0);
    cr_assert_eq(m.unusual, SR_UNUSUAL_UNKNOWN);
    cr_assert_str_eq(m.base_label, "");
    sr_panel_model_fini(&m);
}

Test(panel, baseline_within_band_is_not_unusual)
{
    sr_panel_model m;
    baseline_model(8, 10, 15, &m);
    cr_assert_eq(m.unusual, SR_UNUSUAL_NONE);
    sr_panel_model_fini(&m);
}

Test(panel, baseline_too_few_weeks_has_no_band)
{
    sr_panel_model m;
    baseline_model(2, 10, 30, &m);
    const sr_baseline *b = &m.base_run[1].base;
    cr_assert_not(b->has_band);
    cr_assert(isnan(b->low));
    cr_assert_eq(strncmp(b->why, "too few weeks", 13), 0, "%s", b->why);
    cr_assert_eq(m.unusual, SR_UNUSUAL_UNKNOWN);
    sr_panel_model_fini(&m);
}

/*
 * Privacy: the band is other weeks' figures of the same entity. With the
 * metric personal for a role without personal data and min_cell 14, the
 * window's weeks 1-3 (11, 12, 13 calls) are under it: the band shows their
 * mask, its figures are gone and the verdict is unknown, while the
 * headline (30) is shown. At min_cell 5 all stays; an entity beyond the
 * role's drill depth keeps nothing of its baseline.
 */
Test(panel, baseline_band_hides_a_week_the_role_may_not_see)
{
    sr_panel_model m;
    baseline_model(8, 10, 30, &m);
    sr_privacy p;
    sr_privacy_init(&p);
    p.see_personal = false;
    p.min_cell = 14;
    sr_privacy_apply(&p, "force/x", true, &m, NULL);
    cr_assert_eq(m.c.now.value, 30, "the headline (30 >= 14) is shown");
    cr_assert_str_eq(m.base_mask, "<min");
    const sr_baseline *b = &m.base_run[1].base;
    cr_assert(isnan(b->low) && isnan(b->high) && isnan(b->median));
    for (int k = 0; k < b->weeks; k++)
        cr_assert(isnan(b->week[k].r.value), "week %d", k + 1);
    cr_assert_eq(m.unusual, SR_UNUSUAL_UNKNOWN);
    sr_panel_model_fini(&m);

    baseline_model(0, 0, 0, &m);
    p.min_cell = 5;
    sr_privacy_apply(&p, "force/x", true, &m, NULL);
    cr_assert_str_eq(m.base_mask, "");
    cr_assert_eq(m.base_run[1].base.low, 11);
    cr_assert_eq(m.unusual, SR_UNUSUAL_HIGH);
    sr_panel_model_fini(&m);

    baseline_model(0, 0, 0, &m);
    p.drill = 1; /* force only: force/x is hidden */
    sr_privacy_apply(&p, "force/x", true, &m, NULL);
    cr_assert_null(m.base_run);
    cr_assert_eq(m.n_base_run, 0);
    cr_assert_eq(m.unusual, SR_UNUSUAL_UNKNOWN);
    sr_panel_model_fini(&m);
}

/*
 * The breakdown against the baseline: force/y's children, each with 8
 * weeks of base + k calls (k = 1..8) in both slices of the run:
 *   a: base 10, now 30 in both slices: band 11-18, outside (30 - 18) / 7,
 *      unusual high;
 *   b: base 10, now 19 (the hour before: 15): outside (19 - 18) / 7, not
 *      unusual (the hour before was within);
 *   c: base 50, now 55 in both: within 51-58, outside 0.
 * Worst first (the most calls): c, a, b; most unusual first: a, b, c.
 */
static void breakdown_cache(void)
{
    sr_metric_def *d = add_def("calls", SR_KIND_EVENT);
    d->agg = (sr_agg){SR_AGG_COUNT, 0};
    d->baseline_weeks = 8;
    d->unusual_slices = 2;
    static const struct {
        const char *e;
        int base, now, before;
    } kids[] = {{"force/y/a", 10, 30, 30}, {"force/y/b", 10, 19, 15}, {"force/y/c", 50, 55, 55}};
    cr_assert_eq(sr_store_begin(st), 0);
    for (size_t i = 0; i < 3; i++) {
        for (int k = 1; k <= 8; k++) {
            put_count(kids[i].e, BFRI - k * BWEEK, kids[i].base + k);
            put_count(kids[i].e, BFRI - HOUR - k * BWEEK, kids[i].base + k);
        }
        put_count(kids[i].e, BFRI, kids[i].now);
        put_count(kids[i].e, BFRI - HOUR, kids[i].before);
    }
    cr_assert_eq(sr_store_commit(st), 0);
}

static void breakdown(sr_panel_model *m)
{
    sr_panel_spec s = spec_of("calls", "force/y", NULL);
    s.baseline = true;
    s.baseline_opts.tz = "UTC";
    int rc = sr_panel_compute(st, &cat, &s, BFRI + HOUR, SR_PANEL_ROWS, 0, 0, 0, m);
    cr_assert_eq(rc, 0, "%s", sr_strerror(rc));
    cr_assert_eq(m->n_rows, 3);
}

/* The row of m named entity. */
static const sr_panel_row *row_named(const sr_panel_model *m, const char *entity)
{
    for (size_t i = 0; i < m->n_rows; i++)
        if (strcmp(m->rows[i].entity, entity) == 0)
            return &m->rows[i];
    cr_assert_fail("no row %s", entity);
    return NULL;
}

Test(panel, breakdown_rows_against_their_baseline_most_unusual_first)
{
    breakdown_cache();
    sr_panel_model m;
    breakdown(&m);
    cr_assert_str_eq(m.rows[0].entity, "force/y/c", "worst first: the most calls");
    const sr_panel_row *a = row_named(&m, "force/y/a"), *b = row_named(&m, "force/y/b"),
                       *c = row_named(&m, "force/y/c");
    cr_assert_eq(a->unusual, SR_UNUSUAL_HIGH);
    cr_assert_float_eq(a->outside, (30.0 - 18.0) / 7.0, EPS);
    cr_assert_eq(b->unusual, SR_UNUSUAL_NONE);
    cr_assert_float_eq(b->outside, (19.0 - 18.0) / 7.0, EPS);
    cr_assert_eq(c->unusual, SR_UNUSUAL_NONE);
    cr_assert_eq(c->outside, 0);
    cr_assert_eq(a->base_min_n, 11, "the fewest: week 1's 11 calls");
    sr_panel_sort_rows_unusual(m.def, m.agg, m.rows, m.n_rows);
    cr_assert_str_eq(m.rows[0].entity, "force/y/a");
    cr_assert_str_eq(m.rows[1].entity, "force/y/b");
    cr_assert_str_eq(m.rows[2].entity, "force/y/c");
    sr_panel_model_fini(&m);

    /* without baseline: no measure */
    compute("calls", "force/y", NULL, BFRI + HOUR, SR_PANEL_ROWS, 0, 0, 0, &m);
    cr_assert(isnan(m.rows[0].outside));
    cr_assert_eq(m.rows[0].unusual, SR_UNUSUAL_UNKNOWN);
    sr_panel_model_fini(&m);
}

/* A row whose weeks the role may not see (a's 11-13 calls under min_cell
 * 14) keeps no measure nor verdict; c's (51 and more) keeps its own. */
Test(panel, breakdown_row_baseline_follows_the_privacy_rule)
{
    breakdown_cache();
    sr_panel_model m;
    breakdown(&m);
    sr_privacy p;
    sr_privacy_init(&p);
    p.see_personal = false;
    p.min_cell = 14;
    sr_privacy_apply(&p, "force/y", true, &m, NULL);
    const sr_panel_row *a = row_named(&m, "force/y/a"), *c = row_named(&m, "force/y/c");
    cr_assert_eq(a->r.value, 30, "the figure itself is shown");
    cr_assert(isnan(a->outside));
    cr_assert_eq(a->unusual, SR_UNUSUAL_UNKNOWN);
    cr_assert_eq(c->outside, 0);
    cr_assert_eq(c->unusual, SR_UNUSUAL_NONE);
    sr_panel_model_fini(&m);
}

/* ---- the forecast ---- */

/*
 * Ten weeks of hourly calls at force/f before BFRI + 1h: a weekly pattern
 * (2 to 10 an hour by the hour of the week) plus 0-3 from a fixed
 * sequence, so the backtest's error is neither 0 nor above the limit.
 */
static void forecast_cache(void)
{
    sr_metric_def *d = add_def("calls", SR_KIND_EVENT);
    d->agg = (sr_agg){SR_AGG_COUNT, 0};
    d->baseline_weeks = 4;
    d->forecast_max_error = 90;
    unsigned seed = 7;
    cr_assert_eq(sr_store_begin(st), 0);
    for (sr_ms t = BFRI + HOUR - 10 * BWEEK; t < BFRI + HOUR; t += HOUR) {
        seed = seed * 1103515245u + 12345u;
        put_count("force/f", t, 2 + 2 * (int)((t / HOUR) % 5) + (int)((seed >> 16) % 4u));
    }
    cr_assert_eq(sr_store_commit(st), 0);
}

static void forecast_model(sr_panel_model *m)
{
    sr_panel_spec s = spec_of("calls", "force/f", NULL);
    s.forecast = true;
    s.baseline_opts.tz = "UTC";
    /* 17 minutes past the hour: the forecast is from the hour */
    int rc = sr_panel_compute(st, &cat, &s, BFRI + HOUR + 17 * MIN, 0, 0, 0, 0, m);
    cr_assert_eq(rc, 0, "%s", sr_strerror(rc));
    cr_assert(m->has_forecast);
}

Test(panel, forecast_is_sr_forecast_compute_of_the_panel)
{
    forecast_cache();
    sr_panel_model m;
    forecast_model(&m);
    sr_query q = {.metric = "calls",
                  .entity = "force/f",
                  .agg = {SR_AGG_COUNT, 0},
                  .from_ms = BFRI,
                  .to_ms = BFRI + HOUR};
    sr_forecast_opts o = {.base = {.weeks = 4, .tz = "UTC"},
                          .horizon_ms = 8 * HOUR,
                          .additive = true,
                          .max_error = 0.9};
    sr_forecast f;
    cr_assert_eq(sr_forecast_compute(st, &cat, &q, &o, &f), 0);
    cr_assert(f.shown, "%s", f.why);
    cr_assert_eq(m.forecast.now.from_ms, BFRI + HOUR);
    cr_assert_eq(m.forecast.now.to_ms, BFRI + 9 * HOUR, "the default horizon: 8h");
    cr_assert(m.forecast.shown, "%s", m.forecast.why);
    cr_assert_eq(m.forecast.now.value, f.now.value);
    cr_assert_eq(m.forecast.now.low, f.now.low);
    cr_assert_eq(m.forecast.now.high, f.now.high);
    cr_assert_eq(m.forecast.error, f.error);
    cr_assert(m.forecast.error > 0 && m.forecast.error < 0.9, "%g", m.forecast.error);
    cr_assert_str_eq(m.fc_mask, "");
    /* what it rests on: from the oldest backtest origin's baselines on */
    cr_assert_eq(m.fc_data_from_ms, sr_forecast_data_from(&f, &o));
    cr_assert(m.fc_n > 1000, "%lld", (long long)m.fc_n);
    sr_panel_model_fini(&m);

    /* the limit below its error: withheld, with the reason */
    defs[cat.n - 1].forecast_max_error = 0;
    forecast_model(&m);
    cr_assert_not(m.forecast.shown);
    cr_assert(strstr(m.forecast.why, "backtest error"), "%s", m.forecast.why);
    sr_panel_model_fini(&m);

    /* a percentile has none */
    sr_panel_spec s = spec_of("calls", "force/f", "p90");
    s.forecast = true;
    cr_assert_eq(sr_panel_compute(st, &cat, &s, BFRI + HOUR, 0, 0, 0, 0, &m), 0);
    cr_assert_not(m.has_forecast);
    cr_assert(isnan(m.forecast.now.value));
    sr_panel_model_fini(&m);
}

/* A role without personal data on a personal metric whose figures it may
 * not see (under min_cell) sees nothing of the forecast: its mask, no
 * figure, no error, no reason; a hidden entity's forecast says "hidden". */
Test(panel, forecast_follows_the_privacy_rule)
{
    forecast_cache();
    sr_panel_model m;
    forecast_model(&m);
    sr_privacy p;
    sr_privacy_init(&p);
    p.see_personal = false;
    p.min_cell = (int)m.fc_n + 1;
    sr_privacy_apply(&p, "force/f", true, &m, NULL);
    cr_assert_str_eq(m.fc_mask, "<min");
    cr_assert_not(m.forecast.shown);
    cr_assert(isnan(m.forecast.now.value) && isnan(m.forecast.now.low) &&
              isnan(m.forecast.now.high) && isnan(m.forecast.error));
    cr_assert_str_eq(m.forecast.why, "");
    sr_panel_model_fini(&m);

    forecast_model(&m);
    sr_privacy_init(&p);
    p.drill = 1; /* force only: force/f is hidden */
    sr_privacy_apply(&p, "force/f", true, &m, NULL);
    cr_assert_str_eq(m.fc_mask, "hidden");
    cr_assert(isnan(m.forecast.now.value) && isnan(m.forecast.error));
    sr_panel_model_fini(&m);

    /* a role that may see it: as computed */
    forecast_model(&m);
    sr_privacy_init(&p);
    sr_privacy_apply(&p, "force/f", true, &m, NULL);
    cr_assert_str_eq(m.fc_mask, "");
    cr_assert(m.forecast.shown);
    sr_panel_model_fini(&m);
}
