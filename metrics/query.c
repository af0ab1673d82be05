/*
 * query.c - window aggregates over the entity tree.
 *
 * A node's aggregate pools every observation of its subtree: a parent's
 * percentile is computed from its descendants' observations, never by
 * averaging theirs.
 *
 * How a window [from, to) is read (cover()): the whole hours inside it come
 * from hour rollup cells, what is left at the edges from those cells'
 * per-minute figures, and the ragged ends (less than a minute) from raw
 * samples. Rollup cells exist for every node (store_rollup.c), so the cost of a
 * 30-day aggregate is ~720 cells whatever the data volume. Raw samples are
 * filtered to the node's subtree with a mask indexed by entity id.
 *
 * Percentiles and "within" are exact (from raw samples) for windows up to
 * SR_QUERY_EXACT_MS, and for longer ones with at most SR_QUERY_EXACT_N
 * observations (counted first from the rollups); otherwise the hourly
 * cells' sketches are merged (relative error <= SR_SKETCH_ALPHA) and the
 * result says exact = false.
 *
 * Gauges: a gauge's value is the sum over entities of each one's latest
 * sample in the window. Gauge cells are kept per entity (not per ancestor),
 * so a gauge reads each entity of the subtree in turn.
 *
 * Ratios: numerator and denominator are aggregated separately over the same
 * node and window, then divided, so a parent's ratio is exact (not an
 * average of its children's ratios).
 */

#include "query_int.h"

void q_acc_init(acc *a)
{
    memset(a, 0, sizeof *a);
    a->min = INFINITY;
    a->max = -INFINITY;
    a->last_ts = INT64_MIN;
}

void q_acc_fini(acc *a)
{
    free(a->vals);
    sr_sketch_destroy(a->sk);
}

/*
 * Adds x to the sum, keeping what the addition rounds away (Neumaier's
 * compensated sum): the sum of many amounts with cents is then the double
 * nearest their exact sum (192793629.14, not 192793629.14000002), so an
 * output of the shortest text that reads back as it shows no noise.
 */
static void acc_add(acc *a, double x)
{
    double t = a->sum + x;
    a->sum_err += fabs(a->sum) >= fabs(x) ? (a->sum - t) + x : (x - t) + a->sum;
    a->sum = t;
}

/* The compensated sum; an infinity once the sum overflowed. */
static double acc_sum(const acc *a)
{
    return isinf(a->sum) ? a->sum : a->sum + a->sum_err;
}

void q_acc_value(acc *a, sr_ms ts, double v)
{
    a->n++;
    acc_add(a, v);
    if (v < a->min)
        a->min = v;
    if (v > a->max)
        a->max = v;
    if (ts >= a->last_ts) {
        a->last_ts = ts;
        a->last = v;
    }
    if (a->collect) {
        if (sr_reserve(&a->vals, &a->cap, a->nv, sizeof *a->vals)) {
            a->failed = SR_ENOMEM;
            return;
        }
        a->vals[a->nv++] = v;
    }
    if (a->sk && sr_sketch_add(a->sk, v))
        a->failed = SR_ENOMEM;
}

int q_raw_cb(void *ctx, int64_t e, sr_ms ts, double v)
{
    qctx *q = ctx;
    if (!in_subtree(q, e))
        return 0;
    q_acc_value(q->a, ts, v);
    if (q->g_ts && e < q->mask_n && ts >= q->g_ts[e]) {
        q->g_ts[e] = ts;
        q->g_val[e] = v;
    }
    return q->a->failed;
}

/* Adds up the observations of hour cells. */
int q_count_cb(void *ctx, const sr_rollup_cell *c)
{
    *(int64_t *)ctx += c->n;
    return 0;
}

/* Values only, into a sketch (long-window percentiles of the whole tree). */
static int sketch_value_cb(void *ctx, double v)
{
    acc *a = ctx;
    a->n++;
    if (sr_sketch_add(a->sk, v))
        return a->failed = SR_ENOMEM;
    return 0;
}

/* Raw samples of [from, to) into q->a: values only when that is enough. */
static int scan_raw(qctx *q, sr_ms from, sr_ms to)
{
    if (q->a->sk && !q->mask && !q->g_ts)
        return sr_store_scan_values(q->st, q->metric, from, to, sketch_value_cb, q->a);
    return sr_store_scan_raw(q->st, q->metric, from, to, q_raw_cb, q);
}

/* Values only (exact percentiles of the whole tree): n and the values. */
static int value_cb(void *ctx, double v)
{
    acc *a = ctx;
    a->n++;
    if (sr_reserve(&a->vals, &a->cap, a->nv, sizeof *a->vals))
        return a->failed = SR_ENOMEM;
    a->vals[a->nv++] = v;
    return 0;
}

/* Merges a non-empty cell's sketch into a's. */
int q_merge_cell_sketch(acc *a, const sr_rollup_cell *c)
{
    if (!c->sketch)
        return a->failed = SR_ECORRUPT;
    int rc = sr_sketch_merge_encoded(a->sk, c->sketch, c->sketch_len);
    return rc ? (a->failed = rc) : 0;
}

int q_cell_cb(void *ctx, const sr_rollup_cell *c)
{
    qctx *q = ctx;
    acc *a = q->a;
    if (c->n <= 0)
        return 0;
    a->n += c->n;
    acc_add(a, c->sum);
    if (c->min < a->min)
        a->min = c->min;
    if (c->max > a->max)
        a->max = c->max;
    if (c->last_ts >= a->last_ts) {
        a->last_ts = c->last_ts;
        a->last = c->last;
    }
    return a->sk ? q_merge_cell_sketch(a, c) : 0;
}

/* Gauge cells: the entity's latest value in the cell. */
typedef struct {
    qctx *q;
    int64_t entity;
} gcell_ctx;

static int gauge_cell_cb(void *ctx, const sr_rollup_cell *c)
{
    gcell_ctx *g = ctx;
    int rc = q_cell_cb(g->q, c);
    if (rc)
        return rc;
    if (c->n > 0 && c->last_ts >= g->q->g_ts[g->entity]) {
        g->q->g_ts[g->entity] = c->last_ts;
        g->q->g_val[g->entity] = c->last;
    }
    return 0;
}

static int build_mask(qctx *q)
{
    if (q->node == SR_ENTITY_ROOT && !q->g_ts)
        return 0;
    return sr_store_subtree_mask(q->st, q->node, &q->mask, &q->mask_n);
}

/* Minutes of one hour cell that fall in [q->mfrom, q->mto). */
typedef struct {
    qctx *q;
    sr_ms from, to;
} minutes_ctx;

static int minutes_cb(void *ctx, const sr_rollup_cell *c)
{
    minutes_ctx *m = ctx;
    sr_minute_cell mc[60];
    int n = sr_rollup_minutes(c, mc);
    if (n < 0)
        return m->q->a->failed = SR_ECORRUPT;
    for (int i = 0; i < n; i++) {
        if (mc[i].bucket_ms < m->from || mc[i].bucket_ms >= m->to)
            continue;
        sr_rollup_cell one = {.bucket_ms = mc[i].bucket_ms,
                              .n = mc[i].n,
                              .sum = mc[i].sum,
                              .min = mc[i].min,
                              .max = mc[i].max,
                              .last_ts = INT64_MIN}; /* minutes keep no latest value */
        int rc = q_cell_cb(m->q, &one);
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * [from, to) inside one hour: whole minutes from that hour cell's minute
 * breakdown (when allowed), the ragged ends from raw samples.
 */
static int cover_partial(qctx *q, sr_ms from, sr_ms to, int minutes)
{
    if (from >= to)
        return 0;
    sr_ms a = sr_ceil_ms(from, SR_MS_MIN), b = sr_floor_ms(to, SR_MS_MIN);
    if (!minutes || a >= b)
        return scan_raw(q, from, to);
    minutes_ctx m = {q, a, b};
    sr_ms hour = sr_floor_ms(from, SR_MS_HOUR);
    int rc = sr_store_scan_rollup(q->st, q->metric, q->node, hour, hour + SR_MS_HOUR,
                                  SR_SCAN_MINUTES, minutes_cb, &m);
    if (!rc && from < a)
        rc = scan_raw(q, from, a);
    if (!rc && b < to)
        rc = scan_raw(q, b, to);
    return rc;
}

/*
 * Reads [from, to) into q->a: whole hours from hour cells, the partial hours
 * at the edges from the cells' minutes (when `minutes`) and raw samples.
 */
static int cover(qctx *q, sr_ms from, sr_ms to, int minutes)
{
    if (from >= to)
        return 0;
    sr_ms a = sr_ceil_ms(from, SR_MS_HOUR), b = sr_floor_ms(to, SR_MS_HOUR);
    if (a > b)
        return cover_partial(q, from, to, minutes);
    int rc = 0;
    if (a < b) {
        if (q->g_ts) {
            /* gauges: each reporting entity of the subtree keeps its own cells */
            const int64_t *ids;
            size_t n;
            rc = sr_store_cell_nodes(q->st, q->metric, &ids, &n);
            for (size_t i = 0; i < n && !rc; i++) {
                int64_t e = ids[i];
                if (e < 1 || e >= q->mask_n || !q->mask[e])
                    continue;
                gcell_ctx g = {q, e};
                rc = sr_store_scan_rollup(q->st, q->metric, e, a, b, SR_SCAN_NO_SKETCH,
                                          gauge_cell_cb, &g);
            }
        } else {
            unsigned flags = q->a->sk ? 0 : q->counts ? SR_SCAN_STAMPS : SR_SCAN_NO_SKETCH;
            rc = sr_store_scan_rollup(q->st, q->metric, q->node, a, b, flags, q_cell_cb, q);
        }
    }
    if (!rc)
        rc = cover_partial(q, from, a, minutes);
    if (!rc)
        rc = cover_partial(q, b, to, minutes);
    return rc;
}

/* ---- exact percentiles ---- */

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Moves the k-th smallest (0-based) of v[0..n) to v[k]; smaller before it. */
static void select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        /* median of three as pivot, placed at hi */
        if (v[mid] < v[lo])
            swap(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap(&v[hi], &v[lo]);
        if (v[mid] < v[hi])
            swap(&v[mid], &v[hi]);
        double pivot = v[hi];
        /* three-way partition: < pivot | == pivot | > pivot */
        size_t lt = lo, i = lo, gt = hi;
        while (i <= gt) {
            if (v[i] < pivot) {
                swap(&v[i++], &v[lt++]);
            } else if (v[i] > pivot) {
                swap(&v[i], &v[gt]);
                if (gt == 0)
                    break;
                gt--;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt - 1;
        else if (k > gt)
            lo = gt + 1;
        else
            return;
    }
}

size_t q_nearest_rank(double p, size_t n)
{
    double x = p * (double)n / 100.0;
    double r = ceil(x - 1e-9 * (x > 1 ? x : 1));
    if (r < 1)
        r = 1;
    if (r > (double)n)
        r = (double)n;
    return (size_t)r;
}

/* The percentile of unsorted v (reordered in place). */
static double percentile_select(double *v, size_t n, double p, sr_pct_method m)
{
    if (n == 0)
        return NAN;
    if (m == SR_PCT_NEAREST_RANK) {
        size_t k = q_nearest_rank(p, n) - 1;
        select_kth(v, n, k);
        return v[k];
    }
    double h = (double)(n - 1) * p / 100.0;
    size_t k = (size_t)floor(h);
    select_kth(v, n, k);
    double lo = v[k];
    if (k + 1 >= n)
        return lo;
    double hi = v[k + 1];
    for (size_t i = k + 2; i < n; i++) {
        if (v[i] < hi)
            hi = v[i];
    }
    return lo + (h - (double)k) * (hi - lo);
}

double sr_percentile_sorted(const double *v, size_t n, double p, sr_pct_method m)
{
    if (n == 0)
        return NAN;
    if (m == SR_PCT_NEAREST_RANK)
        return v[q_nearest_rank(p, n) - 1];
    double h = (double)(n - 1) * p / 100.0;
    size_t k = (size_t)floor(h);
    if (k + 1 >= n)
        return v[n - 1];
    return v[k] + (h - (double)k) * (v[k + 1] - v[k]);
}

double q_sketch_percentile(const sr_sketch *sk, double p, sr_pct_method m)
{
    uint64_t n = sr_sketch_count(sk);
    if (n == 0)
        return NAN;
    if (m == SR_PCT_NEAREST_RANK)
        return sr_sketch_at_rank(sk, q_nearest_rank(p, (size_t)n));
    double h = (double)(n - 1) * p / 100.0;
    uint64_t k = (uint64_t)floor(h);
    double lo = sr_sketch_at_rank(sk, k + 1);
    if (k + 1 >= n)
        return lo;
    double hi = sr_sketch_at_rank(sk, k + 2);
    return lo + (h - (double)k) * (hi - lo);
}

/* ---- one aggregate ---- */

/* The node a query of entity reads: its same node (sr_store_entity_same). */
static int node_of(sr_store *st, const char *entity, int64_t *node)
{
    int rc = sr_store_entity_id(st, entity, node);
    if (!rc)
        *node = sr_store_entity_same(st, *node);
    return rc;
}

static int run_plain(sr_store *st, const sr_catalog *cat, const sr_metric_def *d, const sr_query *q,
                     sr_agg agg, const sr_memo_stamp *stamp, sr_result *out);

static int run_ratio(sr_store *st, const sr_catalog *cat, const sr_metric_def *d, const sr_query *q,
                     sr_result *out)
{
    const sr_metric_def *num = sr_catalog_find(cat, d->numerator);
    const sr_metric_def *den = sr_catalog_find(cat, d->denominator);
    if (!num || !den || num->kind == SR_KIND_RATIO || den->kind == SR_KIND_RATIO)
        return SR_EINVAL;
    sr_result a, b;
    int rc = run_plain(st, cat, num, q, sr_kind_default_agg(num->kind), NULL, &a);
    if (!rc)
        rc = run_plain(st, cat, den, q, sr_kind_default_agg(den->kind), NULL, &b);
    if (rc)
        return rc;
    out->n = b.n;
    out->exact = a.exact && b.exact;
    out->value = (isinf(a.value) || isinf(b.value)) ? INFINITY /* an overflow (query.h) */
                 : (isnan(a.value) || isnan(b.value) || b.value == 0)
                     ? NAN
                     : a.value / b.value * (d->scale != 0 ? d->scale : 1.0);
    return 0;
}

/*
 * A summed result of observations that is NAN went beyond a double's range
 * both ways (an infinity plus the other): an overflow, so an infinity
 * (query.h), never "no data".
 */
static void note_overflow(sr_result *r, bool summed)
{
    if (r->n > 0 && summed && isnan(r->value))
        r->value = INFINITY;
}

static int run_plain(sr_store *st, const sr_catalog *cat, const sr_metric_def *d, const sr_query *q,
                     sr_agg agg, const sr_memo_stamp *stamp, sr_result *out)
{
    (void)cat;
    out->value = NAN;
    out->n = 0;
    out->exact = true;
    if (agg.kind == SR_AGG_VALUE)
        agg = d->agg.kind == SR_AGG_VALUE ? sr_kind_default_agg(d->kind) : d->agg;
    if (!sr_agg_valid_for(agg, d->kind))
        return SR_EINVAL;
    if (q->to_ms <= q->from_ms)
        return SR_EINVAL;
    if (agg.kind == SR_AGG_COUNT)
        out->value = 0; /* nothing happened is a count too, not "no data" */

    qctx c = {.st = st};
    int rc = node_of(st, q->entity, &c.node);
    if (rc)
        return rc;
    if (sr_store_metric_id(st, d->name, &c.metric) == SR_ENOENT)
        return 0; /* never stored: no value */

    acc a;
    q_acc_init(&a);
    c.a = &a;
    struct sr_memo *memo = NULL; /* where to put the result */
    stamps scanned = {0};        /* the cells' stamps q_memo_lookup read, if it read them */
    sr_memo_key mkey;
    sr_memo_stamp mstamp;
    sr_ms from = q->from_ms, to = q->to_ms;
    bool pct = agg.kind == SR_AGG_PCT || agg.kind == SR_AGG_WITHIN;
    int minutes = agg.kind != SR_AGG_LAST; /* minutes keep no latest value */
    if (d->kind == SR_KIND_GAUGE) {
        c.mask_n = sr_store_entity_limit(st);
        c.g_ts = malloc((size_t)(c.mask_n + 1) * sizeof *c.g_ts);
        c.g_val = malloc((size_t)(c.mask_n + 1) * sizeof *c.g_val);
        if (!c.g_ts || !c.g_val) {
            rc = SR_ENOMEM;
            goto out;
        }
        for (int64_t e = 0; e <= c.mask_n; e++)
            c.g_ts[e] = INT64_MIN;
        minutes = 0;
    }
    if ((rc = build_mask(&c)))
        goto out;
    /* memoised: percentiles of events, and every aggregate of a closed slice
     * of events or counters (whose cells every node has; a gauge's are its
     * reporting entities', so its node has no stamp) */
    if (d->kind == SR_KIND_EVENT ? pct || q->closed : d->kind == SR_KIND_COUNTER && q->closed) {
        bool hit;
        memo = q_memo_lookup(&c, d, agg, q, stamp, &scanned, &mkey, &mstamp, out, &hit, &rc);
        if (hit)
            memo = NULL; /* nothing to put back */
        if (rc || hit)
            goto out;
    }
    bool few = false; /* the cells said: few enough to read raw, exactly */
    if (pct && d->kind == SR_KIND_EVENT &&
        sr_ceil_ms(from, SR_MS_HOUR) < sr_floor_ms(to, SR_MS_HOUR)) {
        rc = q_pct_by_buckets(&c, d, agg, from, to,
                              q->exact_max > 0 ? q->exact_max : SR_QUERY_EXACT_N, q->raw_max,
                              scanned.h ? &scanned : NULL, out);
        if (rc != PCT_USE_RAW)
            goto out;
        q_acc_fini(&a);
        q_acc_init(&a);
        out->value = NAN;
        out->n = 0;
        out->exact = true;
        few = true;
    }
    if (pct) {
        /*
         * Long windows: one pass over the hour cells merges their sketches
         * and counts the observations; when they are few, the answer is
         * computed again, exactly, from the raw samples.
         */
        bool exact = few || to - from <= SR_QUERY_EXACT_MS;
        if (!exact) {
            if (sr_sketch_create(SR_SKETCH_ALPHA, &a.sk)) {
                rc = SR_ENOMEM;
                goto out;
            }
            if ((rc = cover(&c, from, to, 0)) || (rc = a.failed))
                goto out;
            int64_t limit = q->exact_max > 0 ? q->exact_max : SR_QUERY_EXACT_N;
            exact = a.n <= limit;
            if (exact && c.mask) {
                /* the exact path reads the whole tree's rows and keeps the
                 * subtree's: judge it by what it would read */
                int64_t all = 0;
                rc = sr_store_scan_rollup(st, c.metric, SR_ENTITY_ROOT, from, to + SR_MS_HOUR, 0,
                                          q_count_cb, &all);
                if (rc)
                    goto out;
                exact = all <= limit;
            }
            if (exact) {
                q_acc_fini(&a);
                q_acc_init(&a);
            }
        }
        if (exact) {
            a.collect = 1;
            rc = c.mask ? sr_store_scan_raw(st, c.metric, from, to, q_raw_cb, &c)
                        : sr_store_scan_values(st, c.metric, from, to, value_cb, &a);
        } else {
            out->exact = false;
        }
    } else {
        /* a count, sum or average needs no cell's minimum, maximum or latest */
        c.counts = agg.kind == SR_AGG_COUNT || agg.kind == SR_AGG_SUM || agg.kind == SR_AGG_AVG;
        rc = cover(&c, from, to, minutes);
    }
    if (!rc)
        rc = a.failed;
    if (rc)
        goto out;

    out->n = a.n;
    if (d->kind == SR_KIND_GAUGE && (agg.kind == SR_AGG_LAST || agg.kind == SR_AGG_VALUE)) {
        /* the level now: each entity's latest value, summed */
        double sum = 0;
        int64_t contributing = 0;
        for (int64_t e = 1; e < c.mask_n; e++) {
            if (c.mask[e] && c.g_ts[e] != INT64_MIN) {
                sum += c.g_val[e];
                contributing++;
            }
        }
        out->n = contributing;
        out->value = contributing ? sum : NAN;
        goto out;
    }
    if (a.n == 0)
        goto out;
    switch (agg.kind) {
    case SR_AGG_COUNT:
        out->value = (double)a.n;
        break;
    case SR_AGG_SUM:
        out->value = acc_sum(&a);
        break;
    case SR_AGG_AVG:
        out->value = acc_sum(&a) / (double)a.n;
        break;
    case SR_AGG_MIN:
        out->value = a.min;
        break;
    case SR_AGG_MAX:
        out->value = a.max;
        break;
    case SR_AGG_LAST:
        out->value = a.last;
        break;
    case SR_AGG_PCT:
        out->value = a.collect ? percentile_select(a.vals, a.nv, agg.p, d->percentile)
                               : q_sketch_percentile(a.sk, agg.p, d->percentile);
        break;
    case SR_AGG_WITHIN: {
        if (isnan(d->target))
            break;
        uint64_t good = 0;
        if (a.collect) {
            for (size_t i = 0; i < a.nv; i++) {
                if (d->better == SR_BETTER_LOWER ? a.vals[i] <= d->target : a.vals[i] >= d->target)
                    good++;
            }
        } else {
            uint64_t n = sr_sketch_count(a.sk);
            good = d->better == SR_BETTER_LOWER
                       ? sr_sketch_count_le(a.sk, d->target)
                       : n - sr_sketch_count_le(a.sk, nextafter(d->target, -INFINITY));
        }
        out->value = 100.0 * (double)good / (double)a.n;
        break;
    }
    case SR_AGG_VALUE:
        break;
    }
out:
    if (!rc && agg.kind == SR_AGG_COUNT)
        out->value = (double)out->n; /* also from a memo kept before counts of nothing were 0 */
    note_overflow(out, agg.kind == SR_AGG_SUM || agg.kind == SR_AGG_AVG ||
                           (d->kind == SR_KIND_GAUGE &&
                            (agg.kind == SR_AGG_LAST || agg.kind == SR_AGG_VALUE)));
    if (!rc && memo)
        q_memo_put_result(memo, &mkey, &mstamp, out);
    free(scanned.h);
    q_acc_fini(&a);
    free(c.mask);
    free(c.g_ts);
    free(c.g_val);
    return rc;
}

int sr_query_run(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_result *out)
{
    out->value = NAN;
    out->n = 0;
    out->exact = true;
    const sr_metric_def *d = sr_catalog_find(cat, q->metric);
    if (!d)
        return SR_ENOENT;
    if (d->kind == SR_KIND_RATIO) {
        if (q->agg.kind != SR_AGG_VALUE)
            return SR_EINVAL;
        return run_ratio(st, cat, d, q, out);
    }
    return run_plain(st, cat, d, q, q->agg, NULL, out);
}

int sr_query_children(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_child_result **out,
                      size_t *n)
{
    *out = NULL;
    *n = 0;
    int64_t node;
    int rc = sr_store_entity_id(st, q->entity, &node);
    if (rc)
        return rc;
    int64_t *kids;
    size_t nk;
    if ((rc = sr_store_entity_children(st, node, &kids, &nk)))
        return rc;
    sr_child_result *res = calloc(nk ? nk : 1, sizeof *res);
    if (!res) {
        free(kids);
        return SR_ENOMEM;
    }
    for (size_t i = 0; i < nk; i++) {
        sr_query cq = *q;
        cq.entity = sr_store_entity_path(st, kids[i]);
        res[i].entity = cq.entity;
        if ((rc = sr_query_run(st, cat, &cq, &res[i].r))) {
            free(kids);
            free(res);
            return rc;
        }
    }
    free(kids);
    *out = res;
    *n = nk;
    return 0;
}

/*
 * A gauge's level as a window's end moves forward: each entity's latest
 * value over [start, t), kept between steps, so that a series of levels
 * reads each sample once instead of once per slice (reading [start, t)
 * again for every slice made a 30-point sparkline of a busy gauge cost ~15
 * times its value). Summing the same per-entity latest values as run_plain
 * gives the same figure.
 */
typedef struct {
    qctx c;
    acc a;
    bool absent; /* the metric was never stored: every level is NaN */
} level_run;

static int level_init(level_run *r, sr_store *st, const sr_metric_def *d, const char *entity)
{
    memset(r, 0, sizeof *r);
    q_acc_init(&r->a);
    r->c.st = st;
    r->c.a = &r->a;
    int rc = node_of(st, entity, &r->c.node);
    if (rc)
        return rc;
    if (sr_store_metric_id(st, d->name, &r->c.metric) == SR_ENOENT) {
        r->absent = true;
        return 0;
    }
    r->c.mask_n = sr_store_entity_limit(st);
    r->c.g_ts = malloc((size_t)(r->c.mask_n + 1) * sizeof *r->c.g_ts);
    r->c.g_val = malloc((size_t)(r->c.mask_n + 1) * sizeof *r->c.g_val);
    if (!r->c.g_ts || !r->c.g_val)
        return SR_ENOMEM;
    for (int64_t e = 0; e <= r->c.mask_n; e++)
        r->c.g_ts[e] = INT64_MIN;
    return build_mask(&r->c);
}

/* Takes in [from, to) and returns the level at `to` in *out (NaN: none). */
static int level_step(level_run *r, sr_ms from, sr_ms to, double *out)
{
    *out = NAN;
    if (r->absent)
        return 0;
    int rc = from < to ? cover(&r->c, from, to, 0) : 0;
    if (!rc)
        rc = r->a.failed;
    if (rc)
        return rc;
    double sum = 0;
    int64_t contributing = 0;
    for (int64_t e = 1; e < r->c.mask_n; e++) {
        if (r->c.mask[e] && r->c.g_ts[e] != INT64_MIN) {
            sum += r->c.g_val[e];
            contributing++;
        }
    }
    if (contributing)
        *out = sum;
    return 0;
}

static void level_fini(level_run *r)
{
    q_acc_fini(&r->a);
    free(r->c.mask);
    free(r->c.g_ts);
    free(r->c.g_val);
}

/* Whether a series of d with agg is levels of gauges only (a gauge's
 * value or last, or a ratio of two gauges), which level_run computes. */
static bool gauge_levels(const sr_catalog *cat, const sr_metric_def *d, sr_agg agg,
                         const sr_metric_def **num, const sr_metric_def **den)
{
    *num = *den = NULL;
    if (d->kind == SR_KIND_GAUGE) {
        if (agg.kind == SR_AGG_VALUE)
            agg = d->agg.kind == SR_AGG_VALUE ? sr_kind_default_agg(d->kind) : d->agg;
        *num = d;
        return agg.kind == SR_AGG_LAST || agg.kind == SR_AGG_VALUE;
    }
    if (d->kind != SR_KIND_RATIO || agg.kind != SR_AGG_VALUE)
        return false;
    *num = sr_catalog_find(cat, d->numerator);
    *den = sr_catalog_find(cat, d->denominator);
    if (!*num || !*den)
        return false;
    sr_agg an = sr_kind_default_agg((*num)->kind), ad = sr_kind_default_agg((*den)->kind);
    return (*num)->kind == SR_KIND_GAUGE && (*den)->kind == SR_KIND_GAUGE &&
           (an.kind == SR_AGG_LAST || an.kind == SR_AGG_VALUE) &&
           (ad.kind == SR_AGG_LAST || ad.kind == SR_AGG_VALUE);
}

/* Slices of this length or longer are whole hours. */
#define SERIES_HOURS_MIN (2 * SR_MS_HOUR)

/* The slice length for a window of len cut into n. */
static sr_ms series_slice(sr_ms len, size_t n)
{
    sr_ms slice = n ? (len + (sr_ms)n - 1) / (sr_ms)n : len;
    slice = slice <= SR_MS_SEC ? SR_MS_SEC : sr_ceil_ms(slice, SR_MS_SEC);
    return slice >= SERIES_HOURS_MIN ? sr_ceil_ms(slice, SR_MS_HOUR) : slice;
}

void sr_query_series_slices(const sr_query *q, size_t buckets, sr_ms *slice_ms, sr_ms *end_ms)
{
    sr_ms slice = series_slice(q->to_ms - q->from_ms, buckets);
    *slice_ms = slice;
    *end_ms = sr_ceil_ms(q->to_ms, slice);
}

size_t sr_query_series_points(sr_ms window_ms, size_t want)
{
    if (want == 0 || window_ms <= 0)
        return want;
    sr_ms slice = series_slice(window_ms, want);
    if (slice < SERIES_HOURS_MIN)
        return want;
    size_t n = (size_t)((window_ms + slice - 1) / slice);
    return n < want ? n : want;
}

int sr_query_series(sr_store *st, const sr_catalog *cat, const sr_query *q, size_t buckets,
                    double *out)
{
    if (buckets == 0 || q->to_ms <= q->from_ms)
        return SR_EINVAL;
    const sr_metric_def *d = sr_catalog_find(cat, q->metric);
    /* a level holds until the next report: a gauge's slice looks back to the
     * window's start, so slices between reports carry the last level */
    const sr_metric_def *num =
        d && d->kind == SR_KIND_RATIO ? sr_catalog_find(cat, d->numerator) : NULL;
    bool level = d && ((d->kind == SR_KIND_GAUGE &&
                        (q->agg.kind == SR_AGG_VALUE || q->agg.kind == SR_AGG_LAST)) ||
                       (num && num->kind == SR_KIND_GAUGE));
    /*
     * Slices of whole seconds, aligned to multiples of their length since the
     * epoch, the last one ending at `to`: as the window moves, only the last
     * slice changes until a boundary passes, so a sparkline does not shift
     * (and redraw) every second.
     */
    sr_ms slice, end;
    sr_query_series_slices(q, buckets, &slice, &end);
    /* levels of gauges: the slices that look back to the window's start in
     * one pass (level_run); a slice that starts before it looks back to its
     * own start and is run alone, below */
    const sr_metric_def *ln_def = NULL, *ld_def = NULL;
    bool inc = level && gauge_levels(cat, d, q->agg, &ln_def, &ld_def);
    bool *done = inc ? calloc(buckets, sizeof *done) : NULL;
    if (inc && !done)
        return SR_ENOMEM;
    if (inc) {
        level_run ln, ld;
        int rc = level_init(&ln, st, ln_def, q->entity);
        bool has_den = ld_def != NULL;
        if (!rc && has_den)
            rc = level_init(&ld, st, ld_def, q->entity);
        else if (has_den)
            memset(&ld, 0, sizeof ld);
        sr_ms at = q->from_ms; /* how far the level runs have read */
        for (size_t i = 0; i < buckets && !rc; i++) {
            sr_ms bfrom = end - (sr_ms)(buckets - i) * slice;
            sr_ms bto = bfrom + slice < q->to_ms ? bfrom + slice : q->to_ms;
            if (bto <= bfrom || bfrom < q->from_ms)
                continue;
            double a, b = NAN;
            rc = level_step(&ln, at, bto, &a);
            if (!rc && has_den)
                rc = level_step(&ld, at, bto, &b);
            at = bto;
            out[i] = !has_den                           ? a
                     : (isnan(a) || isnan(b) || b == 0) ? NAN
                                                        : a / b * (d->scale != 0 ? d->scale : 1.0);
            done[i] = true;
        }
        level_fini(&ln);
        if (has_den)
            level_fini(&ld);
        if (rc) {
            free(done);
            return rc;
        }
    }
    /* events and counters: the older slices are memoised, their stamps
     * from one scan of the node's cells */
    stamps sx = {0};
    bool memoised = false;
    int rc = 0;
    if (d && (d->kind == SR_KIND_EVENT || d->kind == SR_KIND_COUNTER) && !level) {
        int64_t metric, node;
        if (sr_store_memo(st) && sr_store_metric_id(st, d->name, &metric) == 0 &&
            node_of(st, q->entity, &node) == 0) {
            rc = q_hour_stamps(st, metric, node, end - (sr_ms)buckets * slice, q->to_ms, &sx);
            memoised = rc == 0;
        }
    }
    size_t at = 0;
    for (size_t i = 0; i < buckets && !rc; i++) {
        if (done && done[i])
            continue;
        sr_query bq = *q;
        bq.from_ms = end - (sr_ms)(buckets - i) * slice;
        bq.to_ms = bq.from_ms + slice < q->to_ms ? bq.from_ms + slice : q->to_ms;
        out[i] = NAN;
        if (bq.to_ms <= bq.from_ms)
            continue;
        if (level)
            bq.from_ms = q->from_ms < bq.from_ms ? q->from_ms : bq.from_ms;
        bq.closed = i + 1 < buckets; /* the newest slice moves with the clock */
        sr_result r;
        if (memoised && bq.closed) {
            sr_memo_stamp stamp = q_stamp_of(&sx, bq.from_ms, bq.to_ms, &at);
            rc = run_plain(st, cat, d, &bq, bq.agg, &stamp, &r);
        } else {
            rc = sr_query_run(st, cat, &bq, &r);
        }
        out[i] = rc ? NAN : r.value;
    }
    free(sx.h);
    free(done);
    return rc;
}

/* Stops a newest-first scan at its first sample, keeping its time. */
static int newest_cb(void *ctx, int64_t entity, sr_ms ts_ms, double value, const char *key)
{
    (void)entity;
    (void)value;
    (void)key;
    *(sr_ms *)ctx = ts_ms;
    return 1;
}

/* The contract is in query.h. */
int sr_query_data_end(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_ms *out)
{
    *out = q->to_ms;
    if (q->closed)
        return 0;
    const sr_metric_def *d = sr_catalog_find(cat, q->metric);
    if (!d)
        return SR_ENOENT;
    const char *names[2] = {d->name, NULL};
    if (d->kind == SR_KIND_RATIO) {
        names[0] = d->numerator;
        names[1] = d->denominator;
    }
    for (size_t i = 0; i < 2 && names[i]; i++) {
        int64_t id;
        int rc = sr_store_metric_id(st, names[i], &id);
        if (rc == SR_ENOENT)
            return 0;
        if (rc)
            return rc;
        sr_ms newest = INT64_MIN;
        rc = sr_store_scan_raw_desc(st, id, q->from_ms, INT64_MAX, newest_cb, &newest);
        if (rc < 0)
            return rc;
        if (newest != INT64_MIN && newest < q->to_ms && newest + 1 < *out)
            *out = newest + 1;
    }
    return 0;
}

int sr_query_compare(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_compare *out)
{
    sr_ms len = q->to_ms - q->from_ms, end;
    int rc = sr_query_data_end(st, cat, q, &end);
    if (rc)
        return rc;
    sr_query p = *q, w = *q;
    p.from_ms -= len;
    p.to_ms = end - len;
    w.from_ms -= 7 * SR_MS_DAY;
    w.to_ms = end - 7 * SR_MS_DAY;
    rc = sr_query_run(st, cat, q, &out->now);
    if (!rc)
        rc = sr_query_run(st, cat, &p, &out->prev);
    if (!rc)
        rc = sr_query_run(st, cat, &w, &out->week_ago);
    return rc;
}
