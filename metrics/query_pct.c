/*
 * query_pct.c - exact percentiles of long windows through the sketch's
 * buckets, and the memo of closed slices the queries keep (query_int.h).
 */
#include "query_int.h"

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
    int rc = q_cell_cb(x->q, c);
    if (!rc && (rc = stamps_push(&x->s, c)))
        x->q->a->failed = rc;
    return rc;
}

/* Edge values (whole tree): into the sketch and the value list. */
static int edge_value_cb(void *ctx, double v)
{
    acc *a = ctx;
    q_acc_value(a, 0, v);
    return a->failed;
}

/* The raw samples of the subtree in [from, to) into q->a (values and sketch). */
static int edge_scan(qctx *q, sr_ms from, sr_ms to)
{
    if (from >= to)
        return 0;
    if (!q->mask)
        return sr_store_scan_values(q->st, q->metric, from, to, edge_value_cb, q->a);
    return sr_store_scan_raw(q->st, q->metric, from, to, q_raw_cb, q);
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
 * read raw); 1 for a cell without observations (nothing to do); SR_ENOMEM. */
static int cell_values(const sr_rollup_cell *c, double **cell, size_t *cap, size_t *n)
{
    *n = 0;
    if (c->n <= 0)
        return 1;
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
    size_t n;
    int rc = cell_values(c, &x->cell, &x->cell_cap, &n);
    if (rc)
        return rc > 0 ? 0 : rc;
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
    size_t n;
    int rc = cell_values(c, &x->cell, &x->cell_cap, &n);
    if (rc)
        return rc > 0 ? 0 : rc;
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

/* Merges a cell's sketch into the window's. */
static int sketch_cell_cb(void *ctx, const sr_rollup_cell *c)
{
    return c->n > 0 ? q_merge_cell_sketch(ctx, c) : 0;
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
        q_acc_init(&d);
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
        q_acc_fini(&d);
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
            q_acc_init(&d);
            if (sr_sketch_create(SR_SKETCH_ALPHA, &d.sk))
                return SR_ENOMEM;
            rc = sr_store_scan_rollup(q->st, q->metric, q->node, from, to, 0, sketch_cell_cb, &d);
            if (!rc)
                rc = d.failed;
            sk = d.sk;
            d.sk = NULL;
            q_acc_fini(&d);
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
    q_acc_init(&a);
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
    q_acc_fini(&a);
    return rc;
}

int q_pct_by_buckets(qctx *q, const sr_metric_def *d, sr_agg agg, sr_ms from, sr_ms to,
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
                                  sr_ceil_ms(to, SR_MS_HOUR), SR_SCAN_STAMPS, q_count_cb, &all);
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
            out->value = q_sketch_percentile(a->sk, agg.p, d->percentile);
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
        rc = bucket_rank(q, a->sk, q_nearest_rank(agg.p, (size_t)n), ha, hb, hx.s.h, hx.s.nh,
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
int q_hour_stamps(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to, stamps *out)
{
    memset(out, 0, sizeof *out);
    return sr_store_stamps(st, metric, node, from, sr_ceil_ms(to, SR_MS_HOUR), &out->h, &out->nh,
                           &out->cap);
}

/* The stamp of [from, to) from the cells overlapping it; *at: where to
 * start looking (slices asked in time order move it forward). */
sr_memo_stamp q_stamp_of(const stamps *s, sr_ms from, sr_ms to, size_t *at)
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

struct sr_memo *q_memo_lookup(qctx *c, const sr_metric_def *d, sr_agg agg, const sr_query *q,
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
        *rc = q_hour_stamps(c->st, c->metric, c->node, q->from_ms, q->to_ms, scanned);
        size_t at = 0;
        *stamp = q_stamp_of(scanned, q->from_ms, q->to_ms, &at);
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
void q_memo_put_result(struct sr_memo *memo, const sr_memo_key *key, const sr_memo_stamp *stamp,
                       const sr_result *r)
{
    unsigned char b[RESULT_BYTES];
    int64_t n = r->n, exact = r->exact;
    memcpy(b, &r->value, 8);
    memcpy(b + 8, &n, 8);
    memcpy(b + 16, &exact, 8);
    sr_memo_put(memo, key, stamp, b, sizeof b);
}
