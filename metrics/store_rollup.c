/*
 * store_rollup.c - the store's hour cells: the SQL functions that merge
 * their blobs, writing a batch's cells, rebuilding them, and reading them.
 *
 * Rollups: for every stored event or counter sample, the hour cell of its
 * entity and of every ancestor up to the virtual root is updated, so that an
 * aggregate of any node over a long window reads a few hundred cells instead
 * of millions of rows. An hour cell carries the hour's count, sum, min, max
 * and latest value, a quantile sketch (events; sketch.h), the hour's
 * observations sorted (events; `vals`, v9: an exact percentile reads only
 * those in the sketch bucket that holds it, metrics/query.c), and the same
 * figures per minute (the `minutes` blob), so per-minute rollups cost no
 * extra row: separate minute rows for every ancestor were measured here to
 * write four to five cells per sample on sparse data and cut ingest to a
 * fifth. Gauges keep cells for their own entity only (a parent's level is
 * the sum of its children's latest values, which the query computes from
 * those cells). Cells are accumulated in memory during a batch (cells.c)
 * and written once per batch with an upsert that merges into what is stored
 * (through the SQL functions sr_sketch_merge, sr_minutes_merge and
 * sr_vals_merge), so the cost is per touched cell, not per row. A
 * gauge's level reads only the nodes that hold its cells
 * (sr_store_cell_nodes), which a reader keeps between refreshes: a tree has
 * far more entities than report any one gauge.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sketch.h"
#include "store_int.h"
#include "vals.h"

/* The stamps a handle keeps in read transactions (stamps.h): 24 bytes an
 * hour cell, so 60 days of hours of 30 (metric, node) pairs. */
#define STAMPS_BYTES (1u << 20)

/* sr_sketch_merge(a, b): the encoded merge of two encoded sketches; NULL
 * arguments are empty sketches. Registered on every connection. */
void store_sql_sketch_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sr_sketch *s = NULL;
    if (sr_sketch_create(SR_SKETCH_ALPHA, &s)) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (sqlite3_value_type(argv[i]) != SQLITE_BLOB)
            continue;
        const unsigned char *b = sqlite3_value_blob(argv[i]);
        int n = sqlite3_value_bytes(argv[i]);
        if (sr_sketch_merge_encoded(s, b, (size_t)n)) {
            sr_sketch_destroy(s);
            sqlite3_result_error(ctx, "sr_sketch_merge: damaged sketch", -1);
            return;
        }
    }
    if (sr_sketch_count(s) == 0) {
        sr_sketch_destroy(s);
        sqlite3_result_null(ctx);
        return;
    }
    unsigned char *buf;
    size_t len;
    if (sr_sketch_encode(s, &buf, &len)) {
        sr_sketch_destroy(s);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sr_sketch_destroy(s);
    sqlite3_result_blob(ctx, buf, (int)len, free);
}

int sr_rollup_minutes(const sr_rollup_cell *c, sr_minute_cell out[60])
{
    if (!c->minutes)
        return 0;
    return cells_minutes_decode(c->minutes, c->minutes_len, c->bucket_ms, out);
}

/* sr_minutes_merge(a, b): the merge of two minute breakdowns (NULL = none). */
void store_sql_minutes_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    minute_acc m[2][60];
    int n[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        if (sqlite3_value_type(argv[i]) != SQLITE_BLOB)
            continue;
        sr_minute_cell c[60];
        n[i] = cells_minutes_decode(sqlite3_value_blob(argv[i]),
                                    (size_t)sqlite3_value_bytes(argv[i]), 0, c);
        if (n[i] < 0) {
            sqlite3_result_error(ctx, "sr_minutes_merge: damaged minute breakdown", -1);
            return;
        }
        for (int k = 0; k < n[i]; k++)
            m[i][k] = (minute_acc){(int)(c[k].bucket_ms / SR_MS_MIN), c[k].n, c[k].sum, c[k].min,
                                   c[k].max};
    }
    minute_acc out[60];
    int k = cells_minutes_merge(m[0], n[0], m[1], n[1], out);
    unsigned char *buf = sqlite3_malloc(CELLS_MINUTES_MAX);
    if (!buf) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    size_t len = cells_minutes_encode(out, k, buf);
    sqlite3_result_blob(ctx, buf, (int)len, sqlite3_free);
}

/* ---- the values of an hour cell ---- */

int sr_rollup_values(const sr_rollup_cell *c, double **v, size_t *cap, size_t *n)
{
    *n = 0;
    if (!c->values || c->n <= 0)
        return 0;
    if ((size_t)c->n > *cap) {
        double *nv = realloc(*v, (size_t)c->n * sizeof *nv);
        if (!nv)
            return SR_ENOMEM;
        *v = nv;
        *cap = (size_t)c->n;
    }
    int rc = sr_vals_decode(c->values, c->values_len, (size_t)c->n, *v);
    if (!rc)
        *n = (size_t)c->n;
    return rc;
}

/* sr_vals_merge(a, b): the merge of two encoded value lists, NULL past
 * SR_ROLLUP_VALUES_MAX values or when either is damaged. Each list's count
 * comes from its own decoding, so the cells' n are not needed here. */
static int vals_decode_any(sqlite3_value *arg, double **out, size_t *n)
{
    const unsigned char *b = sqlite3_value_blob(arg);
    size_t len = (size_t)sqlite3_value_bytes(arg), max;
    *out = NULL;
    *n = 0;
    int rc = sr_vals_count(b, len, &max);
    if (rc)
        return rc;
    if (max > SR_ROLLUP_VALUES_MAX)
        return SR_ERANGE;
    double *v = malloc((max ? max : 1) * sizeof *v);
    if (!v)
        return SR_ENOMEM;
    if ((rc = sr_vals_decode(b, len, max, v))) {
        free(v);
        return rc;
    }
    *out = v;
    *n = max;
    return 0;
}

void store_sql_vals_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    double *a, *b;
    size_t na, nb;
    if (vals_decode_any(argv[0], &a, &na)) {
        sqlite3_result_null(ctx);
        return;
    }
    if (vals_decode_any(argv[1], &b, &nb) || na + nb > SR_ROLLUP_VALUES_MAX) {
        free(a);
        free(b);
        sqlite3_result_null(ctx);
        return;
    }
    double *m = malloc((na + nb) * sizeof *m);
    unsigned char *out = NULL;
    size_t len = 0;
    int rc = m ? 0 : SR_ENOMEM;
    if (!rc) {
        size_t i = 0, j = 0, k = 0;
        while (i < na || j < nb)
            m[k++] = j >= nb || (i < na && a[i] <= b[j]) ? a[i++] : b[j++];
        rc = sr_vals_encode(m, k, &out, &len);
    }
    free(a);
    free(b);
    free(m);
    if (rc) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_blob64(ctx, out, (sqlite3_uint64)len, free);
}

/* ---- writing ---- */

/* Encodes a cell's sketch and values (NULL when it keeps none). */
static int encode_cell(const cell *c, unsigned char **sk, size_t *sk_len, unsigned char **vb,
                       size_t *vb_len)
{
    *sk = *vb = NULL;
    *sk_len = *vb_len = 0;
    if (c->sketch && sr_sketch_count(c->sketch) > 0 && sr_sketch_encode(c->sketch, sk, sk_len))
        return SR_ENOMEM;
    if (c->nvals && c->nvals <= SR_ROLLUP_VALUES_MAX &&
        sr_vals_encode(c->vals, c->nvals, vb, vb_len)) {
        free(*sk);
        *sk = NULL;
        return SR_ENOMEM;
    }
    return 0;
}

static void bind_blob(sqlite3_stmt *q, int i, unsigned char *b, size_t len, int owned)
{
    if (b)
        sqlite3_bind_blob(q, i, b, (int)len, owned ? free : SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

/*
 * Upserts one cell, merging it into the stored one: its key, and the
 * figures of its twin when it has one (cells.h). A cell that is a twin
 * keeps its blobs until the flush is over; others' go with the statement.
 */
static int write_cell(sr_store *st, cell *key)
{
    cell *c = key->twin ? key->twin : key;
    sqlite3_stmt *q = st->stmt[ST_ROLLUP_UPSERT];
    unsigned char *sk, *vb;
    size_t sk_len, vb_len;
    if (c->has_twin && (c->sketch_blob || c->vals_blob)) {
        sk = c->sketch_blob;
        sk_len = c->sketch_len;
        vb = c->vals_blob;
        vb_len = c->vals_len;
    } else {
        sr_vals_sort(c->vals, c->nvals); /* the root's own cell's (cells_roll_up: the others) */
        if (encode_cell(c, &sk, &sk_len, &vb, &vb_len))
            return SR_ENOMEM;
        if (c->has_twin) {
            c->sketch_blob = sk;
            c->sketch_len = sk_len;
            c->vals_blob = vb;
            c->vals_len = vb_len;
        }
    }
    store_bind_int64s(q, 1, (const int64_t[]){key->metric, key->node, key->bucket, c->n}, 4);
    sqlite3_bind_double(q, 5, c->sum);
    sqlite3_bind_double(q, 6, c->min);
    sqlite3_bind_double(q, 7, c->max);
    sqlite3_bind_int64(q, 8, c->last_ts);
    sqlite3_bind_double(q, 9, c->last);
    bind_blob(q, 10, sk, sk_len, !c->has_twin);
    unsigned char mb[CELLS_MINUTES_MAX];
    bind_blob(q, 11, c->nmins ? mb : NULL, cells_minutes_encode(c->mins, c->nmins, mb), 0);
    bind_blob(q, 12, vb, vb_len, !c->has_twin);
    int rc = store_step_done(st, q, false);
    sqlite3_clear_bindings(q);
    return rc;
}

static int cmp_cell_key(const void *a, const void *b)
{
    const cell *x = *(const cell *const *)a, *y = *(const cell *const *)b;
    if (x->metric != y->metric)
        return x->metric < y->metric ? -1 : 1;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

/*
 * Upserts every cell of a map, then empties it. The cells go in the order
 * of the rollup's key, so that each insert lands next to the one before
 * rather than anywhere in the table.
 */
static int write_cells(sr_store *st, cellmap *m)
{
    cell **order = malloc((m->len ? m->len : 1) * sizeof *order);
    if (!order)
        return SR_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->v[i].used)
            order[n++] = &m->v[i];
    }
    qsort(order, n, sizeof *order, cmp_cell_key);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = write_cell(st, order[i]);
    free(order);
    if (!rc)
        cells_clear(m);
    return rc;
}

static int64_t entity_parent(void *ctx, int64_t node)
{
    const sr_store *st = ctx;
    return st->entities[node].parent;
}

/* Rolls the batch's cells up the tree (cells.c) and writes them all. */
int store_flush_cells(sr_store *st)
{
    int rc = cells_roll_up(&st->cells, &st->up, entity_parent, st);
    if (!rc)
        rc = write_cells(st, &st->cells);
    return rc ? rc : write_cells(st, &st->up);
}

/*
 * Rollups of one stored sample, into its entity's hour cell: events and
 * counters with minutes (events with their values, and so a sketch), to be rolled up to the
 * ancestors at flush; gauges without, and never rolled up.
 */
int store_accumulate(sr_store *st, const metric_rec *m, int64_t entity, sr_ms ts, double v)
{
    if (m->kind == SR_KIND_GAUGE)
        return cells_add(&st->cells, m->id, entity, ts, v, 0, 0);
    return cells_add(&st->cells, m->id, entity, ts, v, m->kind == SR_KIND_EVENT, 1);
}

/* Rebuilds every rollup from raw samples (migration to v2, and repair). */
int store_rebuild_rollups(sr_store *st)
{
    int rc;
    if ((rc = store_pend_flush(st)) || (rc = store_exec(st, "DELETE FROM rollup")) ||
        (rc = store_load_metrics(st)) || (rc = store_load_entities(st)))
        return rc;
    sqlite3_stmt *q;
    if ((rc = store_prepare(st, "SELECT metric, ts, entity, value FROM sample", &q)))
        return rc;
    /* a migration runs before prepare_all() */
    if (!store_stmt(st, ST_ROLLUP_UPSERT)) {
        sqlite3_finalize(q);
        return store_fail(st, SR_EIO);
    }
    int64_t rows = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t mid = sqlite3_column_int64(q, 0);
        const metric_rec *m = NULL;
        for (size_t i = 0; i < st->n_metrics; i++) {
            if (st->metrics[i].id == mid)
                m = &st->metrics[i];
        }
        int64_t e = sqlite3_column_int64(q, 2);
        if (!m || e <= 0 || (size_t)e >= st->n_entities || !st->entities[e].path)
            continue;
        int err =
            store_accumulate(st, m, e, sqlite3_column_int64(q, 1), sqlite3_column_double(q, 3));
        if (!err && ++rows % 100000 == 0)
            err = store_flush_cells(st);
        if (err) {
            sqlite3_finalize(q);
            return err;
        }
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return store_sql_err(st, rc);
    return store_flush_cells(st);
}

/* ---- reading ---- */

/* A cell of which only the count and sum are known (SR_SCAN_STAMPS). */
static sr_rollup_cell stamp_cell(sr_ms bucket, int64_t n, double sum)
{
    return (sr_rollup_cell){.bucket_ms = bucket,
                            .n = n,
                            .sum = sum,
                            .min = INFINITY,
                            .max = -INFINITY,
                            .last_ts = INT64_MIN};
}

/* The hour cell in the current row of a rollup statement (columns as in
 * ST_SCAN_ROLLUP); its blobs are valid until the statement moves on. */
static void rollup_row(sqlite3_stmt *q, unsigned flags, sr_rollup_cell *c)
{
    if (flags & SR_SCAN_STAMPS) {
        *c = stamp_cell(sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                        sqlite3_column_double(q, 2));
        return;
    }
    *c = (sr_rollup_cell){
        .bucket_ms = sqlite3_column_int64(q, 0),
        .n = sqlite3_column_int64(q, 1),
        .sum = sqlite3_column_double(q, 2),
        .min = sqlite3_column_double(q, 3),
        .max = sqlite3_column_double(q, 4),
        .last_ts = sqlite3_column_int64(q, 5),
        .last = sqlite3_column_double(q, 6),
    };
    if (!(flags & SR_SCAN_NO_SKETCH) && sqlite3_column_type(q, 7) == SQLITE_BLOB) {
        c->sketch = sqlite3_column_blob(q, 7);
        c->sketch_len = (size_t)sqlite3_column_bytes(q, 7);
    }
    if (sqlite3_column_type(q, 8) == SQLITE_BLOB) {
        c->minutes = sqlite3_column_blob(q, 8);
        c->minutes_len = (size_t)sqlite3_column_bytes(q, 8);
    }
    if ((flags & SR_SCAN_VALUES) && sqlite3_column_type(q, 9) == SQLITE_BLOB) {
        c->values = sqlite3_column_blob(q, 9);
        c->values_len = (size_t)sqlite3_column_bytes(q, 9);
    }
}

/*
 * Whether a rollup row read for [from, to) can be a cell the writer made:
 * an hour's bucket inside the range, after the row before it (*prev, then
 * moved on), a count not negative and a finite sum. SQLite keeps no
 * checksum of a page: a damaged page can give garbage rows without any
 * error, and a figure summed from them would be wrong with nothing said.
 * Sets the store's message and returns SR_ECORRUPT when it cannot.
 */
static int cell_check(sr_store *st, sr_ms *prev, sr_ms bucket, int64_t n, double sum, sr_ms from,
                      sr_ms to)
{
    if (bucket % SR_MS_HOUR == 0 && bucket >= from && bucket < to && bucket > *prev && n >= 0 &&
        isfinite(sum)) {
        *prev = bucket;
        return 0;
    }
    snprintf(st->errmsg, sizeof st->errmsg,
             "database disk image is malformed (a rollup row that no writer made)");
    return SR_ECORRUPT;
}

/* The store's read of stamps (sr_stamps_read_fn). */
static int stamps_read(void *ctx, int64_t metric, int64_t node, sr_ms from, sr_ms to, sr_stamps *s)
{
    sr_store *st = ctx;
    sqlite3_stmt *q = st->stmt[ST_SCAN_ROLLUP_STAMPS];
    store_bind_int64s(q, 1, (const int64_t[]){metric, node, from, to}, 4);
    int rc, stop = 0;
    sr_ms prev = INT64_MIN;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        sr_ms bucket = sqlite3_column_int64(q, 0);
        int64_t n = sqlite3_column_int64(q, 1);
        double sum = sqlite3_column_double(q, 2);
        if (!(stop = cell_check(st, &prev, bucket, n, sum, from, to)))
            stop = sr_stamps_push(s, bucket, n, sum);
    }
    return store_scan_end(st, q, rc, stop);
}

/* A cell's stamp onto *v (sr_store_stamps' buffer). */
typedef struct {
    sr_stamp_cell **v;
    size_t *n, *cap;
} stamps_out;

static int stamps_out_push(stamps_out *o, sr_ms bucket, int64_t n, double sum)
{
    if (n <= 0)
        return 0;
    if (*o->n == *o->cap) {
        size_t ncap = *o->cap ? 2 * *o->cap : 256;
        sr_stamp_cell *nv = realloc(*o->v, ncap * sizeof *nv);
        if (!nv)
            return SR_ENOMEM;
        *o->v = nv;
        *o->cap = ncap;
    }
    (*o->v)[(*o->n)++] = (sr_stamp_cell){bucket, n, sum};
    return 0;
}

static int stamps_out_cb(void *ctx, const sr_rollup_cell *c)
{
    return stamps_out_push(ctx, c->bucket_ms, c->n, c->sum);
}

int sr_store_stamps(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                    sr_stamp_cell **v, size_t *n, size_t *cap)
{
    stamps_out o = {v, n, cap};
    if (!st->in_read)
        return sr_store_scan_rollup(st, metric, node, from, to, SR_SCAN_STAMPS, stamps_out_cb, &o);
    if (!st->stamps && sr_stamps_create(STAMPS_BYTES, &st->stamps))
        return SR_ENOMEM;
    const sr_stamp_cell *c;
    size_t k;
    int rc = sr_stamps_get(st->stamps, metric, node, from, to, stamps_read, st, &c, &k);
    for (size_t i = 0; i < k && !rc; i++)
        rc = stamps_out_push(&o, c[i].bucket, c[i].n, c[i].sum);
    return rc;
}

int sr_store_scan_rollup(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                         unsigned flags, sr_rollup_cb cb, void *ctx)
{
    if (flags == SR_SCAN_STAMPS && st->in_read) {
        /* from the handle's copy (sr_store_stamps), copied out: cb may
         * scan again, which may move the copy's cells */
        sr_stamp_cell *v = NULL;
        size_t n = 0, cap = 0;
        int rc = sr_store_stamps(st, metric, node, from, to, &v, &n, &cap);
        for (size_t i = 0; i < n && !rc; i++) {
            sr_rollup_cell c = stamp_cell(v[i].bucket, v[i].n, v[i].sum);
            rc = cb(ctx, &c);
        }
        free(v);
        return rc;
    }
    sqlite3_stmt *q = st->stmt[flags & SR_SCAN_STAMPS    ? ST_SCAN_ROLLUP_STAMPS
                               : flags & SR_SCAN_VALUES  ? ST_SCAN_ROLLUP_VALS
                               : flags & SR_SCAN_MINUTES ? ST_SCAN_ROLLUP_MIN
                                                         : ST_SCAN_ROLLUP];
    sr_ms a = sr_floor_ms(from, SR_MS_HOUR), b = sr_floor_ms(to, SR_MS_HOUR), prev = INT64_MIN;
    store_bind_int64s(q, 1, (const int64_t[]){metric, node, a, b}, 4);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        sr_rollup_cell c;
        rollup_row(q, flags, &c);
        if (!(stop = cell_check(st, &prev, c.bucket_ms, c.n, c.sum, a, b)))
            stop = cb(ctx, &c);
    }
    return store_scan_end(st, q, rc, stop);
}

int sr_store_rollup_newest(sr_store *st, int64_t metric, int64_t node, sr_ms before_ms,
                           unsigned flags, sr_rollup_cb cb, void *ctx)
{
    sqlite3_stmt *q = st->stmt[flags & SR_SCAN_MINUTES ? ST_ROLLUP_NEWEST_MIN : ST_ROLLUP_NEWEST];
    store_bind_int64s(q, 1, (const int64_t[]){metric, node, before_ms}, 3);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        sr_rollup_cell c;
        rollup_row(q, flags, &c);
        int r = cb(ctx, &c);
        sqlite3_reset(q);
        return r;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? SR_ENOENT : store_sql_err(st, rc);
}

/* ---- the nodes holding a metric's cells ---- */

void store_forget_cell_nodes(sr_store *st, int64_t metric)
{
    for (size_t i = 0; i < st->n_cell_nodes; i++) {
        if (metric == 0 || (int64_t)i == metric)
            st->cell_nodes[i].valid = false;
    }
}

/* Reads the nodes holding cells of metric into r, one seek each. */
static int read_cell_nodes(sr_store *st, int64_t metric, nodes_rec *r)
{
    sqlite3_stmt *q = store_stmt(st, ST_CELL_NODE_NEXT);
    if (!q)
        return store_fail(st, SR_EIO);
    r->n = 0;
    int64_t last = INT64_MIN;
    int rc;
    for (;;) {
        store_bind_int64s(q, 1, (const int64_t[]){metric, last}, 2);
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
            break;
        last = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        if (sr_reserve(&r->ids, &r->cap, r->n, sizeof *r->ids)) {
            rc = SQLITE_NOMEM;
            break;
        }
        r->ids[r->n++] = last;
    }
    sqlite3_reset(q);
    if (rc == SQLITE_NOMEM)
        return SR_ENOMEM;
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, rc);
}

int sr_store_cell_nodes(sr_store *st, int64_t metric, const int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (metric <= 0)
        return SR_EINVAL;
    size_t m = (size_t)metric;
    if (m >= st->n_cell_nodes) {
        nodes_rec *v = realloc(st->cell_nodes, (m + 1) * sizeof *v);
        if (!v)
            return SR_ENOMEM;
        memset(v + st->n_cell_nodes, 0, (m + 1 - st->n_cell_nodes) * sizeof *v);
        st->cell_nodes = v;
        st->n_cell_nodes = m + 1;
    }
    nodes_rec *r = &st->cell_nodes[m];
    /* kept only inside read transactions, whose start takes in the commits
     * that touched the metric (store_take_touches forgets its list) */
    if (!r->valid || !st->in_read) {
        r->valid = false;
        int rc = read_cell_nodes(st, metric, r);
        if (rc)
            return rc;
        r->valid = st->in_read != 0;
    }
    *ids = r->ids;
    *n = r->n;
    return 0;
}
