/*
 * format.h - a value as people read it, with its metric's unit: the one
 * rule for every output that shows a figure to a person (tiles, tables,
 * `query`'s text table, the handover report, alert messages). JSON and
 * CSV write numbers exactly instead (sr_format_double, common.h).
 */
#ifndef SR_FORMAT_H
#define SR_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "kpi.h"

/*
 * Formats a value with its unit for a person: "13m42s" for seconds, "4 812"
 * with thousands grouped, "91%"; "-" for NAN, "overflow" for an infinity (an
 * aggregate beyond a double's range). Durations round to the second first,
 * then show their two largest units, the smaller one truncated: 42s, 13m42s,
 * 2h05m, 3d04h. Not compact, a count shows every unit ("14 400 000") and an
 * amount (sum, min, max, last, a gauge's or counter's value) every digit of
 * its decimal ("192 793 629.14 USD"); averages and percentiles are rounded
 * (to the unit from 100 up). compact drops the unit words and abbreviates
 * millions ("192.8M") for narrow cells.
 */
void sr_format_value(double v, const sr_metric_def *def, sr_agg agg, bool compact, char *buf,
                     size_t len);

/* A value that estimates one of agg rather than counts or adds it up (a
 * forecast, a baseline's median): as sr_format_value(), but a count or an
 * amount is rounded as an average is ("3 311", not "3 311.3802946593"). */
void sr_format_estimate(double v, const sr_metric_def *def, sr_agg agg, char *buf, size_t len);

/* The same for narrow cells, as sr_format_value()'s compact: no unit words,
 * millions abbreviated ("next 8h: 1 432–1 841" on a tile). */
void sr_format_estimate_compact(double v, const sr_metric_def *def, sr_agg agg, char *buf,
                                size_t len);

/* The same, unless mask (a model's or row's privacy mask, metrics/privacy.h)
 * is set: then the mask ("<5", "n<10", "hidden") instead of the value. */
void sr_format_masked(const char *mask, double v, const sr_metric_def *def, sr_agg agg,
                      bool compact, char *buf, size_t len);

#endif
