/*
 * query_int.h - what metrics/query.c and query_pct.c share: the
 * accumulator of one aggregate, the query's context, the stamps of hour
 * cells, and the functions one file defines for the other. Private to those
 * two files.
 */
#ifndef SR_QUERY_INT_H
#define SR_QUERY_INT_H

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
    double sum_err; /* what the additions to sum rounded away (acc_add) */
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

typedef sr_stamp_cell hour_stamp; /* bucket: the hour */

/* The stamps of a node's hour cells, in time order. */
typedef struct {
    hour_stamp *h;
    size_t nh, cap;
} stamps;

#define PCT_USE_RAW 1 /* q_pct_by_buckets: read the raw samples instead */

static inline bool in_subtree(const qctx *q, int64_t e)
{
    if (!q->mask)
        return true;
    return e >= 0 && e < q->mask_n && q->mask[e];
}

/* ---- query.c ---- */

/* An empty accumulator (min +inf, max -inf, no last). */
void q_acc_init(acc *a);

/* Frees what a holds (its values, its sketch). */
void q_acc_fini(acc *a);

/* One observation at ts into a: count, compensated sum, min, max, last,
 * and the values or the sketch when a collects them. */
void q_acc_value(acc *a, sr_ms ts, double v);

/* A raw sample of entity e into the qctx's accumulator, when e is in its
 * subtree (a gauge: the entity's latest). */
int q_raw_cb(void *ctx, int64_t e, sr_ms ts, double v);

/* Adds up the observations of hour cells. */
int q_count_cb(void *ctx, const sr_rollup_cell *c);

/* Merges a non-empty cell's sketch into a's. */
int q_merge_cell_sketch(acc *a, const sr_rollup_cell *c);

/* A whole hour cell into the qctx's accumulator. */
int q_cell_cb(void *ctx, const sr_rollup_cell *c);

/* The 1-based rank of percentile p among n sorted observations. */
size_t q_nearest_rank(double p, size_t n);

/* Percentile p of a sketch's observations (within its error bound). */
double q_sketch_percentile(const sr_sketch *sk, double p, sr_pct_method m);

/* ---- query_pct.c ---- */

/* A percentile or "within" of a long window through the sketch's buckets:
 * exact, from the observations of the one bucket the rank falls in;
 * PCT_USE_RAW when reading the raw samples is cheaper. */
int q_pct_by_buckets(qctx *q, const sr_metric_def *d, sr_agg agg, sr_ms from, sr_ms to,
                     int64_t limit, int64_t raw_max, const stamps *given, sr_result *out);

/* The cells of (metric, node) overlapping [from, to), in time order. */
int q_hour_stamps(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to, stamps *out);

/* The stamp of [from, to) from the cells overlapping it; *at: where to
 * start looking (slices asked in time order move it forward). */
sr_memo_stamp q_stamp_of(const stamps *s, sr_ms from, sr_ms to, size_t *at);

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
struct sr_memo *q_memo_lookup(qctx *c, const sr_metric_def *d, sr_agg agg, const sr_query *q,
                              const sr_memo_stamp *given, stamps *scanned, sr_memo_key *key,
                              sr_memo_stamp *stamp, sr_result *out, bool *hit, int *rc);

/* Keeps a result in the memo as RESULT_BYTES: value, n, exact. */
void q_memo_put_result(struct sr_memo *memo, const sr_memo_key *key, const sr_memo_stamp *stamp,
                       const sr_result *r);

#endif
