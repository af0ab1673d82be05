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

/*
 * Two values formatted alike, lo and hi, joined by sep ("–"; "-" where only
 * ASCII may go) as a range into buf: the unit word said once when both end
 * in the same one after a blank ("2 082–2 412 calls", not "2 082 calls–2 412
 * calls"); values without a unit word as they are ("12m09s–13m59s",
 * "88%–91%", "1 000–2 000"). The one way a band or a forecast is written.
 * Returns how many bytes of lo it keeps, for a writer that puts sep out on
 * its own (Markdown sanitises the values, never the dash it writes).
 */
size_t sr_format_range(const char *lo, const char *hi, const char *sep, char *buf, size_t len);

/* The same, unless mask (a model's or row's privacy mask, metrics/privacy.h)
 * is set: then the mask ("<5", "n<10", "hidden") instead of the value. */
void sr_format_masked(const char *mask, double v, const sr_metric_def *def, sr_agg agg,
                      bool compact, char *buf, size_t len);

#endif
