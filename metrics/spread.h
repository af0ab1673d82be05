/*
 * spread.h - how evenly a metric's load falls across the direct children of
 * an entity (issue 15): each child's value divided by its denominator (calls
 * per officer on duty), and over the children with a load the median, the
 * max/median ratio, the busiest quarter's share of the workload and the
 * outliers.
 *
 * Definitions, each one sentence a commander can be told:
 * - load: the child's value divided by its denominator over the same window
 *   (the value itself without a denominator); no load (NAN, with the
 *   reason) when either is missing or the denominator is 0.
 * - workload: the sum of the children's loads; the busiest quarter's share
 *   is the summed load of the ceil(n/4) children with the highest load over
 *   the summed load of all n, so an even spread gives ceil(n/4)/n (25 % for
 *   4, 8, 12 ... units).
 * - outlier: a child whose load is above 1.5 times the median load.
 * - fewer than SR_SPREAD_MIN children with a load: no spread, and why.
 */
#ifndef SR_SPREAD_H
#define SR_SPREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "query.h"

#define SR_SPREAD_MIN 4              /* children with a load needed for a spread */
#define SR_SPREAD_OUTLIER_FACTOR 1.5 /* an outlier's load is above this × the median */

typedef struct {
    const char *entity; /* borrowed from the store */
    sr_result value;    /* the metric's aggregate */
    sr_result denom;    /* the denominator's ({1, 0} without one); NAN: none */
    /* NULL, or the privacy rule's text to show instead of the value or the
     * denominator (borrowed, static); the row then has no load */
    const char *mask;
    double load;     /* value / denom; NAN when there is none (why says) */
    const char *why; /* NULL, or why there is no load (static text) */
    bool outlier;    /* load > SR_SPREAD_OUTLIER_FACTOR × the median */
} sr_spread_row;

typedef struct {
    size_t n;          /* children with a load */
    size_t top_n;      /* ceil(n / 4): the busiest quarter */
    size_t outliers;   /* children with outlier set */
    double median;     /* of the loads; NAN without a spread */
    double max;        /* the highest load; NAN without a spread */
    double max_median; /* max / median; NAN without a spread or when the median is 0 */
    double top_share;  /* the busiest quarter's share of the summed load, 0..1; NAN: none */
    const char *why;   /* NULL, or why there is no spread (static text) */
} sr_spread;

/*
 * Runs the metric q (q->agg, the window) and, when den is not NULL, the
 * denominator den (same entity and window) for each direct child of
 * q->entity, with sr_query_children, and fills *out with one row per child
 * of the metric's (a child the denominator has no row for has no
 * denominator), loads not yet computed. Caller owns *out; free with free().
 * Returns 0 or the query's error.
 */
int sr_spread_query(sr_store *st, const sr_catalog *cat, const sr_query *q, const sr_query *den,
                    sr_spread_row **out, size_t *n);

/*
 * Pure: sets each row's load and why (a masked row gets the mask as why),
 * then the spread over the rows with a load, the outliers, and sorts the
 * rows by load, highest first, rows without one last (in their order).
 */
void sr_spread_compute(sr_spread_row *rows, size_t n, sr_spread *out);

/*
 * A load as text, the one way every output writes it: d's figure per unit
 * of the denominator per (NULL: none, the load is d's own figure), rounded
 * as an average, in the unit "d's/per's" ("0.93 calls/h"; a unit missing
 * is the metric's name); compact: without the unit words ("0.93").
 */
void sr_spread_format_load(double load, const sr_metric_def *d, const sr_metric_def *per,
                           bool compact, char *buf, size_t len);

/*
 * The aggregate to use of a denominator of kind: a gauge's mean level over
 * the window (avg), else the metric's own aggregate.
 */
sr_agg sr_spread_denom_agg(sr_kind kind);

#endif
