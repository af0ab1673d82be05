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
#include "query.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "memo.h"
#include "sketch.h"
#include "vals.h"

/* Windows up to this length get exact percentiles from raw samples... */
#define SR_QUERY_EXACT_MS (48 * SR_MS_HOUR)
/* ...and so do longer ones holding at most this many observations. */
#define SR_QUERY_EXACT_N 500000

typedef struct {
    int64_t n;
    double sum, min, max;
    sr_ms last_ts;
    double last;
    /* exact percentiles: every value */
    int collect;
    double *vals;
    size_t nv, cap;
    /* approximate percentiles */
    sr_sketch *sk;
    int failed; /* an allocation or a damaged sketch */
} acc;

typedef struct {
    sr_store *st;
    int64_t metric;
    int64_t node;
    unsigned char *mask; /* mask[e] = 1 when entity e is under node; NULL = all */
    int64_t mask_n;
    acc *a;
    /* gauges: latest per entity */
    sr_ms *g_ts;
    double *g_val;
    bool counts; /* only n and sum are asked: whole hours from the narrow index */
} qctx;

static void acc_init(acc *a)
{
    memset(a, 0, sizeof *a);
    a->min = INFINITY;
    a->max = -INFINITY;
    a->last_ts = INT64_MIN;
}

static void acc_fini(acc *a)
{
    free(a->vals);
    sr_sketch_destroy(a->sk);
}

static void acc_value(acc *a, sr_ms ts, double v)
{
    a->n++;
    a->sum += v;
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

static bool in_subtree(const qctx *q, int64_t e)
{
    if (!q->mask)
        return true;
    return e >= 0 && e < q->mask_n && q->mask[e];
}

static int raw_cb(void *ctx, int64_t e, sr_ms ts, double v)
{
    qctx *q = ctx;
    if (!in_subtree(q, e))
        return 0;
    acc_value(q->a, ts, v);
    if (q->g_ts && e < q->mask_n && ts >= q->g_ts[e]) {
        q->g_ts[e] = ts;
        q->g_val[e] = v;
    }
    return q->a->failed;
}

/* Adds up the observations of hour cells. */
static int count_cb(void *ctx, const sr_rollup_cell *c)
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
    return sr_store_scan_raw(q->st, q->metric, from, to, raw_cb, q);
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
static int merge_cell_sketch(acc *a, const sr_rollup_cell *c)
{
    if (!c->sketch)
        return a->failed = SR_ECORRUPT;
    int rc = sr_sketch_merge_encoded(a->sk, c->sketch, c->sketch_len);
    return rc ? (a->failed = rc) : 0;
}

static int cell_cb(void *ctx, const sr_rollup_cell *c)
{
    qctx *q = ctx;
    acc *a = q->a;
    if (c->n <= 0)
        return 0;
    a->n += c->n;
    a->sum += c->sum;
    if (c->min < a->min)
        a->min = c->min;
    if (c->max > a->max)
        a->max = c->max;
    if (c->last_ts >= a->last_ts) {
        a->last_ts = c->last_ts;
        a->last = c->last;
    }
    return a->sk ? merge_cell_sketch(a, c) : 0;
}

/* Gauge cells: the entity's latest value in the cell. */
typedef struct {
    qctx *q;
    int64_t entity;
} gcell_ctx;

static int gauge_cell_cb(void *ctx, const sr_rollup_cell *c)
{
    gcell_ctx *g = ctx;
    int rc = cell_cb(g->q, c);
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
        int rc = cell_cb(m->q, &one);
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
            /* gauges: each entity of the subtree keeps its own cells */
            for (int64_t e = 1; e < q->mask_n && !rc; e++) {
                if (!q->mask[e])
                    continue;
                gcell_ctx g = {q, e};
                rc = sr_store_scan_rollup(q->st, q->metric, e, a, b, SR_SCAN_NO_SKETCH,
                                          gauge_cell_cb, &g);
            }
        } else {
            unsigned flags = q->a->sk ? 0 : q->counts ? SR_SCAN_STAMPS : SR_SCAN_NO_SKETCH;
            rc = sr_store_scan_rollup(q->st, q->metric, q->node, a, b, flags, cell_cb, q);
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

static size_t nearest_rank(double p, size_t n)
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
        size_t k = nearest_rank(p, n) - 1;
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
        return v[nearest_rank(p, n) - 1];
    double h = (double)(n - 1) * p / 100.0;
    size_t k = (size_t)floor(h);
    if (k + 1 >= n)
        return v[n - 1];
    return v[k] + (h - (double)k) * (v[k + 1] - v[k]);
}

static double sketch_percentile(const sr_sketch *sk, double p, sr_pct_method m)
{
    uint64_t n = sr_sketch_count(sk);
    if (n == 0)
        return NAN;
    if (m == SR_PCT_NEAREST_RANK)
        return sr_sketch_at_rank(sk, nearest_rank(p, (size_t)n));
    double h = (double)(n - 1) * p / 100.0;
    uint64_t k = (uint64_t)floor(h);
    double lo = sr_sketch_at_rank(sk, k + 1);
    if (k + 1 >= n)
        return lo;
    double hi = sr_sketch_at_rank(sk, k + 2);
    return lo + (h - (double)k) * (hi - lo);
}

/* ---- exact percentiles through the sketch's buckets ---- */

/*
 * A window's exact percentile without reading its raw samples: the hourly
 * cells' sketches (whole hours) and the raw samples of the partial hours at
 * the edges give the window's sketch, whose count per bucket is exact; the
 * rank-r observation lies in the bucket where the cumulative count reaches
 * r, and only the observations in that bucket are needed: from each whole
 * hour's memo entry (metrics/memo.h, stamped with the hour cell's count and
 * sum), the hours missing from the memo read raw once and memoised, and the
 * edges. A closed hour is so read once per bucket asked of it, and a new
 * sample costs the hour it lands in. "Within target" is the count below
 * the target's bucket plus the target's bucket's observations on the good
 * side of it.
 */

typedef sr_stamp_cell hour_stamp; /* bucket: the hour */

typedef struct {
    double *v;
    size_t n, cap;
} dvec;

static int dvec_push(dvec *d, double v)
{
    if (sr_reserve(&d->v, &d->cap, d->n, sizeof *d->v))
        return SR_ENOMEM;
    d->v[d->n++] = v;
    return 0;
}

/* The stamps of a node's hour cells, in time order. */
typedef struct {
    hour_stamp *h;
    size_t nh, cap;
} stamps;

static int stamps_push(stamps *s, const sr_rollup_cell *c)
{
    if (c->n <= 0)
        return 0;
    if (sr_reserve(&s->h, &s->cap, s->nh, sizeof *s->h))
        return SR_ENOMEM;
    s->h[s->nh++] = (hour_stamp){.bucket = c->bucket_ms, .n = c->n, .sum = c->sum};
    return 0;
}

typedef struct {
    qctx *q;
    stamps s;
} hours_ctx;

/* A cell into the window's figures, and its stamp. */
static int hours_cell_cb(void *ctx, const sr_rollup_cell *c)
{
    hours_ctx *x = ctx;
    int rc = cell_cb(x->q, c);
    if (!rc && (rc = stamps_push(&x->s, c)))
        x->q->a->failed = rc;
    return rc;
}

/* Edge values (whole tree): into the sketch and the value list. */
static int edge_value_cb(void *ctx, double v)
{
    acc *a = ctx;
    acc_value(a, 0, v);
    return a->failed;
}

/* The raw samples of the subtree in [from, to) into q->a (values and sketch). */
static int edge_scan(qctx *q, sr_ms from, sr_ms to)
{
    if (from >= to)
        return 0;
    if (!q->mask)
        return sr_store_scan_values(q->st, q->metric, from, to, edge_value_cb, q->a);
    return sr_store_scan_raw(q->st, q->metric, from, to, raw_cb, q);
}

/*
 * The memo keeps an hour's values by groups of BUCKET_GROUP adjacent
 * buckets, so that a rank that moves to a neighbouring bucket as data
 * arrives (or a window slides) still finds them.
 */
#define BUCKET_GROUP 8

static int64_t bucket_group(int64_t b)
{
    return b >= 0 ? b / BUCKET_GROUP : -((-b + BUCKET_GROUP - 1) / BUCKET_GROUP);
}

/* Raw samples of the subtree in bucket b's group. */
typedef struct {
    qctx *q;
    const sr_sketch *sk;
    int64_t b;
    dvec v;
} bucket_scan;

static int bucket_raw_cb(void *ctx, int64_t e, sr_ms ts, double v)
{
    (void)ts;
    bucket_scan *x = ctx;
    if (!in_subtree(x->q, e) || bucket_group(sr_sketch_bucket(x->sk, v)) != bucket_group(x->b))
        return 0;
    return dvec_push(&x->v, v);
}

typedef struct {
    const double *v;
    const sr_sketch *sk;
    int64_t b;
} bucket_ctx;

static bool bucket_before(const void *ctx, size_t i)
{
    const bucket_ctx *x = ctx;
    return sr_sketch_bucket(x->sk, x->v[i]) < x->b;
}

/* The first of the sorted v[0..n) whose bucket is at least b. */
static size_t bucket_lower(const double *v, size_t n, const sr_sketch *sk, int64_t b)
{
    bucket_ctx x = {v, sk, b};
    return sr_lower_bound(n, bucket_before, &x);
}

/* Pushes the values of sorted v[0..n) that lie in bucket b. */
static int push_bucket(const double *v, size_t n, const sr_sketch *sk, int64_t b, dvec *out)
{
    size_t hi = bucket_lower(v, n, sk, b + 1);
    for (size_t i = bucket_lower(v, n, sk, b); i < hi; i++) {
        if (dvec_push(out, v[i]))
            return SR_ENOMEM;
    }
    return 0;
}

/* A cell's sorted values decoded into *cell (grown: *cap), their number in
 * *n; 0 with *n 0 when it keeps none or they are damaged (its hour is then
 * read raw), SR_ENOMEM. */
static int cell_values(const sr_rollup_cell *c, double **cell, size_t *cap, size_t *n)
{
    *n = 0;
    int rc = sr_rollup_values(c, cell, cap, n);
    if (rc && rc != SR_ENOMEM)
        *n = 0;
    return rc == SR_ENOMEM ? rc : 0;
}

typedef struct {
    qctx *q;
    const sr_sketch *sk;
    int64_t b;
    struct sr_memo *memo;
    dvec *out;
    double *cell; /* one cell's values, decoded */
    size_t cell_cap;
    sr_rollup_cell *raw; /* cells without values (their hours are read raw) */
    size_t n_raw, cap_raw;
} vals_ctx;

/* One hour cell's observations in the bucket: into out and the memo. */
static int vals_cell_cb(void *ctx, const sr_rollup_cell *c)
{
    vals_ctx *x = ctx;
    if (c->n <= 0)
        return 0;
    size_t n;
    int rc = cell_values(c, &x->cell, &x->cell_cap, &n);
    if (rc)
        return rc;
    if (n == 0) {
        /* none kept (or damaged): the hour's raw samples, after the scan */
        if (sr_reserve(&x->raw, &x->cap_raw, x->n_raw, sizeof *x->raw))
            return SR_ENOMEM;
        x->raw[x->n_raw] = *c;
        x->raw[x->n_raw].values = NULL; /* borrowed for the call only */
        x->n_raw++;
        return 0;
    }
    int64_t g = bucket_group(x->b);
    if (x->memo) {
        size_t glo = bucket_lower(x->cell, n, x->sk, g * BUCKET_GROUP),
               ghi = bucket_lower(x->cell, n, x->sk, (g + 1) * BUCKET_GROUP);
        sr_memo_key key = {1, x->q->metric, x->q->node, c->bucket_ms, g, 0};
        sr_memo_stamp stamp = {c->n, c->sum};
        sr_memo_put_values(x->memo, &key, &stamp, x->cell + glo, ghi - glo);
    }
    return push_bucket(x->cell, n, x->sk, x->b, x->out);
}

/* The observations in bucket b of one hour whose cell has no values, from
 * its raw samples: into out and the memo. */
static int bucket_raw_hour(qctx *q, const sr_sketch *sk, int64_t b, struct sr_memo *memo,
                           const sr_rollup_cell *c, dvec *out)
{
    bucket_scan x = {.q = q, .sk = sk, .b = b};
    int rc = sr_store_scan_raw(q->st, q->metric, c->bucket_ms, c->bucket_ms + SR_MS_HOUR,
                               bucket_raw_cb, &x);
    if (rc) {
        free(x.v.v);
        return rc;
    }
    sr_vals_sort(x.v.v, x.v.n);
    if (memo) {
        sr_memo_key key = {1, q->metric, q->node, c->bucket_ms, bucket_group(b), 0};
        sr_memo_stamp stamp = {c->n, c->sum};
        sr_memo_put_values(memo, &key, &stamp, x.v.v, x.v.n);
    }
    rc = push_bucket(x.v.v, x.v.n, sk, b, out);
    free(x.v.v);
    return rc;
}

/* One day's cells' values in a group of buckets (their hours' raw samples
 * where a cell keeps none). */
typedef struct {
    qctx *q;
    const sr_sketch *sk;
    int64_t g;
    dvec *out;
    double *cell;
    size_t cell_cap;
    int rc;
} day_ctx;

static int day_cell_cb(void *ctx, const sr_rollup_cell *c)
{
    day_ctx *x = ctx;
    if (c->n <= 0)
        return 0;
    size_t n;
    int rc = cell_values(c, &x->cell, &x->cell_cap, &n);
    if (rc)
        return rc;
    if (n == 0) {
        /* none kept (or damaged): the hour's raw samples in the group */
        bucket_scan r = {.q = x->q, .sk = x->sk, .b = x->g * BUCKET_GROUP};
        rc = sr_store_scan_raw(x->q->st, x->q->metric, c->bucket_ms, c->bucket_ms + SR_MS_HOUR,
                               bucket_raw_cb, &r);
        for (size_t i = 0; i < r.v.n && !rc; i++)
            rc = dvec_push(x->out, r.v.v[i]);
        free(r.v.v);
        return rc;
    }
    size_t lo = bucket_lower(x->cell, n, x->sk, x->g * BUCKET_GROUP),
           hi = bucket_lower(x->cell, n, x->sk, (x->g + 1) * BUCKET_GROUP);
    for (size_t i = lo; i < hi; i++) {
        if (dvec_push(x->out, x->cell[i]))
            return SR_ENOMEM;
    }
    return 0;
}

/*
 * The values in bucket b of the whole day that starts at day (its cells'
 * stamps summed in stamp) into out: the day's values in b's group from
 * the memo (decoded into got), or read from its 24 cells (one scan) and
 * memoised; a month so takes 30 entries of the memo, not 720.
 */
static int day_values(qctx *q, const sr_sketch *sk, int64_t b, sr_ms day,
                      const sr_memo_stamp *stamp, struct sr_memo *memo, dvec *got, dvec *out)
{
    sr_memo_key key = {7, q->metric, q->node, day, bucket_group(b), 0};
    int rc = memo ? sr_memo_get_values(memo, &key, stamp, &got->v, &got->cap, &got->n) : SR_ENOENT;
    if (rc == 0)
        return push_bucket(got->v, got->n, sk, b, out);
    if (rc != SR_ENOENT && rc != SR_ECORRUPT) /* damaged (a persisted entry): computed anew */
        return rc;
    dvec dv = {0};
    day_ctx x = {.q = q, .sk = sk, .g = bucket_group(b), .out = &dv};
    rc = sr_store_scan_rollup(q->st, q->metric, q->node, day, day + SR_MS_DAY, SR_SCAN_VALUES,
                              day_cell_cb, &x);
    free(x.cell);
    if (!rc) {
        sr_vals_sort(dv.v, dv.n);
        if (memo)
            sr_memo_put_values(memo, &key, stamp, dv.v, dv.n);
        rc = push_bucket(dv.v, dv.n, sk, b, out);
    }
    free(dv.v);
    return rc;
}

/*
 * The window's observations in bucket b, sorted, into *out: the edges'
 * from a->vals; the whole days among the whole hours [ha, hb) from
 * day_values; each other hour's from the memo or, for runs of hours
 * missing from it, from their cells' sorted values (the raw samples of an
 * hour whose cell has none), memoised.
 */
static int bucket_values(qctx *q, const sr_sketch *sk, int64_t b, sr_ms ha, sr_ms hb,
                         const hour_stamp *h, size_t nh, dvec *out)
{
    out->n = 0;
    acc *a = q->a;
    for (size_t i = 0; i < a->nv; i++) {
        if (sr_sketch_bucket(sk, a->vals[i]) == b && dvec_push(out, a->vals[i]))
            return SR_ENOMEM;
    }
    struct sr_memo *memo = sr_store_memo(q->st);
    dvec got = {0}; /* an entry's values, decoded */
    int rc = 0;
    for (size_t i = 0; i < nh && !rc;) {
        sr_ms day = sr_floor_ms(h[i].bucket, SR_MS_DAY);
        if (day >= ha && day + SR_MS_DAY <= hb) {
            sr_memo_stamp ds = {0, 0};
            size_t j = i;
            for (; j < nh && h[j].bucket < day + SR_MS_DAY; j++) {
                ds.n += h[j].n;
                ds.sum += h[j].sum;
            }
            rc = day_values(q, sk, b, day, &ds, memo, &got, out);
            i = j;
            continue;
        }
        sr_memo_key key = {1, q->metric, q->node, h[i].bucket, bucket_group(b), 0};
        sr_memo_stamp stamp = {h[i].n, h[i].sum};
        int hit =
            memo ? sr_memo_get_values(memo, &key, &stamp, &got.v, &got.cap, &got.n) : SR_ENOENT;
        if (hit != SR_ENOENT && hit != SR_ECORRUPT) { /* damaged: computed anew */
            rc = hit ? hit : push_bucket(got.v, got.n, sk, b, out);
            i++;
            continue;
        }
        /* a run of hours missing from the memo (not of a whole day): their
         * cells' values */
        size_t j = i + 1;
        while (j < nh) {
            sr_ms dj = sr_floor_ms(h[j].bucket, SR_MS_DAY);
            if (dj >= ha && dj + SR_MS_DAY <= hb)
                break;
            sr_memo_key kj = {1, q->metric, q->node, h[j].bucket, bucket_group(b), 0};
            sr_memo_stamp sj = {h[j].n, h[j].sum};
            size_t len;
            if (memo && sr_memo_get(memo, &kj, &sj, &len))
                break;
            j++;
        }
        vals_ctx x = {.q = q, .sk = sk, .b = b, .memo = memo, .out = out};
        rc = sr_store_scan_rollup(q->st, q->metric, q->node, h[i].bucket,
                                  h[j - 1].bucket + SR_MS_HOUR, SR_SCAN_VALUES, vals_cell_cb, &x);
        /* cells without their values: the hour's raw samples */
        for (size_t t = 0; t < x.n_raw && !rc; t++)
            rc = bucket_raw_hour(q, sk, b, memo, &x.raw[t], out);
        free(x.raw);
        free(x.cell);
        i = j;
    }
    free(got.v);
    if (!rc)
        sr_vals_sort(out->v, out->n);
    return rc;
}

/* The exact rank-r observation (1-based) of the window; SR_ECORRUPT when the
 * bucket does not hold what the sketch counted. */
static int bucket_rank(qctx *q, const sr_sketch *sk, uint64_t r, sr_ms ha, sr_ms hb,
                       const hour_stamp *h, size_t nh, dvec *scratch, double *out)
{
    int64_t b;
    uint64_t below;
    int rc = sr_sketch_rank_bucket(sk, r, &b, &below);
    if (!rc)
        rc = bucket_values(q, sk, b, ha, hb, h, nh, scratch);
    if (rc)
        return rc;
    if (r - below - 1 >= scratch->n)
        return SR_ECORRUPT;
    *out = scratch->v[r - below - 1];
    return 0;
}

/*
 * PCT or WITHIN of an event metric over [from, to) holding at least one
 * whole hour, into out (value, n, exact). Windows over SR_QUERY_EXACT_MS
 * with more than `limit` observations give the sketch's answer, as before.
 */
/* Windows holding at most this many observations read their raw samples
 * (fewer rows than the hours' sketches cost to merge). */
#define PCT_RAW_N 2000
#define PCT_USE_RAW 1 /* pct_by_buckets: read the raw samples instead */

/* Merges a cell's sketch into the window's. */
static int sketch_cell_cb(void *ctx, const sr_rollup_cell *c)
{
    return c->n > 0 ? merge_cell_sketch(ctx, c) : 0;
}

/* The stamp of the hours [from, to) among h[0..nh) (in time order). */
static sr_memo_stamp hours_stamp(const hour_stamp *h, size_t nh, sr_ms from, sr_ms to)
{
    sr_memo_stamp r = {0, 0};
    for (size_t i = 0; i < nh && h[i].bucket < to; i++) {
        if (h[i].bucket >= from) {
            r.n += h[i].n;
            r.sum += h[i].sum;
        }
    }
    return r;
}

/* Merges encoded sketch enc into d (created when NULL). */
static int merge_encoded_into(sr_sketch **d, const unsigned char *enc, size_t len)
{
    if (!*d && sr_sketch_create(SR_SKETCH_ALPHA, d))
        return SR_ENOMEM;
    return sr_sketch_merge_encoded(*d, enc, len);
}

/* The sketch of the whole days [da, db) into *out: each day's from the
 * memo of day sketches (stamped with the day's cells' counts and sums in
 * h) or merged from its cells and memoised. */
static int days_sketch(qctx *q, sr_ms da, sr_ms db, const hour_stamp *h, size_t nh,
                       struct sr_memo *memo, sr_sketch **out)
{
    int rc = 0;
    size_t i = 0;
    for (sr_ms day = da; day < db && !rc; day += SR_MS_DAY) {
        sr_memo_stamp stamp = {0, 0};
        while (i < nh && h[i].bucket < day)
            i++;
        for (; i < nh && h[i].bucket < day + SR_MS_DAY; i++) {
            stamp.n += h[i].n;
            stamp.sum += h[i].sum;
        }
        if (stamp.n == 0)
            continue;
        sr_memo_key key = {3, q->metric, q->node, day, 0, 0};
        size_t len;
        const unsigned char *enc = sr_memo_get(memo, &key, &stamp, &len);
        /* a damaged entry (a persisted one) is checked before it is merged:
         * computed anew */
        if (enc && merge_encoded_into(out, enc, len) == 0)
            continue;
        acc d;
        acc_init(&d);
        if (sr_sketch_create(SR_SKETCH_ALPHA, &d.sk))
            return SR_ENOMEM;
        rc = sr_store_scan_rollup(q->st, q->metric, q->node, day, day + SR_MS_DAY, 0,
                                  sketch_cell_cb, &d);
        if (!rc)
            rc = d.failed;
        unsigned char *buf = NULL;
        if (!rc && !sr_sketch_encode(d.sk, &buf, &len)) {
            sr_memo_put(memo, &key, &stamp, buf, len);
            rc = merge_encoded_into(out, buf, len);
        }
        free(buf);
        acc_fini(&d);
    }
    return rc;
}

/*
 * The sketch of the whole hours [ha, hb) into q->a->sk, in three parts:
 * the hours before the first whole day, the whole days, the hours after
 * the last. Each part's sketch is memoised, stamped with its cells' counts
 * and sums in h, so that a window that moves with the clock merges three
 * sketches, not 720 cells: the days' part changes at midnight, the hours'
 * parts when an hour passes, any part when late data lands in it. The
 * parts are kept in this handle's memo only (local): a window's parts are
 * worth nothing to the next process an hour later; a day's sketch is kept
 * beyond (days_sketch).
 */
static int window_sketch(qctx *q, sr_ms ha, sr_ms hb, const hour_stamp *h, size_t nh)
{
    acc *a = q->a;
    struct sr_memo *memo = sr_store_memo(q->st);
    sr_ms da = sr_ceil_ms(ha, SR_MS_DAY), db = sr_floor_ms(hb, SR_MS_DAY);
    if (!memo || da >= db)
        return sr_store_scan_rollup(q->st, q->metric, q->node, ha, hb, 0, sketch_cell_cb, a);
    const sr_ms part[3][2] = {{ha, da}, {da, db}, {db, hb}};
    int rc = 0;
    for (int k = 0; k < 3 && !rc; k++) {
        sr_ms from = part[k][0], to = part[k][1];
        sr_memo_stamp stamp = hours_stamp(h, nh, from, to);
        if (from >= to || stamp.n == 0)
            continue;
        sr_memo_key key = {4, q->metric, q->node, from, to, 0};
        size_t len;
        const unsigned char *enc = sr_memo_get_local(memo, &key, &stamp, &len);
        if (enc && sr_sketch_merge_encoded(a->sk, enc, len) == 0)
            continue;
        sr_sketch *sk = NULL;
        if (k == 1) {
            rc = days_sketch(q, from, to, h, nh, memo, &sk);
        } else {
            acc d;
            acc_init(&d);
            if (sr_sketch_create(SR_SKETCH_ALPHA, &d.sk))
                return SR_ENOMEM;
            rc = sr_store_scan_rollup(q->st, q->metric, q->node, from, to, 0, sketch_cell_cb, &d);
            if (!rc)
                rc = d.failed;
            sk = d.sk;
            d.sk = NULL;
            acc_fini(&d);
        }
        unsigned char *buf = NULL;
        if (!rc && sk && !sr_sketch_encode(sk, &buf, &len))
            sr_memo_put_local(memo, &key, &stamp, buf, len);
        free(buf);
        if (!rc && sk)
            rc = sr_sketch_merge(a->sk, sk);
        sr_sketch_destroy(sk);
    }
    return rc;
}

int sr_query_hours_sketch(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                          sr_sketch *sk, double *min)
{
    acc a;
    acc_init(&a);
    qctx c = {.st = st, .metric = metric, .node = node, .a = &a};
    hours_ctx hx = {.q = &c};
    int rc = sr_store_scan_rollup(st, metric, node, from, to, SR_SCAN_STAMPS, hours_cell_cb, &hx);
    if (!rc)
        rc = a.failed;
    a.sk = sk; /* borrowed */
    if (!rc)
        rc = window_sketch(&c, sr_floor_ms(from, SR_MS_HOUR), sr_floor_ms(to, SR_MS_HOUR), hx.s.h,
                           hx.s.nh);
    if (!rc)
        rc = a.failed;
    a.sk = NULL;
    /* the lowest bucket's value, moved to the far side of its error bound:
     * at or below every observation (the narrow index carries no minimum) */
    double r = sr_sketch_count(sk) ? sr_sketch_at_rank(sk, 1) : INFINITY;
    *min = r < 0 ? r * (1 + SR_SKETCH_ALPHA) : r * (1 - SR_SKETCH_ALPHA);
    free(hx.s.h);
    acc_fini(&a);
    return rc;
}

static int pct_by_buckets(qctx *q, const sr_metric_def *d, sr_agg agg, sr_ms from, sr_ms to,
                          int64_t limit, int64_t raw_max, const stamps *given, sr_result *out)
{
    acc *a = q->a;
    a->collect = 1;
    /* the hours' counts and sums, and the edges' values */
    sr_ms ha = sr_ceil_ms(from, SR_MS_HOUR), hb = sr_floor_ms(to, SR_MS_HOUR);
    hours_ctx hx = {.q = q};
    int rc = 0;
    if (given) {
        /* the stamps memo_lookup read (the hours around the window too) */
        for (size_t i = 0; i < given->nh && !rc; i++) {
            const hour_stamp *h = &given->h[i];
            if (h->bucket < ha || h->bucket >= hb)
                continue;
            sr_rollup_cell c = {.bucket_ms = h->bucket,
                                .n = h->n,
                                .sum = h->sum,
                                .min = INFINITY,
                                .max = -INFINITY,
                                .last_ts = INT64_MIN};
            rc = hours_cell_cb(&hx, &c);
        }
    } else {
        rc = sr_store_scan_rollup(q->st, q->metric, q->node, ha, hb, SR_SCAN_STAMPS, hours_cell_cb,
                                  &hx);
    }
    if (!rc)
        rc = a->failed;
    if (!rc)
        rc = edge_scan(q, from, ha);
    if (!rc)
        rc = edge_scan(q, hb, to);
    if (!rc)
        rc = a->failed;
    int64_t rmax = raw_max > 0 ? raw_max : PCT_RAW_N;
    bool raw = !rc && a->n <= rmax;
    if (raw && q->mask) {
        /* the raw path reads the whole tree's samples: judge it by them */
        int64_t all = 0;
        rc = sr_store_scan_rollup(q->st, q->metric, SR_ENTITY_ROOT, from,
                                  sr_ceil_ms(to, SR_MS_HOUR), SR_SCAN_STAMPS, count_cb, &all);
        raw = !rc && all <= rmax;
    }
    if (raw) {
        free(hx.s.h);
        return PCT_USE_RAW;
    }
    /* the window's sketch: the hours' merged, the edges' values added */
    if (!rc && sr_sketch_create(SR_SKETCH_ALPHA, &a->sk))
        rc = SR_ENOMEM;
    if (!rc)
        rc = window_sketch(q, ha, hb, hx.s.h, hx.s.nh);
    for (size_t i = 0; i < a->nv && !rc; i++)
        rc = sr_sketch_add(a->sk, a->vals[i]);
    if (!rc)
        rc = a->failed;
    dvec scratch = {0};
    uint64_t n = sr_sketch_count(a->sk);
    out->n = a->n;
    if (rc || n == 0 || (uint64_t)a->n != n)
        goto done;
    if (to - from > SR_QUERY_EXACT_MS && a->n > limit) {
        out->exact = false;
        if (agg.kind == SR_AGG_PCT) {
            out->value = sketch_percentile(a->sk, agg.p, d->percentile);
        } else if (!isnan(d->target)) {
            uint64_t good = d->better == SR_BETTER_LOWER
                                ? sr_sketch_count_le(a->sk, d->target)
                                : n - sr_sketch_count_le(a->sk, nextafter(d->target, -INFINITY));
            out->value = 100.0 * (double)good / (double)n;
        }
        goto done;
    }
    if (agg.kind == SR_AGG_WITHIN) {
        if (isnan(d->target))
            goto done;
        int64_t b = sr_sketch_bucket(a->sk, d->target);
        if ((rc = bucket_values(q, a->sk, b, ha, hb, hx.s.h, hx.s.nh, &scratch)))
            goto done;
        uint64_t below = sr_sketch_count_below(a->sk, b), le = 0, lt = 0;
        for (size_t i = 0; i < scratch.n; i++) {
            le += scratch.v[i] <= d->target;
            lt += scratch.v[i] < d->target;
        }
        uint64_t good = d->better == SR_BETTER_LOWER ? below + le : n - (below + lt);
        out->value = 100.0 * (double)good / (double)n;
        goto done;
    }
    if (d->percentile == SR_PCT_NEAREST_RANK) {
        rc = bucket_rank(q, a->sk, nearest_rank(agg.p, (size_t)n), ha, hb, hx.s.h, hx.s.nh,
                         &scratch, &out->value);
        goto done;
    }
    double hh = (double)(n - 1) * agg.p / 100.0;
    uint64_t k = (uint64_t)floor(hh);
    double lo, hi;
    if ((rc = bucket_rank(q, a->sk, k + 1, ha, hb, hx.s.h, hx.s.nh, &scratch, &lo)))
        goto done;
    if (k + 1 >= n) {
        out->value = lo;
        goto done;
    }
    if ((rc = bucket_rank(q, a->sk, k + 2, ha, hb, hx.s.h, hx.s.nh, &scratch, &hi)))
        goto done;
    out->value = lo + (hh - (double)k) * (hi - lo);
done:
    free(scratch.v);
    free(hx.s.h);
    return rc;
}

/*
 * A percentile is memoised, stamped with the count and sum of the node's
 * hour cells that overlap its window. That is more than the window holds
 * when it does not start and end on the hour, but any change to the
 * window's samples changes them, which is all a stamp needs; the stamps of
 * a whole series come from one scan of its cells (hour_stamps). A closed
 * slice (q->closed: a series' older slices, asked for again at every
 * refresh) goes in the store's memo, a window that ends now (the panels of
 * a page ask the same ones) in its small memo of recent figures.
 */
/* The cells of (metric, node) overlapping [from, to), in time order. */
static int hour_stamps(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                       stamps *out)
{
    memset(out, 0, sizeof *out);
    return sr_store_stamps(st, metric, node, from, sr_ceil_ms(to, SR_MS_HOUR), &out->h, &out->nh,
                           &out->cap);
}

/* The stamp of [from, to) from the cells overlapping it; *at: where to
 * start looking (slices asked in time order move it forward). */
static sr_memo_stamp stamp_of(const stamps *s, sr_ms from, sr_ms to, size_t *at)
{
    sr_memo_stamp r = {0, 0};
    size_t i = *at;
    while (i < s->nh && s->h[i].bucket + SR_MS_HOUR <= from)
        i++;
    *at = i;
    for (; i < s->nh && s->h[i].bucket < to; i++) {
        r.n += s->h[i].n;
        r.sum += s->h[i].sum;
    }
    return r;
}

/* A result in the memo: value, n and exact as 8 bytes each (the entries
 * may be persisted: no struct padding in them) */
#define RESULT_BYTES 24

static struct sr_memo *memo_lookup(qctx *c, const sr_metric_def *d, sr_agg agg, const sr_query *q,
                                   const sr_memo_stamp *given, stamps *scanned, sr_memo_key *key,
                                   sr_memo_stamp *stamp, sr_result *out, bool *hit, int *rc)
{
    *hit = false;
    *rc = 0;
    struct sr_memo *memo = q->closed ? sr_store_memo(c->st) : sr_store_memo_recent(c->st);
    if (!memo)
        return NULL;
    if (given) {
        *stamp = *given;
    } else {
        /* kept in *scanned: a miss computes from the same stamps */
        *rc = hour_stamps(c->st, c->metric, c->node, q->from_ms, q->to_ms, scanned);
        size_t at = 0;
        *stamp = stamp_of(scanned, q->from_ms, q->to_ms, &at);
        if (*rc)
            return NULL;
    }
    int64_t limit = q->exact_max > 0 ? q->exact_max : SR_QUERY_EXACT_N;
    double pv = agg.kind == SR_AGG_PCT ? agg.p : d->target;
    int64_t pbits;
    memcpy(&pbits, &pv, sizeof pbits);
    *key = (sr_memo_key){2 | (int64_t)agg.kind << 8 | (int64_t)d->percentile << 16 |
                             (int64_t)d->better << 24 | (int64_t)((uint64_t)limit << 32),
                         c->metric,
                         c->node,
                         q->from_ms,
                         pbits,
                         q->to_ms};
    size_t len;
    const unsigned char *r = sr_memo_get(memo, key, stamp, &len);
    if (r && len == RESULT_BYTES) {
        int64_t n, exact;
        memcpy(&out->value, r, 8);
        memcpy(&n, r + 8, 8);
        memcpy(&exact, r + 16, 8);
        out->n = n;
        out->exact = exact != 0;
        *hit = true;
    }
    return memo;
}

/* Keeps a result in the memo as RESULT_BYTES: value, n, exact. */
static void memo_put_result(struct sr_memo *memo, const sr_memo_key *key,
                            const sr_memo_stamp *stamp, const sr_result *r)
{
    unsigned char b[RESULT_BYTES];
    int64_t n = r->n, exact = r->exact;
    memcpy(b, &r->value, 8);
    memcpy(b + 8, &n, 8);
    memcpy(b + 16, &exact, 8);
    sr_memo_put(memo, key, stamp, b, sizeof b);
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
    out->value = (isnan(a.value) || isnan(b.value) || b.value == 0)
                     ? NAN
                     : a.value / b.value * (d->scale != 0 ? d->scale : 1.0);
    return 0;
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

    qctx c = {.st = st};
    int rc = node_of(st, q->entity, &c.node);
    if (rc)
        return rc;
    if (sr_store_metric_id(st, d->name, &c.metric) == SR_ENOENT)
        return 0; /* never stored: no value */

    acc a;
    acc_init(&a);
    c.a = &a;
    struct sr_memo *memo = NULL; /* where to put the result */
    stamps scanned = {0};        /* the cells' stamps memo_lookup read, if it read them */
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
        memo = memo_lookup(&c, d, agg, q, stamp, &scanned, &mkey, &mstamp, out, &hit, &rc);
        if (hit)
            memo = NULL; /* nothing to put back */
        if (rc || hit)
            goto out;
    }
    bool few = false; /* the cells said: few enough to read raw, exactly */
    if (pct && d->kind == SR_KIND_EVENT &&
        sr_ceil_ms(from, SR_MS_HOUR) < sr_floor_ms(to, SR_MS_HOUR)) {
        rc =
            pct_by_buckets(&c, d, agg, from, to, q->exact_max > 0 ? q->exact_max : SR_QUERY_EXACT_N,
                           q->raw_max, scanned.h ? &scanned : NULL, out);
        if (rc != PCT_USE_RAW)
            goto out;
        acc_fini(&a);
        acc_init(&a);
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
                                          count_cb, &all);
                if (rc)
                    goto out;
                exact = all <= limit;
            }
            if (exact) {
                acc_fini(&a);
                acc_init(&a);
            }
        }
        if (exact) {
            a.collect = 1;
            rc = c.mask ? sr_store_scan_raw(st, c.metric, from, to, raw_cb, &c)
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
        out->value = a.sum;
        break;
    case SR_AGG_AVG:
        out->value = a.sum / (double)a.n;
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
                               : sketch_percentile(a.sk, agg.p, d->percentile);
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
    if (!rc && memo)
        memo_put_result(memo, &mkey, &mstamp, out);
    free(scanned.h);
    acc_fini(&a);
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
    acc_init(&r->a);
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
    acc_fini(&r->a);
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
            rc = hour_stamps(st, metric, node, end - (sr_ms)buckets * slice, q->to_ms, &sx);
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
            sr_memo_stamp stamp = stamp_of(&sx, bq.from_ms, bq.to_ms, &at);
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

int sr_query_compare(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_compare *out)
{
    sr_ms len = q->to_ms - q->from_ms;
    sr_query p = *q, w = *q;
    p.from_ms -= len;
    p.to_ms -= len;
    w.from_ms -= 7 * SR_MS_DAY;
    w.to_ms -= 7 * SR_MS_DAY;
    int rc = sr_query_run(st, cat, q, &out->now);
    if (!rc)
        rc = sr_query_run(st, cat, &p, &out->prev);
    if (!rc)
        rc = sr_query_run(st, cat, &w, &out->week_ago);
    return rc;
}
