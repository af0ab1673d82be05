/*
 * panel.c - the model of one panel, computed from the cache.
 *
 * sr_panel_compute() turns a panel spec (metric, entity, aggregate, window)
 * into the figures every widget draws, so that the screen, `sitrep
 * snapshot` and the tests agree. The aggregate is resolved once (the
 * metric's own when the spec says SR_AGG_VALUE; ratios have no other) and
 * every part below uses that same aggregate through query.c:
 *
 *   value and comparisons   sr_query_compare (now, previous window, week ago;
 *                           cut where the data ends: sr_query_data_end)
 *   status, change_pct      from c.now and c.prev
 *   newest_ms               hour rollup cells, one index seek each (below)
 *   prev_partial            a sample of the metric at or before the
 *                           previous window's start (one raw index seek)
 *   series, rows            sr_query_series, sr_query_children (percentile
 *                           series pooled, below)
 *   histogram, events       raw samples of the subtree (the hourly sketches
 *                           for histograms of busy windows)
 *   baseline (spec)         sr_baseline_run over the metric's unusual_slices
 *                           slices ending with the window, for the panel and
 *                           (with rows) for each row: its verdict, how far
 *                           outside its band, the fewest observations it
 *                           rests on (for sr_privacy_apply)
 *   forecast (spec)         sr_forecast_compute from the window's end, and
 *                           the count of what it rests on (sr_privacy_apply)
 *
 * Invariants: a model is always safe to draw and to fini, whatever compute
 * returned: "no data" is NAN and zero counts, never 0 values; rows and
 * events are the only heap memory, owned by the model.
 *
 * Freshness (newest_ms): the newest sample at or before `to`, without
 * scanning the window. Events and counters have an hour cell for every
 * node of the tree, whose last_ts is the newest sample of the subtree in
 * that hour, so the newest cell starting at or before `to` answers in one
 * seek. Only when that cell also holds samples after `to` (a snapshot of
 * the past, or clocks ahead) is it opened: its whole minutes before `to`
 * from the minute breakdown, the minute holding `to` from raw samples
 * (newest first, stopping at the first of the subtree), else the previous
 * cell. Gauges keep cells at the reporting entity only, so each entity of
 * the subtree gets its own seek, and the raw fallback reads at most the
 * hour holding `to`.
 *
 * Pooled percentile series: "no percentile under 10 observations" per
 * slice would blank the sparkline of a quiet metric (P1 responses come a
 * few an hour), so with spec->pool_min_n the counts per slice (cheap: the
 * rollups' counts) pick the smallest pooling factor k whose runs of k
 * slices mostly (>= 80% of the non-empty runs; a quiet night may leave a
 * few runs short, which privacy then masks) reach the minimum, in one pass
 * per candidate over the counts, without a query per candidate. Then one
 * percentile per run over the run's own observations, never an average of
 * slices' percentiles, copied to every slice of the run, so widgets draw
 * a series of the same length and need not know.
 *
 * Histograms: lo is 0, or the minimum aligned down to the bin width when
 * values are negative; the bin width is the smallest "nice" number
 * ({1, 2, 2.5, 3, 4, 5, 6, 8} x 10^k) such that n bins reach the window's
 * p99, so every edge is a round figure and outliers pile into the last bin
 * instead of squeezing the rest into one. When the window holds at most
 * hist_exact_max raw samples of the metric (the whole tree's, since that is
 * what a raw scan reads; counted first from the rollups) the values are read
 * and binned exactly; beyond, whole hours come from the node's cells'
 * sketches, the partial hours at the edges from raw samples, and bins are
 * counted with the sketch (an observation within the sketch's relative
 * error of an edge may fall in the neighbouring bin; the counts still add
 * up to the window's count). The p99 the layout covers is then the
 * sketch's, widened by its error bound.
 */
#include "panel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sketch.h"
#include "spread.h"
#include "vals.h"

/* What the parts of one computation share. */
typedef struct {
    sr_store *st;
    const sr_catalog *cat;
    const sr_metric_def *def;
    const char *entity;
    int64_t node;
    unsigned char *mask; /* mask[e]: e is in the subtree; NULL = the whole tree */
    int64_t mask_n;
    sr_query q;         /* the panel's query over its window */
    int64_t pool_min_n; /* spec->pool_min_n */
} pctx;

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

static int build_mask(pctx *p)
{
    if (p->node == SR_ENTITY_ROOT)
        return 0;
    return sr_store_subtree_mask(p->st, p->node, &p->mask, &p->mask_n);
}

static bool in_subtree(const pctx *p, int64_t e)
{
    if (!p->mask)
        return e > 0;
    return e > 0 && e < p->mask_n && p->mask[e];
}

/* ---- the empty model ---- */

static void model_empty(sr_panel_model *m)
{
    memset(m, 0, sizeof *m);
    sr_result none = {NAN, 0, true};
    m->c.now = m->c.prev = m->c.week_ago = none;
    m->status = SR_STATUS_NONE;
    m->change_pct = NAN;
    m->within_pct = NAN;
    for (size_t i = 0; i < SR_SERIES_MAX; i++)
        m->series[i] = m->series_n[i] = NAN;
    m->hist_lo = m->hist_hi = NAN;
    m->unusual = SR_UNUSUAL_UNKNOWN;
    m->forecast.error = NAN;
    m->forecast.now.level = m->forecast.now.value = NAN;
    m->forecast.now.low = m->forecast.now.high = NAN;
}

/* Drops every computed figure, keeping what describes the panel. */
static void model_reset(sr_panel_model *m)
{
    const sr_metric_def *def = m->def, *per_def = m->per_def;
    sr_agg agg = m->agg;
    char name[sizeof m->agg_name];
    memcpy(name, m->agg_name, sizeof name);
    sr_ms from = m->from_ms, to = m->to_ms;
    sr_panel_model_fini(m);
    model_empty(m);
    m->def = def;
    m->per_def = per_def;
    m->agg = agg;
    memcpy(m->agg_name, name, sizeof name);
    m->from_ms = from;
    m->to_ms = to;
}

void sr_panel_model_fini(sr_panel_model *m)
{
    if (!m)
        return;
    free(m->rows);
    m->rows = NULL;
    m->n_rows = 0;
    free(m->events);
    m->events = NULL;
    m->n_events = 0;
    free(m->base_run);
    m->base_run = NULL;
    m->n_base_run = 0;
    m->unusual = SR_UNUSUAL_UNKNOWN;
}

/* ---- freshness ---- */

/* The newest cell found by sr_store_rollup_newest, copied out. */
typedef struct {
    bool found;
    sr_ms bucket_ms, last_ts;
} newest_cell;

static int newest_cell_cb(void *ctx, const sr_rollup_cell *c)
{
    newest_cell *nc = ctx;
    nc->found = true;
    nc->bucket_ms = c->bucket_ms;
    nc->last_ts = c->last_ts;
    return 0;
}

/* The newest cell of (metric, node) starting before `before`; found = false
 * when there is none. */
static int cell_before(sr_store *st, int64_t metric, int64_t node, sr_ms before, unsigned flags,
                       newest_cell *out)
{
    out->found = false;
    int rc = sr_store_rollup_newest(st, metric, node, before, flags, newest_cell_cb, out);
    return rc == SR_ENOENT ? 0 : rc;
}

typedef struct {
    const pctx *p;
    sr_ms ts;       /* 0 until found */
    int64_t budget; /* rows it may still read; < 0: no limit */
} first_ctx;

static int first_cb(void *ctx, int64_t e, sr_ms ts, double v, const char *key)
{
    (void)v;
    (void)key;
    first_ctx *f = ctx;
    if (!in_subtree(f->p, e))
        return f->budget >= 0 && --f->budget <= 0 ? 2 : 0; /* 2: gave up */
    f->ts = ts;
    return 1;
}

/* The newest raw sample of the subtree in [from, to]; 0 when none. */
static int raw_newest(const pctx *p, int64_t metric, sr_ms from, sr_ms to, sr_ms *out)
{
    first_ctx f = {p, 0, -1};
    *out = 0;
    if (to == INT64_MAX)
        to--;
    int rc = sr_store_scan_raw_desc(p->st, metric, from, to + 1, first_cb, &f);
    if (rc < 0)
        return rc;
    *out = f.ts;
    return 0;
}

static sr_ms max_ms(sr_ms a, sr_ms b)
{
    return a > b ? a : b;
}

/* Events and counters: the node's own cells hold its whole subtree. */
static int newest_rolled(const pctx *p, int64_t metric, sr_ms to, sr_ms *out)
{
    *out = 0;
    newest_cell c;
    int rc = cell_before(p->st, metric, p->node, to == INT64_MAX ? to : to + 1, 0, &c);
    if (rc || !c.found)
        return rc;
    if (c.last_ts <= to) {
        *out = c.last_ts;
        return 0;
    }
    /* the cell holding `to` also holds later samples: the newest raw sample
     * of the subtree in that hour up to `to` (at most an hour, newest first) */
    sr_ms best = 0;
    if ((rc = raw_newest(p, metric, c.bucket_ms, to, &best)))
        return rc;
    if (!best) {
        newest_cell prev;
        if ((rc = cell_before(p->st, metric, p->node, c.bucket_ms, 0, &prev)))
            return rc;
        if (prev.found)
            best = prev.last_ts;
    }
    *out = best;
    return 0;
}

/* How many raw rows of other entities the gauge's fast path reads before it
 * falls back to one seek per entity. */
#define NEWEST_SCAN_ROWS 512

/*
 * Gauges: cells only at the reporting entities. A live gauge reports often,
 * so its newest sample at or before `to` is usually among the last raw rows:
 * a short scan newest first over this hour and the one before finds it
 * (any sample of the subtree found there is newer than every cell before
 * it). Otherwise one seek per reporting entity of the subtree (the nodes
 * holding the gauge's cells, sr_store_cell_nodes): one per entity of the
 * tree, officers included, was most of a viewer's refresh.
 */
static int newest_gauge(const pctx *p, int64_t metric, sr_ms to, sr_ms *out)
{
    *out = 0;
    sr_ms best = 0, before = to == INT64_MAX ? to : to + 1;
    bool raw = false;
    {
        sr_ms last = to == INT64_MAX ? INT64_MAX - 1 : to;
        first_ctx f = {p, 0, NEWEST_SCAN_ROWS};
        int rc = sr_store_scan_raw_desc(p->st, metric, sr_floor_ms(last, SR_MS_HOUR) - SR_MS_HOUR,
                                        last + 1, first_cb, &f);
        if (rc < 0)
            return rc;
        if (f.ts) {
            *out = f.ts;
            return 0;
        }
    }
    const int64_t *ids;
    size_t n;
    int rc = sr_store_cell_nodes(p->st, metric, &ids, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        int64_t e = ids[i];
        if (!in_subtree(p, e))
            continue;
        newest_cell c;
        rc = cell_before(p->st, metric, e, before, 0, &c);
        if (rc)
            return rc;
        if (!c.found)
            continue;
        if (c.last_ts <= to) {
            best = max_ms(best, c.last_ts);
            continue;
        }
        /* samples after `to` in its hour: the hour is read raw below */
        raw = true;
        if ((rc = cell_before(p->st, metric, e, c.bucket_ms, 0, &c)))
            return rc;
        if (c.found)
            best = max_ms(best, c.last_ts);
    }
    if (raw) {
        sr_ms ts;
        rc = raw_newest(p, metric, sr_floor_ms(to, SR_MS_HOUR), to, &ts);
        if (rc)
            return rc;
        best = max_ms(best, ts);
    }
    *out = best;
    return 0;
}

static int newest_plain(const pctx *p, const sr_metric_def *d, sr_ms to, sr_ms *out)
{
    *out = 0;
    int64_t metric;
    int rc = sr_store_metric_id(p->st, d->name, &metric);
    if (rc == SR_ENOENT)
        return 0; /* never stored */
    if (rc)
        return rc;
    return d->kind == SR_KIND_GAUGE ? newest_gauge(p, metric, to, out)
                                    : newest_rolled(p, metric, to, out);
}

static int any_cb(void *ctx, int64_t e, sr_ms ts, double v)
{
    (void)e;
    (void)ts;
    (void)v;
    *(bool *)ctx = true;
    return 1;
}

/*
 * Whether the data covers time t: the cache holds a sample of the metric
 * (a ratio: of each part), anywhere in the tree, at or before t. The whole
 * tree, since a quiet unit's empty hours are data too; one index seek per
 * part.
 */
static int covered_from(const pctx *p, sr_ms t, bool *out)
{
    const sr_metric_def *d = p->def;
    const char *parts[2] = {d->name, NULL};
    if (d->kind == SR_KIND_RATIO) {
        parts[0] = d->numerator;
        parts[1] = d->denominator;
    }
    *out = true;
    for (int i = 0; i < 2 && parts[i] && *out; i++) {
        int64_t metric;
        int rc = sr_store_metric_id(p->st, parts[i], &metric);
        if (rc == SR_ENOENT) {
            *out = false;
            return 0;
        }
        bool any = false;
        if (rc || (rc = sr_store_scan_raw(p->st, metric, 0, t + 1, any_cb, &any)) < 0)
            return rc;
        *out = any;
    }
    return 0;
}

static int newest(const pctx *p, sr_ms to, sr_ms *out)
{
    const sr_metric_def *d = p->def;
    if (d->kind != SR_KIND_RATIO)
        return newest_plain(p, d, to, out);
    *out = 0;
    const sr_metric_def *num = sr_catalog_find(p->cat, d->numerator);
    const sr_metric_def *den = sr_catalog_find(p->cat, d->denominator);
    if (!num || !den || num->kind == SR_KIND_RATIO || den->kind == SR_KIND_RATIO)
        return SR_EINVAL;
    sr_ms a, b;
    int rc = newest_plain(p, num, to, &a);
    if (!rc)
        rc = newest_plain(p, den, to, &b);
    if (rc)
        return rc;
    *out = a && b ? (a < b ? a : b) : 0; /* a ratio needs both parts */
    return 0;
}

/* ---- rows ---- */

static int status_rank(sr_status s)
{
    switch (s) {
    case SR_STATUS_CRIT:
        return 0;
    case SR_STATUS_WARN:
        return 1;
    case SR_STATUS_OK:
        return 2;
    case SR_STATUS_NONE:
        break;
    }
    return 3;
}

typedef struct {
    const sr_metric_def *def;
    sr_agg agg;
} sort_ctx;

static int cmp_rows(const void *pa, const void *pb, void *ctx)
{
    const sort_ctx *sc = ctx;
    const sr_panel_row *a = pa, *b = pb;
    int ra = status_rank(a->status), rb = status_rank(b->status);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    bool na = isnan(a->r.value), nb = isnan(b->r.value);
    if (na != nb)
        return na ? 1 : -1;
    if (!na && a->r.value != b->r.value) {
        bool higher_is_worse = !sr_kpi_higher_is_better(sc->def, sc->agg);
        bool a_worse = higher_is_worse ? a->r.value > b->r.value : a->r.value < b->r.value;
        return a_worse ? -1 : 1;
    }
    int c = strcmp(a->entity, b->entity);
    if (c)
        return c;
    return a->id < b->id ? -1 : a->id > b->id;
}

void sr_panel_sort_rows(const sr_metric_def *def, sr_agg agg, sr_panel_row *rows, size_t n)
{
    sort_ctx sc = {def, agg};
    if (rows && n > 1)
        qsort_r(rows, n, sizeof *rows, cmp_rows, &sc);
}

static int cmp_unusual(const void *pa, const void *pb, void *ctx)
{
    const sr_panel_row *a = pa, *b = pb;
    bool ua = a->unusual == SR_UNUSUAL_HIGH || a->unusual == SR_UNUSUAL_LOW;
    bool ub = b->unusual == SR_UNUSUAL_HIGH || b->unusual == SR_UNUSUAL_LOW;
    if (ua != ub)
        return ua ? -1 : 1;
    bool na = isnan(a->outside), nb = isnan(b->outside);
    if (na != nb)
        return na ? 1 : -1;
    if (!na && fabs(a->outside) != fabs(b->outside))
        return fabs(a->outside) > fabs(b->outside) ? -1 : 1;
    return cmp_rows(pa, pb, ctx);
}

void sr_panel_sort_rows_unusual(const sr_metric_def *def, sr_agg agg, sr_panel_row *rows, size_t n)
{
    sort_ctx sc = {def, agg};
    if (rows && n > 1)
        qsort_r(rows, n, sizeof *rows, cmp_unusual, &sc);
}

/* The count of observations per slice of q's series (NAN throughout for a
 * ratio, whose parts count different things). */
static int series_counts(const pctx *p, const sr_query *q, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
    if (p->def->kind == SR_KIND_RATIO)
        return 0;
    sr_query cq = *q;
    cq.agg = (sr_agg){SR_AGG_COUNT, 0};
    return sr_query_series(p->st, p->cat, &cq, n, out);
}

/* ---- pooled percentile series ---- */

/* The pooling factors tried, smallest first; then the whole series. */
static const size_t pool_steps[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192};

/* The observations in slices [lo, hi) (a NAN count is none). */
static double run_count(const double *cnt, size_t lo, size_t hi)
{
    double c = 0;
    for (size_t i = lo; i < hi; i++)
        c += isnan(cnt[i]) ? 0 : cnt[i];
    return c;
}

/* The first slice of the run ending at hi: runs of k are counted back from
 * the newest slice, the oldest run may be shorter. */
static size_t run_start(size_t hi, size_t k)
{
    return hi > k ? hi - k : 0;
}

/* Whether at least 80% of the non-empty runs of k slices hold min_n
 * observations (true when every run is empty). */
static bool pool_enough(const double *cnt, size_t n, size_t k, int64_t min_n)
{
    size_t nonempty = 0, ok = 0;
    for (size_t hi = n; hi > 0; hi = run_start(hi, k)) {
        double c = run_count(cnt, run_start(hi, k), hi);
        if (c > 0) {
            nonempty++;
            ok += c >= (double)min_n;
        }
    }
    return ok * 5 >= nonempty * 4;
}

/* The smallest pooling factor that is enough, from the counts per slice. */
static size_t pool_factor(const double *cnt, size_t n, int64_t min_n)
{
    for (size_t i = 0; i < sizeof pool_steps / sizeof pool_steps[0] && pool_steps[i] < n; i++) {
        if (pool_enough(cnt, n, pool_steps[i], min_n))
            return pool_steps[i];
    }
    return n;
}

/*
 * q's aggregate in n (<= SR_SERIES_MAX) slices into out, their counts into
 * cnt_out unless NULL; a percentile with min_n > 0 pooled as
 * sr_panel_compute() says. *pool: the slices per point.
 */
static int series_compute(const pctx *p, const sr_query *q, size_t n, int64_t min_n, double *out,
                          double *cnt_out, size_t *pool)
{
    *pool = 1;
    double cnt[SR_SERIES_MAX];
    bool pooled = min_n > 0 && q->agg.kind == SR_AGG_PCT && p->def->kind != SR_KIND_RATIO;
    int rc = 0;
    if (pooled || cnt_out) {
        if ((rc = series_counts(p, q, n, cnt)))
            return rc;
        if (cnt_out)
            memcpy(cnt_out, cnt, n * sizeof *cnt);
    }
    size_t k = pooled ? pool_factor(cnt, n, min_n) : 1;
    if (k == 1)
        return sr_query_series(p->st, p->cat, q, n, out);
    sr_ms slice, end;
    sr_query_series_slices(q, n, &slice, &end);
    for (size_t hi = n; hi > 0; hi = run_start(hi, k)) {
        size_t lo = run_start(hi, k);
        sr_result r = {NAN, 0, true};
        if (run_count(cnt, lo, hi) > 0) {
            sr_query rq = *q;
            rq.from_ms = end - (sr_ms)(n - lo) * slice;
            rq.to_ms = end - (sr_ms)(n - hi) * slice;
            if (rq.to_ms > q->to_ms)
                rq.to_ms = q->to_ms;
            rq.closed = hi < n; /* the newest run moves with the clock */
            if ((rc = sr_query_run(p->st, p->cat, &rq, &r)))
                return rc;
        }
        for (size_t i = lo; i < hi; i++) {
            out[i] = r.value;
            if (cnt_out && r.n > 0)
                cnt_out[i] = (double)r.n;
        }
    }
    *pool = k;
    return 0;
}

/* The result of entity among kids (n of them); NULL when it is not there. */
static const sr_result *kid_result(const sr_child_result *kids, size_t n, const char *entity)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kids[i].entity, entity) == 0)
            return &kids[i].r;
    }
    return NULL;
}

/*
 * What the rows compare with and are judged by, one query of the children
 * each: the previous window's value and the change against it; and, when
 * the panel shows another aggregate than the metric's own (the share within
 * target) and the metric has thresholds, each row's status from its own
 * aggregate (the thresholds speak of that one).
 */
static int rows_compare(const pctx *p, sr_panel_model *m)
{
    /* the window before, as far into it as the data reaches into this one */
    sr_ms len = p->q.to_ms - p->q.from_ms, end;
    int rc = sr_query_data_end(p->st, p->cat, &p->q, &end);
    if (rc)
        return rc;
    sr_query pq = p->q;
    pq.to_ms = end - len;
    pq.from_ms = p->q.from_ms - len;
    sr_child_result *prev = NULL, *own = NULL;
    size_t n_prev = 0, n_own = 0;
    rc = sr_query_children(p->st, p->cat, &pq, &prev, &n_prev);
    sr_agg own_agg = sr_kpi_own_agg(p->def);
    bool by_own = p->def->kind != SR_KIND_RATIO &&
                  (own_agg.kind != p->q.agg.kind ||
                   (own_agg.kind == SR_AGG_PCT && own_agg.p != p->q.agg.p)) &&
                  (!isnan(p->def->warn) || !isnan(p->def->crit));
    if (!rc && by_own) {
        sr_query oq = p->q;
        oq.agg = own_agg;
        rc = sr_query_children(p->st, p->cat, &oq, &own, &n_own);
    }
    for (size_t i = 0; i < m->n_rows && !rc; i++) {
        sr_panel_row *r = &m->rows[i];
        const sr_result *pr = kid_result(prev, n_prev, r->entity);
        if (pr)
            r->prev = *pr;
        double now = r->r.value, was = r->prev.value;
        r->change_pct = isnan(now) || isnan(was) || was == 0 ? NAN : (now - was) / fabs(was) * 100;
        const sr_result * or = by_own ? kid_result(own, n_own, r->entity) : NULL;
        if (or &&r->r.n > 0)
            r->status = sr_kpi_status(p->def, or->value);
    }
    free(prev);
    free(own);
    return rc;
}

static int compute_rows(const pctx *p, bool with_series, bool with_n, sr_panel_model *m)
{
    sr_child_result *kids;
    size_t n;
    int rc = sr_query_children(p->st, p->cat, &p->q, &kids, &n);
    if (rc)
        return rc;
    if (n == 0) {
        free(kids);
        return 0;
    }
    m->rows = calloc(n, sizeof *m->rows);
    if (!m->rows) {
        free(kids);
        return SR_ENOMEM;
    }
    m->n_rows = n;
    if (with_series) {
        sr_ms end;
        sr_query_series_slices(&p->q, SR_ROW_SERIES, &m->row_slice_ms, &end);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        sr_panel_row *r = &m->rows[i];
        copy_str(r->entity, sizeof r->entity, kids[i].entity);
        if ((rc = sr_store_entity_id(p->st, kids[i].entity, &r->id)))
            break;
        r->r = kids[i].r;
        r->prev = (sr_result){.value = NAN};
        r->change_pct = NAN;
        r->unusual = SR_UNUSUAL_UNKNOWN;
        r->outside = NAN;
        r->status = sr_kpi_status_for(p->def, p->q.agg, r->r.value);
        r->leaf = sr_store_entity_is_leaf(p->st, r->id);
        for (size_t k = 0; k < SR_ROW_SERIES; k++)
            r->series[k] = r->series_n[k] = NAN;
        if (with_series) {
            sr_query cq = p->q;
            cq.entity = kids[i].entity;
            rc = series_compute(p, &cq, SR_ROW_SERIES, p->pool_min_n, r->series,
                                with_n ? r->series_n : NULL, &r->series_pool);
            r->n_series = SR_ROW_SERIES;
        }
    }
    free(kids);
    if (!rc)
        rc = rows_compare(p, m);
    if (!rc)
        sr_panel_sort_rows(p->def, p->q.agg, m->rows, m->n_rows);
    return rc;
}

/* Each row's denominator: per over the panel's window (a gauge's mean
 * level), NAN for a child it has no row for; 1 without per. */
static int compute_denoms(const pctx *p, const char *per, sr_panel_model *m)
{
    for (size_t i = 0; i < m->n_rows; i++)
        m->rows[i].denom = (sr_result){.value = 1, .exact = true};
    if (!per || !*per || m->n_rows == 0)
        return 0;
    const sr_metric_def *d = sr_catalog_find(p->cat, per);
    if (!d)
        return SR_ENOENT;
    sr_query q = p->q;
    q.metric = per;
    q.agg = sr_spread_denom_agg(d->kind);
    sr_child_result *kids;
    size_t n;
    int rc = sr_query_children(p->st, p->cat, &q, &kids, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < m->n_rows; i++) {
        m->rows[i].denom = (sr_result){.value = NAN, .exact = true};
        for (size_t k = 0; k < n; k++)
            if (strcmp(kids[k].entity, m->rows[i].entity) == 0)
                m->rows[i].denom = kids[k].r;
    }
    free(kids);
    return 0;
}

/* ---- histogram ---- */

/* The smallest nice number ({1, 2, 2.5, 3, 4, 5, 6, 8} x 10^k) >= x > 0. */
static double nice_ceil(double x)
{
    static const double steps[] = {1, 2, 2.5, 3, 4, 5, 6, 8, 10};
    double base = pow(10, floor(log10(x)));
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i] * base >= x * (1 - 1e-12))
            return steps[i] * base;
    }
    return 10 * base;
}

/*
 * Chooses lo and the bin width for n bins over observations from min up to
 * (at least) top; false when no finite layout exists.
 */
static bool hist_layout(double min, double top, size_t n, double *lo, double *w)
{
    double start = min < 0 ? min : 0;
    double span = top - start;
    if (!(span > 0))
        span = fabs(top) > 0 ? fabs(top) : 1;
    double width = nice_ceil(span / (double)n);
    for (int guard = 0; guard < 64 && isfinite(width) && width > 0; guard++) {
        double l = min < 0 ? floor(min / width) * width : 0;
        if (l + (double)n * width >= top - 1e-12 * fabs(top)) {
            *lo = l;
            *w = width;
            return isfinite(l) && isfinite(l + (double)n * width);
        }
        width = nice_ceil(width * (1 + 1e-9));
    }
    return false;
}

/* The bin of v: [lo + i*w, lo + (i+1)*w), the last one open above. */
static size_t hist_bin(double v, double lo, double w, size_t n)
{
    double f = floor((v - lo) / w);
    size_t i = f <= 0 ? 0 : f >= (double)(n - 1) ? n - 1 : (size_t)f;
    /* the division may round across an edge; the edges are lo + i*w */
    while (i > 0 && v < lo + (double)i * w)
        i--;
    while (i + 1 < n && v >= lo + (double)(i + 1) * w)
        i++;
    return i;
}

typedef struct {
    const pctx *p;
    double *v;
    size_t n, cap;
    sr_sketch *sk; /* sketch path: values go here instead */
    double min;
} hist_acc;

static int hist_value(hist_acc *h, double v)
{
    if (v < h->min)
        h->min = v;
    if (h->sk)
        return sr_sketch_add(h->sk, v);
    if (sr_reserve(&h->v, &h->cap, h->n, sizeof *h->v))
        return SR_ENOMEM;
    h->v[h->n++] = v;
    return 0;
}

static int hist_value_cb(void *ctx, double v)
{
    return hist_value(ctx, v);
}

static int hist_raw_cb(void *ctx, int64_t e, sr_ms ts, double v)
{
    (void)ts;
    hist_acc *h = ctx;
    return in_subtree(h->p, e) ? hist_value(h, v) : 0;
}

static int hist_scan_raw(hist_acc *h, int64_t metric, sr_ms from, sr_ms to)
{
    if (from >= to)
        return 0;
    if (!h->p->mask)
        return sr_store_scan_values(h->p->st, metric, from, to, hist_value_cb, h);
    return sr_store_scan_raw(h->p->st, metric, from, to, hist_raw_cb, h);
}

static int hist_exact(hist_acc *h, int64_t metric, size_t bins, sr_panel_model *m)
{
    int rc = hist_scan_raw(h, metric, h->p->q.from_ms, h->p->q.to_ms);
    if (rc || h->n == 0)
        return rc;
    sr_vals_sort(h->v, h->n);
    double p99 = sr_percentile_sorted(h->v, h->n, 99, h->p->def->percentile);
    double lo, w;
    if (!hist_layout(h->v[0], p99, bins, &lo, &w))
        return 0;
    for (size_t i = 0; i < h->n; i++)
        m->hist[hist_bin(h->v[i], lo, w, bins)]++;
    m->n_hist = bins;
    m->hist_lo = lo;
    m->hist_hi = lo + (double)bins * w;
    m->hist_exact = true;
    return 0;
}

static int hist_sketch(hist_acc *h, int64_t metric, size_t bins, sr_panel_model *m)
{
    int rc = sr_sketch_create(SR_SKETCH_ALPHA, &h->sk);
    if (rc)
        return rc;
    sr_ms from = h->p->q.from_ms, to = h->p->q.to_ms;
    sr_ms a = sr_ceil_ms(from, SR_MS_HOUR), b = sr_floor_ms(to, SR_MS_HOUR);
    if (a >= b) {
        rc = hist_scan_raw(h, metric, from, to);
    } else {
        double min;
        rc = sr_query_hours_sketch(h->p->st, metric, h->p->node, a, b, h->sk, &min);
        if (min < h->min)
            h->min = min;
        if (!rc)
            rc = hist_scan_raw(h, metric, from, a);
        if (!rc)
            rc = hist_scan_raw(h, metric, b, to);
    }
    uint64_t n = sr_sketch_count(h->sk);
    if (rc || n == 0)
        return rc;
    /* the sketch's p99 is within a relative alpha of the exact one: cover that */
    double r = sr_sketch_quantile(h->sk, 0.99);
    double top = r >= 0 ? r / (1 - SR_SKETCH_ALPHA) : r / (1 + SR_SKETCH_ALPHA);
    double lo, w;
    if (!hist_layout(h->min, top, bins, &lo, &w))
        return 0;
    uint64_t below = 0; /* observations under the current bin: none under lo <= min */
    for (size_t i = 0; i + 1 < bins; i++) {
        uint64_t le = sr_sketch_count_le(h->sk, nextafter(lo + (double)(i + 1) * w, -INFINITY));
        if (le < below)
            le = below;
        if (le > n)
            le = n;
        m->hist[i] = le - below;
        below = le;
    }
    m->hist[bins - 1] = n - below;
    m->n_hist = bins;
    m->hist_lo = lo;
    m->hist_hi = lo + (double)bins * w;
    m->hist_exact = false;
    return 0;
}

static int compute_hist(const pctx *p, size_t bins, int64_t exact_max, sr_panel_model *m)
{
    if (p->def->kind != SR_KIND_EVENT || bins == 0)
        return 0;
    if (bins > SR_HIST_MAX)
        bins = SR_HIST_MAX;
    int64_t metric;
    int rc = sr_store_metric_id(p->st, p->def->name, &metric);
    if (rc)
        return rc == SR_ENOENT ? 0 : rc;
    /*
     * The way is picked by what an exact histogram would read: the raw
     * samples of the whole tree in the window (the sample key leads with
     * (metric, ts); the subtree is filtered after), counted from the
     * rollups. A small unit over a month of a busy force takes the sketches.
     */
    sr_query cq = p->q;
    cq.entity = "";
    cq.agg = (sr_agg){SR_AGG_COUNT, 0};
    sr_result count;
    if ((rc = sr_query_run(p->st, p->cat, &cq, &count)))
        return rc;
    if (count.n == 0)
        return 0;
    hist_acc h = {.p = p, .min = INFINITY};
    if (count.n <= (exact_max > 0 ? exact_max : SR_PANEL_HIST_EXACT_N))
        rc = hist_exact(&h, metric, bins, m);
    else
        rc = hist_sketch(&h, metric, bins, m);
    free(h.v);
    sr_sketch_destroy(h.sk);
    return rc;
}

/* ---- events ---- */

typedef struct {
    const pctx *p;
    sr_panel_model *m;
    size_t max, cap;
} events_ctx;

static int events_cb(void *ctx, int64_t e, sr_ms ts, double v, const char *key)
{
    events_ctx *x = ctx;
    if (!in_subtree(x->p, e))
        return 0;
    sr_panel_model *m = x->m;
    if (m->n_events == x->cap) {
        size_t ncap = x->cap ? x->cap * 2 : 16;
        if (ncap > x->max)
            ncap = x->max;
        sr_panel_event *nv = realloc(m->events, ncap * sizeof *nv);
        if (!nv)
            return SR_ENOMEM;
        m->events = nv;
        x->cap = ncap;
    }
    sr_panel_event *ev = &m->events[m->n_events++];
    ev->ts_ms = ts;
    ev->id = e;
    ev->value = v;
    copy_str(ev->entity, sizeof ev->entity, sr_store_entity_path(x->p->st, e));
    copy_str(ev->key, sizeof ev->key, key);
    return m->n_events == x->max ? 1 : 0;
}

static int compute_events(const pctx *p, size_t max_events, sr_panel_model *m)
{
    if (max_events == 0 || p->def->kind == SR_KIND_RATIO)
        return 0;
    int64_t metric;
    int rc = sr_store_metric_id(p->st, p->def->name, &metric);
    if (rc)
        return rc == SR_ENOENT ? 0 : rc;
    events_ctx x = {p, m, max_events, 0};
    rc = sr_store_scan_raw_desc(p->st, metric, p->q.from_ms, p->q.to_ms, events_cb, &x);
    return rc < 0 ? rc : 0;
}

/* ---- the baseline ---- */

/* The fewest observations (> 0) of n, or of *min when fewer; 0 stays for none. */
static void min_n(int64_t *min, int64_t n)
{
    if (n > 0 && (*min == 0 || n < *min))
        *min = n;
}

/* Each row's run against its baseline: its verdict, how far outside its
 * band it is, and the fewest observations any of it rests on. */
static int rows_baseline(pctx *p, const sr_baseline_opts *o, size_t n, sr_panel_model *m)
{
    sr_baseline_slice *run = calloc(n, sizeof *run);
    if (!run)
        return SR_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < m->n_rows && !rc; i++) {
        sr_panel_row *r = &m->rows[i];
        sr_query q = p->q;
        q.entity = r->entity;
        if ((rc = sr_baseline_run(p->st, p->cat, &q, o, n, run)))
            break;
        r->unusual = sr_baseline_unusual(run, n);
        r->base_min_n = 0;
        for (size_t k = 0; k < n; k++) {
            min_n(&r->base_min_n, run[k].figure.n);
            for (int w = 0; w < run[k].base.weeks; w++)
                if (run[k].base.week[w].state == SR_WEEK_USED)
                    min_n(&r->base_min_n, run[k].base.week[w].r.n);
        }
        const sr_baseline *b = &run[n - 1].base;
        double v = run[n - 1].figure.value, width = b->high - b->low;
        if (width <= 0)
            width = 1;
        r->outside = !b->has_band || isnan(v) ? NAN
                     : v > b->high            ? (v - b->high) / width
                     : v < b->low             ? -(b->low - v) / width
                                              : 0;
    }
    free(run);
    return rc;
}

/* The run of the metric's unusual_slices slices ending with the window, each
 * against its baseline, and their verdict. */
static int compute_baseline(pctx *p, const sr_panel_spec *spec, sr_panel_model *m)
{
    sr_ms len = p->q.to_ms - p->q.from_ms;
    sr_baseline_label(spec->baseline_opts.tz, p->q.from_ms, p->q.to_ms, m->base_label,
                      sizeof m->base_label);
    if (len > SR_BASELINE_SLICE_MAX)
        return 0; /* longer than a week: no same slice of the week */
    sr_baseline_opts o = spec->baseline_opts;
    if (o.weeks == 0)
        o.weeks = (int)p->def->baseline_weeks;
    size_t n = (size_t)p->def->unusual_slices;
    if (n < 1)
        n = 1;
    if (n > SR_UNUSUAL_MAX_SLICES)
        n = SR_UNUSUAL_MAX_SLICES;
    sr_baseline_slice *run = calloc(n, sizeof *run);
    if (!run)
        return SR_ENOMEM;
    int rc = sr_baseline_run(p->st, p->cat, &p->q, &o, n, run);
    if (rc) {
        free(run);
        return rc;
    }
    m->base_run = run;
    m->n_base_run = n;
    m->unusual = sr_baseline_unusual(run, n);
    return rows_baseline(p, &o, n, m);
}

/* ---- the forecast ---- */

/* The forecast of the panel's figure from the window's end, and how many
 * observations it rests on. */
static int compute_forecast(pctx *p, const sr_panel_spec *spec, sr_panel_model *m)
{
    if (!sr_forecast_suits(p->def->kind, m->agg))
        return 0;
    sr_forecast_opts o = {.base = spec->baseline_opts,
                          .horizon_ms = spec->forecast_horizon_ms > 0 ? spec->forecast_horizon_ms
                                                                      : SR_FORECAST_HORIZON_DEFAULT,
                          .additive = sr_forecast_additive(m->agg),
                          .max_error = p->def->forecast_max_error / 100.0};
    if (o.base.weeks == 0)
        o.base.weeks = (int)p->def->baseline_weeks;
    int rc = sr_forecast_compute(p->st, p->cat, &p->q, &o, &m->forecast);
    if (rc)
        return rc;
    sr_query q = p->q;
    q.agg = (sr_agg){SR_AGG_COUNT, 0};
    q.to_ms = m->forecast.now.from_ms;
    q.from_ms = sr_forecast_data_from(&m->forecast, &o);
    sr_result all;
    if ((rc = sr_query_run(p->st, p->cat, &q, &all)))
        return rc;
    m->fc_data_from_ms = q.from_ms;
    m->fc_n = all.n;
    m->has_forecast = true;
    return 0;
}

/* ---- the whole model ---- */

static int compute(pctx *p, const sr_panel_spec *spec, unsigned what, size_t n_series,
                   size_t n_hist, size_t max_events, sr_panel_model *m)
{
    if (what & SR_PANEL_VALUE_ONLY) {
        int rc = sr_query_run(p->st, p->cat, &p->q, &m->c.now);
        if (!rc)
            m->status = sr_kpi_status_for(p->def, m->agg, m->c.now.value);
        if (!rc && spec->baseline) /* an unusual alert's verdict and band */
            rc = compute_baseline(p, spec, m);
        return rc;
    }
    int rc = sr_query_compare(p->st, p->cat, &p->q, &m->c);
    if (rc)
        return rc;
    m->status = sr_kpi_status_for(p->def, m->agg, m->c.now.value);
    double now = m->c.now.value, prev = m->c.prev.value;
    m->change_pct =
        isnan(now) || isnan(prev) || prev == 0 ? NAN : (now - prev) / fabs(prev) * 100.0;
    if (p->def->kind == SR_KIND_EVENT && !isnan(p->def->target) && m->agg.kind != SR_AGG_WITHIN &&
        m->agg.kind != SR_AGG_COUNT) {
        /* "p90 13m42s · 91% within target": the share beside the figure */
        sr_query wq = p->q;
        wq.agg = (sr_agg){SR_AGG_WITHIN, 0};
        sr_result wr;
        if ((rc = sr_query_run(p->st, p->cat, &wq, &wr)))
            return rc;
        m->within_pct = wr.value;
    }
    /* the sources behind the figures (a ratio's parts) */
    const char *parts[2] = {p->def->name, NULL};
    if (p->def->kind == SR_KIND_RATIO) {
        parts[0] = p->def->numerator;
        parts[1] = p->def->denominator;
    }
    for (int i = 0; i < 2 && parts[i]; i++) {
        char names[4][SR_NAME_MAX];
        size_t n;
        if ((rc = sr_store_metric_sources(p->st, parts[i], names, 4, &n)))
            return rc;
        for (size_t k = 0; k < n && m->n_sources < 4; k++) {
            size_t j = 0;
            while (j < m->n_sources && strcmp(m->sources[j], names[k]) != 0)
                j++;
            if (j == m->n_sources)
                memcpy(m->sources[m->n_sources++], names[k], SR_NAME_MAX);
        }
    }
    if ((rc = build_mask(p)) || (rc = newest(p, m->to_ms, &m->newest_ms)))
        return rc;
    if (isfinite(m->c.prev.value)) {
        /* the previous window's value is of a part of it when the metric's
         * data begins inside it (an export, a new source): no change told */
        bool covered;
        if ((rc = covered_from(p, p->q.from_ms - (p->q.to_ms - p->q.from_ms), &covered)))
            return rc;
        m->prev_partial = !covered;
        if (m->prev_partial)
            m->change_pct = NAN;
    }
    if ((what & SR_PANEL_SERIES) && n_series > 0) {
        if (n_series > SR_SERIES_MAX)
            n_series = SR_SERIES_MAX;
        n_series = sr_query_series_points(p->q.to_ms - p->q.from_ms, n_series);
        if ((rc = series_compute(p, &p->q, n_series, p->pool_min_n, m->series,
                                 (what & SR_PANEL_SERIES_N) ? m->series_n : NULL, &m->series_pool)))
            return rc;
        m->n_series = n_series;
        sr_ms end;
        sr_query_series_slices(&p->q, n_series, &m->series_slice_ms, &end);
    }
    if ((what & SR_PANEL_ROWS) &&
        (rc = compute_rows(p, what & SR_PANEL_ROW_SERIES, what & SR_PANEL_SERIES_N, m)))
        return rc;
    if ((what & SR_PANEL_ROWS) && (rc = compute_denoms(p, spec->per, m)))
        return rc;
    if ((what & SR_PANEL_HIST) && (rc = compute_hist(p, n_hist, spec->hist_exact_max, m)))
        return rc;
    if ((what & SR_PANEL_EVENTS) && (rc = compute_events(p, max_events, m)))
        return rc;
    if (spec->baseline && (rc = compute_baseline(p, spec, m)))
        return rc;
    if (spec->forecast && (rc = compute_forecast(p, spec, m)))
        return rc;
    return 0;
}

/* The aggregate the panel shows: the metric's own for SR_AGG_VALUE. */
static sr_agg resolve_agg(const sr_metric_def *d, sr_agg asked)
{
    if (d->kind == SR_KIND_RATIO)
        return asked;
    if (asked.kind != SR_AGG_VALUE)
        return asked;
    return d->agg.kind == SR_AGG_VALUE ? sr_kind_default_agg(d->kind) : d->agg;
}

int sr_panel_compute(sr_store *st, const sr_catalog *cat, const sr_panel_spec *spec, sr_ms now,
                     unsigned what, size_t n_series, size_t n_hist, size_t max_events,
                     sr_panel_model *out)
{
    if (!out)
        return SR_EINVAL;
    model_empty(out);
    if (!st || !cat || !spec || !spec->metric)
        return SR_EINVAL;
    out->agg = spec->agg;
    out->from_ms = now - spec->window_ms;
    out->to_ms = now;
    const sr_metric_def *def = sr_catalog_find(cat, spec->metric);
    if (def) {
        out->def = def;
        out->agg = resolve_agg(def, spec->agg);
    }
    if (spec->per && *spec->per)
        out->per_def = sr_catalog_find(cat, spec->per);
    sr_agg_format(out->agg, out->agg_name, sizeof out->agg_name);
    if (!def)
        return SR_ENOENT;
    if (spec->window_ms <= 0 || !sr_agg_valid_for(out->agg, def->kind))
        return SR_EINVAL;

    pctx p = {.st = st,
              .cat = cat,
              .def = def,
              .entity = spec->entity ? spec->entity : "",
              .pool_min_n = spec->pool_min_n};
    int rc = sr_store_entity_id(st, p.entity, &p.node);
    if (rc)
        return rc;
    p.node = sr_store_entity_same(st, p.node); /* the node whose cells it reads */
    p.q = (sr_query){.metric = def->name,
                     .entity = p.entity,
                     .agg = out->agg,
                     .from_ms = out->from_ms,
                     .to_ms = now};
    rc = compute(&p, spec, what, n_series, n_hist, max_events, out);
    free(p.mask);
    if (rc)
        model_reset(out);
    return rc;
}
