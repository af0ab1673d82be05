/*
 * baseline.h - a figure against its own normal: the seasonal baseline of a
 * slice of time (the same slice of the week over the last N weeks) and
 * whether a run of slices is unusual against it.
 *
 * In one sentence for a commander: "normal for Friday 22-23h is the range
 * this figure took on the last 8 Fridays at 22-23h, leaving out holidays;
 * a figure outside that range two slices running is unusual."
 *
 *   - Week k (1..N) of slice [from, to) is the slice with the same local
 *     wall-clock times k weeks earlier, in the config's time zone
 *     (sr_local_to_utc, common.h): across a change of the clocks it is the
 *     same hour on the clock, not the same number of hours back.
 *   - Each week's figure is sr_query_run() of the same query over that
 *     week's slice: the one aggregator, nothing computed twice.
 *   - A slice still filling is compared with the same part of each week:
 *     when the metric's newest sample in the whole cache falls inside the
 *     slice (a source reports a quarter hour once it is over, so at 22:59
 *     the cache holds 22:00-22:45), each week's slice ends one millisecond
 *     after that sample's time, k weeks earlier (sr_query_data_end). Once
 *     data after the slice is in, the weeks are whole.
 *   - Each week's slice, and each earlier slice of a run, is moved to whole
 *     minutes (each end later by less than one minute): a
 *     screen refreshing every few seconds then asks the same weeks again
 *     and the memo answers them, where ends a second apart never repeat.
 *     Slots of a source at whole minutes fall in the same slice either way.
 *   - A week is used when its slice touches no excluded date (a local
 *     date, [sitrep] baseline_exclude: holidays), the cache holds the
 *     metric from the week's slice on (its oldest sample is at or before
 *     the slice's start: a count of 0 before the cache began is no
 *     figure), and its figure is a number. A week whose slice the clocks
 *     skipped (02-03h on the day summer time began) has no figure.
 *   - The band is the 10th to the 90th percentile of the used weeks'
 *     figures, taken symmetrically by rank: leaving out the n/10 (rounded
 *     down) lowest and the n/10 highest, the lowest and the highest of the
 *     rest. With 8 weeks that is the lowest and the highest of the 8; with
 *     20, the 3rd lowest and the 3rd highest. A band of the middle half
 *     (25th to 75th) would call every other slice unusual by chance; with 8
 *     weeks this one is passed by chance about once in nine slices on each
 *     side, and two slices running far more rarely. The median is the middle figure (the mean
 *     of the two middle ones for an even number).
 *   - Fewer than SR_BASELINE_MIN_WEEKS used weeks: no band, and the reason
 *     ("too few weeks: 2 of 8"), as a percentile over fewer than 10
 *     observations is not shown.
 *   - A sparse series: fewer observations under the band (the used weeks'
 *     r.n summed) than a percentile is shown over (SR_PRIV_MIN_PCT_N, 10;
 *     privacy.h): no band, and the reason ("too few observations: 3 in 8
 *     weeks"). A quiet hour that held 0, 0, 1, 0, ... calls would otherwise
 *     get the band 0-1, and a single call would read as unusual.
 */
#ifndef SR_BASELINE_H
#define SR_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "kpi.h"
#include "query.h"
#include "store.h"

/* The fewest used weeks a band rests on (also the least baseline_weeks). */
#define SR_BASELINE_MIN_WEEKS 4
/* The most weeks a baseline looks back. */
#define SR_BASELINE_MAX_WEEKS 52
/* The most excluded dates ([sitrep] baseline_exclude). */
#define SR_BASELINE_EXCLUDE_MAX 64
/* The longest slice a baseline is of: a longer one would overlap its weeks. */
#define SR_BASELINE_SLICE_MAX (7 * SR_MS_DAY)

/* What a baseline asks besides the query. All borrowed for the call. */
typedef struct {
    int weeks;              /* N: SR_BASELINE_MIN_WEEKS..SR_BASELINE_MAX_WEEKS */
    const char *tz;         /* the config's time zone (NULL or "": UTC) */
    const int32_t *exclude; /* local dates as YYYYMMDD (20261225); n_exclude of them */
    size_t n_exclude;
} sr_baseline_opts;

/* What became of one week. */
typedef enum {
    SR_WEEK_USED = 0,   /* its figure is in the band */
    SR_WEEK_EXCLUDED,   /* its slice touches an excluded date */
    SR_WEEK_NO_HISTORY, /* the cache holds nothing of the metric that old */
    SR_WEEK_NO_DATA,    /* no figure (NAN): nothing to aggregate, or a skipped hour */
} sr_week_state;

/* "used", "excluded", "no history", "no data". */
const char *sr_week_state_name(sr_week_state s);

typedef struct {
    sr_ms from_ms, to_ms; /* the week's slice, UTC */
    sr_result r;          /* its figure (NAN, n 0 unless computed) */
    sr_week_state state;
} sr_baseline_week;

typedef struct {
    int weeks;    /* N asked */
    int used;     /* weeks whose figure is in the band */
    int excluded; /* weeks left out for an excluded date */
    int64_t n;    /* observations under the band: the used weeks' r.n summed */
    bool has_band;
    double low, high, median; /* NAN without a band */
    char why[64]; /* without a band: "too few weeks: 2 of 8", "too few observations: 3 in 8
                   * weeks"; else "" */
    sr_baseline_week week[SR_BASELINE_MAX_WEEKS]; /* week[k - 1]: k weeks back */
} sr_baseline;

/*
 * The slice [*from_k, *to_k) k weeks before [from, to): the same local
 * wall-clock times in tz, 7k days earlier. Pure. Returns 0, or SR_EINVAL
 * for an unknown zone.
 */
int sr_baseline_week_slice(const char *tz, sr_ms from, sr_ms to, int k, sr_ms *from_k, sr_ms *to_k);

/*
 * Fills out->used, n, has_band, low, high, median and why from the figures of
 * the weeks whose state is SR_WEEK_USED (out->weeks of them looked at). Pure.
 */
void sr_baseline_band(sr_baseline *b);

/*
 * The baseline of q's slice (q->entity's subtree, q->agg, [from, to)),
 * over o->weeks weeks: each week's state and figure, then the band.
 * Returns 0 (a baseline without a band is a success: out->why says why),
 * SR_EINVAL for weeks out of range, an unknown zone or an empty slice,
 * SR_ERANGE for a slice longer than a week, or sr_query_run()'s error.
 */
int sr_baseline_compute(sr_store *st, const sr_catalog *cat, const sr_query *q,
                        const sr_baseline_opts *o, sr_baseline *out);

/* One slice of a run: its window, its figure and its baseline. */
typedef struct {
    sr_ms from_ms, to_ms;
    sr_result figure;
    sr_baseline base;
} sr_baseline_slice;

/* The most slices a run may have ([metric.*] unusual_slices). */
#define SR_UNUSUAL_MAX_SLICES 12

/*
 * The run of m consecutive slices of q's length ending with q's: out[m - 1]
 * is q's slice, out[i] the one (m - 1 - i) lengths before it; each with
 * its figure (sr_query_run) and its baseline (sr_baseline_compute). m in
 * 1..SR_UNUSUAL_MAX_SLICES. Errors as sr_baseline_compute; SR_EINVAL for m
 * out of range.
 */
int sr_baseline_run(sr_store *st, const sr_catalog *cat, const sr_query *q,
                    const sr_baseline_opts *o, size_t m, sr_baseline_slice *out);

/* sr_unusual, the verdict, is in kpi.h. */

/*
 * Whether the run s[0..m) (oldest first) is unusual: every figure above
 * its slice's band high (strictly), or every one below its band low. A
 * figure on the edge of its band is normal. m 0: SR_UNUSUAL_UNKNOWN. Pure.
 */
sr_unusual sr_baseline_unusual(const sr_baseline_slice *s, size_t m);

/* "high", "low", "none", "unknown". */
const char *sr_unusual_name(sr_unusual u);

/*
 * The slice's place in the week for a person, in tz: "Fri 22-23h" (whole
 * hours on one day; "Fri 23-24h" up to midnight), "Fri 22:30-23:15", or
 * "Fri 22h-Sat 06h" across days; ASCII, so that it reads the same in every
 * locale and format (a CSV field is cleaned by the locale's rules). Pure.
 */
void sr_baseline_label(const char *tz, sr_ms from, sr_ms to, char *buf, size_t len);

/*
 * Parses dates "2026-12-25, 2026-12-26" (YYYY-MM-DD separated by commas
 * or blanks; empty text: none) into days[] as YYYYMMDD, at most max of
 * them, *n their number. Returns 0, or SR_EINVAL with the offending word
 * quoted in why ("expected dates such as 2026-12-25 ... got '...'"), or
 * SR_ERANGE when there are more than max. The one rule for these dates
 * (the config checks them with it).
 */
int sr_baseline_parse_dates(const char *text, int32_t *days, size_t max, size_t *n, char *why,
                            size_t len);

#endif
