/*
 * query.h - aggregates of a metric over a window for any entity, pooling
 * all its descendants, and the comparisons and series the screen shows.
 *
 * Windows are half-open [from, to). A window with nothing in it has no
 * value (NAN), never 0.
 */
#ifndef SR_QUERY_H
#define SR_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "kpi.h"
#include "store.h"

typedef struct {
    const char *metric;
    const char *entity; /* NULL or "" = every entity */
    sr_agg agg;         /* SR_AGG_VALUE = the metric's default aggregate */
    sr_ms from_ms, to_ms;
    /* Percentiles over windows longer than 48 h are exact up to this many
     * observations, from the sketches beyond; 0 = the default (500,000). */
    int64_t exact_max;
    /* Exact percentiles of windows holding at least one whole hour read the
     * raw samples up to this many observations, and beyond only the hour
     * cells' values in the bucket that holds the answer; 0 = the default
     * (20,000). Tests lower it to reach the cells' path. */
    int64_t raw_max;
    /* A slice that will be asked for again unchanged (a series' older
     * slices): its percentile is memoised (metrics/memo.h) and reused while
     * its count and sum stay the same. */
    bool closed;
} sr_query;

typedef struct {
    /* NAN when the window holds no data (a count is 0: nothing happened);
     * an infinity when the aggregate of finite samples went beyond a
     * double's range (an overflow, never shown as a figure) */
    double value;
    int64_t n;  /* observations (events), samples (gauges, counters) */
    bool exact; /* false when a percentile came from the sketch */
} sr_result;

/*
 * Runs one aggregate. The catalog gives the metric's kind, percentile
 * method, target and (for ratios) its two parts. Returns SR_ENOENT for an
 * unknown metric or entity, SR_EINVAL for an aggregate the kind does not
 * support.
 */
int sr_query_run(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_result *out);

typedef struct {
    const char *entity; /* borrowed from the store */
    sr_result r;
} sr_child_result;

/*
 * The same aggregate for each direct child of q->entity. Caller owns *out;
 * free with free().
 */
int sr_query_children(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_child_result **out,
                      size_t *n);

/*
 * The aggregate in `buckets` equal slices of the window (for sparklines);
 * out[i] is NAN where a slice is empty. Slices are whole seconds long (whole
 * hours from two hours on: sr_query_series_points) and aligned to multiples of their length, the
 * last one ending at to_ms (so the first may start a little before from_ms): as time passes only
 * the last slice changes until a boundary passes. Gauges (and ratios of gauges) carry their level:
 * each slice looks back to the window's start.
 */
int sr_query_series(sr_store *st, const sr_catalog *cat, const sr_query *q, size_t buckets,
                    double *out);

/*
 * The slices sr_query_series cuts q's window into: slice i of buckets is
 * [end - (buckets - i) * slice, end - (buckets - i - 1) * slice), the last
 * one cut at q->to_ms. For callers that aggregate runs of adjacent slices
 * themselves (metrics/panel.c pools percentile slices).
 */
void sr_query_series_slices(const sr_query *q, size_t buckets, sr_ms *slice_ms, sr_ms *end_ms);

/*
 * How many slices to cut a window of window_ms into when up to `want` fit
 * (a chart's columns): want, unless that makes slices of two hours or more,
 * then as many as make slices of whole hours (a 30-day chart of 158 columns:
 * 144 slices of 5 h, not 158 of 4 h 33 m). A closed slice of whole hours is
 * computed from its hour cells alone, exactly, without reading raw samples.
 */
size_t sr_query_series_points(sr_ms window_ms, size_t want);

/*
 * Merges into sk (an empty sketch of SR_SKETCH_ALPHA, or one to add to) the
 * sketch of the hour cells of (metric, node) whose hour starts in
 * [from, to) (both aligned down to the hour) and sets *min to a value at
 * or below the sketch's smallest observation, within its error bound of it
 * (+inf when none): whole days from the store's memo (metrics/memo.h), so
 * that a month costs about 30 merges, not 720.
 */
struct sr_sketch;
int sr_query_hours_sketch(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                          struct sr_sketch *sk, double *min);

/*
 * Where the data of q's metric ends when q's window is its frontier: one
 * millisecond past its newest sample (of a ratio, the earlier of its
 * parts') when that sample is the newest of the whole cache and falls in
 * [from, to); else q->to_ms. A source reports a slot once it is over, so
 * at 22:59 a window ending now holds 22:00-22:45 of the hour: what it is
 * compared with (the window before, a week ago, the baseline's weeks) is
 * cut at the same point. A closed window (q->closed) is over: q->to_ms,
 * without a look. SR_ENOENT for an unknown metric.
 */
int sr_query_data_end(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_ms *out);

typedef struct {
    sr_result now;
    sr_result prev;     /* the window of the same length just before */
    sr_result week_ago; /* the same window one week earlier */
} sr_compare;

/* now, prev and week_ago of q; prev and week_ago end as far into their
 * window as the data reaches into q's (sr_query_data_end). */
int sr_query_compare(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_compare *out);

/*
 * Exact percentile of sorted values v[0..n) by method; NAN when n == 0.
 * p in (0, 100]. Nearest rank: v[ceil(p/100 * n) - 1]. Linear: R type 7,
 * h = (n-1) p/100, v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h]).
 */
double sr_percentile_sorted(const double *v, size_t n, double p, sr_pct_method m);

#endif
