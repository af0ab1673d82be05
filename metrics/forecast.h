/*
 * forecast.h - a short look ahead of a count or a backlog, with its track
 * record: the next hours from the seasonal baseline (metrics/baseline.h)
 * adjusted by the current level, and the same forecast replayed over the
 * last weeks of the cache against what then happened.
 *
 * In one sentence for a commander: "each of the next 8 hours is expected
 * at its normal for that hour of the week, scaled by how the last 4 hours
 * ran against their own normal; replayed every 8 hours over the last 4
 * weeks, this missed by 11 % of what happened."
 *
 *   - The horizon [origin, origin + horizon) is cut into hourly slices;
 *     origin is the query's end rounded down to a whole hour (UTC).
 *   - Level factor: the sum of the actual figures of the
 *     SR_FORECAST_LEVEL_SLICES hourly slices before the origin over the sum
 *     of their baseline medians (a ratio of sums, steady with small
 *     counts); 1 when those medians sum to 0 (no level to scale).
 *   - Each future slice: its baseline median times the factor; its band,
 *     the baseline band times the factor. The horizon's figure is the sum
 *     of the slices for an additive aggregate (count, sum: "310-380 calls
 *     in the next 8 h") and their mean otherwise (a backlog's level).
 *   - No forecast when a slice of the horizon or of the level has no band
 *     (the baseline's reason), or a level slice has no figure.
 *   - Backtest: origins every horizon back from the origin over
 *     SR_FORECAST_BACKTEST_WEEKS weeks, each forecast made exactly as above
 *     from its own origin (baselines look back whole weeks, the level at
 *     the hours before the origin: only data before it), against the
 *     actual figure of its horizon. The error is the WAPE, sum |actual -
 *     forecast| / sum actual over the origins: a mean of percentage errors
 *     would be dominated, or undefined, by quiet horizons of 0 to 3 calls.
 *   - The backtest needs origins covering at least a week (every part of
 *     the week tested once) and something that happened; without them, or
 *     when its error is above the limit, the forecast is withheld with the
 *     reason.
 */
#ifndef SR_FORECAST_H
#define SR_FORECAST_H

#include <stdbool.h>
#include <stddef.h>

#include "baseline.h"
#include "common.h"
#include "kpi.h"
#include "query.h"
#include "store.h"

/* The length of a forecast's slices. */
#define SR_FORECAST_SLICE_MS SR_MS_HOUR
/* L: the hourly slices before the origin that set the level. */
#define SR_FORECAST_LEVEL_SLICES 4
/* How far back the backtest replays the forecast. */
#define SR_FORECAST_BACKTEST_WEEKS 4
/* The default and the longest horizon (--horizon). */
#define SR_FORECAST_HORIZON_DEFAULT (8 * SR_MS_HOUR)
#define SR_FORECAST_HORIZON_MAX (48 * SR_MS_HOUR)

/* What a forecast asks besides the query. All borrowed for the call. */
typedef struct {
    sr_baseline_opts base; /* the baseline's weeks, zone and excluded dates */
    sr_ms horizon_ms;      /* whole hours, 1 h to SR_FORECAST_HORIZON_MAX */
    bool additive;         /* the horizon's figure is the sum of its slices (else their mean) */
    double max_error;      /* the limit of the backtest's error, a fraction (0.25); NAN: none */
} sr_forecast_opts;

/* One forecast from one origin. */
typedef struct {
    sr_ms from_ms, to_ms;    /* the horizon, UTC */
    bool ok;                 /* a figure and a band were made */
    double level;            /* the level factor; NAN unless ok */
    double value, low, high; /* the horizon's figure and band; NAN unless ok */
    char why[160];           /* unless ok: "no baseline for Fri 22-23h: too few weeks: 2 of 8" */
} sr_forecast_point;

typedef struct {
    sr_forecast_point now;    /* the forecast from the origin */
    int origins;              /* backtest origins looked at */
    int used;                 /* of them, with a forecast and an actual figure */
    int needed;               /* the fewest used origins the error rests on (a week's) */
    double actual, abs_error; /* sums over the used origins */
    double error;             /* WAPE as a fraction; NAN without a backtest */
    bool shown;               /* now.ok and the backtest's error within the limit */
    char why[224];            /* unless shown: why the forecast is withheld */
} sr_forecast;

/*
 * Whether aggregate agg of a metric of kind has a forecast: a count, a sum
 * or a level (count sum avg min max last), not a percentile, a share within
 * target or a ratio, whose hours do not add up to the horizon's figure nor
 * scale with a level.
 */
bool sr_forecast_suits(sr_kind kind, sr_agg agg);

/* Whether the horizon's figure of agg is the sum of its slices (count,
 * sum), else their mean (sr_forecast_opts.additive). */
bool sr_forecast_additive(sr_agg agg);

/*
 * The start of the figures forecast f (made with o) rests on: its oldest
 * backtest origin's level slices, less the baselines' weeks. What a
 * privacy policy judges the forecast by is the figure from there to
 * f->now.from_ms.
 */
sr_ms sr_forecast_data_from(const sr_forecast *f, const sr_forecast_opts *o);

/*
 * The horizon's forecast from the baselines of its n slices (fut[0..n))
 * and of the l level slices before it (lev[0..l), with their actual
 * figures act[0..l)). Fills p->ok, level, value, low, high and why; the
 * labels of why are in tz. Pure.
 */
void sr_forecast_combine(const char *tz, const sr_baseline_slice *fut, size_t n,
                         const sr_baseline_slice *lev, size_t l, bool additive,
                         sr_forecast_point *p);

/*
 * The forecast of q's metric, entity and aggregate from q->to_ms (rounded
 * down to the hour) over o->horizon_ms, and its backtest. Returns 0 (a
 * withheld forecast is a success: out->why says why), SR_EINVAL for a
 * horizon out of range or options sr_baseline_compute refuses, or
 * sr_query_run()'s error.
 */
int sr_forecast_compute(sr_store *st, const sr_catalog *cat, const sr_query *q,
                        const sr_forecast_opts *o, sr_forecast *out);

#endif
