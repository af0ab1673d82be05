/*
 * forecast.c - the short-range forecast and its backtest (forecast.h says
 * what they mean).
 *
 * Data flow: sr_forecast_compute() lays one row of hourly slices from the
 * oldest backtest origin's level slices to the end of the horizon; each
 * slice gets its figure and its baseline once, through sr_baseline_run()
 * (the one baseline), since the backtest's origins share them. Every
 * forecast, the one shown and each replayed one, is sr_forecast_combine()
 * of a stretch of that row: pure arithmetic on baselines. Nothing here
 * keeps state between calls.
 */
#include "forecast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEEK_MS (7 * SR_MS_DAY)

bool sr_forecast_suits(sr_kind kind, sr_agg agg)
{
    return kind != SR_KIND_RATIO && agg.kind != SR_AGG_PCT && agg.kind != SR_AGG_WITHIN;
}

bool sr_forecast_additive(sr_agg agg)
{
    return agg.kind == SR_AGG_COUNT || agg.kind == SR_AGG_SUM;
}

sr_ms sr_forecast_data_from(const sr_forecast *f, const sr_forecast_opts *o)
{
    return f->now.from_ms - (SR_FORECAST_BACKTEST_WEEKS + o->base.weeks) * WEEK_MS - o->horizon_ms -
           SR_FORECAST_LEVEL_SLICES * SR_FORECAST_SLICE_MS;
}

void sr_forecast_combine(const char *tz, const sr_baseline_slice *fut, size_t n,
                         const sr_baseline_slice *lev, size_t l, bool additive,
                         sr_forecast_point *p)
{
    char label[64];
    p->ok = false;
    p->level = p->value = p->low = p->high = NAN;
    p->why[0] = '\0';
    double act = 0, med = 0;
    for (size_t i = 0; i < l; i++) {
        sr_baseline_label(tz, lev[i].from_ms, lev[i].to_ms, label, sizeof label);
        if (!lev[i].base.has_band) {
            snprintf(p->why, sizeof p->why, "no baseline for %s: %s", label, lev[i].base.why);
            return;
        }
        if (!isfinite(lev[i].figure.value)) {
            snprintf(p->why, sizeof p->why, "no figure for %s to set the level", label);
            return;
        }
        act += lev[i].figure.value;
        med += lev[i].base.median;
    }
    double f = med > 0 ? act / med : 1.0;
    double v = 0, lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        const sr_baseline *b = &fut[i].base;
        if (!b->has_band) {
            sr_baseline_label(tz, fut[i].from_ms, fut[i].to_ms, label, sizeof label);
            snprintf(p->why, sizeof p->why, "no baseline for %s: %s", label, b->why);
            return;
        }
        v += b->median * f;
        lo += b->low * f;
        hi += b->high * f;
    }
    if (!additive && n) {
        v /= (double)n;
        lo /= (double)n;
        hi /= (double)n;
    }
    p->ok = true;
    p->level = f;
    p->value = v;
    p->low = lo;
    p->high = hi;
}

/* The actual figure of the horizon s[0..n): their sum (additive) or mean;
 * NAN when a slice has no figure. */
static double horizon_actual(const sr_baseline_slice *s, size_t n, bool additive)
{
    double v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(s[i].figure.value))
            return NAN;
        v += s[i].figure.value;
    }
    return additive || !n ? v : v / (double)n;
}

/* Fills f->error, shown and why from the backtest's sums and f->now. */
static void judge(const sr_forecast_opts *o, sr_forecast *f)
{
    f->error = f->used >= f->needed && f->actual > 0 ? f->abs_error / f->actual : NAN;
    f->shown = false;
    if (!f->now.ok) {
        snprintf(f->why, sizeof f->why, "%s", f->now.why);
    } else if (f->used < f->needed) {
        snprintf(f->why, sizeof f->why,
                 "too little history: the backtest has %d of %d origins with a forecast, "
                 "%d needed (a week's)",
                 f->used, f->origins, f->needed);
    } else if (!(f->actual > 0)) {
        snprintf(f->why, sizeof f->why,
                 "nothing happened in the backtest's %d weeks, so its error is unknown",
                 SR_FORECAST_BACKTEST_WEEKS);
    } else if (!isnan(o->max_error) && f->error > o->max_error) {
        snprintf(f->why, sizeof f->why,
                 "backtest error %.0f %% over %d wk is above the limit of %.0f %%",
                 f->error * 100.0, SR_FORECAST_BACKTEST_WEEKS, o->max_error * 100.0);
    } else {
        f->shown = true;
    }
}

int sr_forecast_compute(sr_store *st, const sr_catalog *cat, const sr_query *q,
                        const sr_forecast_opts *o, sr_forecast *out)
{
    const sr_ms h = SR_FORECAST_SLICE_MS, hz = o->horizon_ms;
    if (hz < h || hz > SR_FORECAST_HORIZON_MAX || hz % h)
        return SR_EINVAL;
    memset(out, 0, sizeof *out);
    sr_ms origin = q->to_ms - ((q->to_ms % h) + h) % h;
    size_t per = (size_t)(hz / h), l = SR_FORECAST_LEVEL_SLICES;
    int j_max = (int)((SR_FORECAST_BACKTEST_WEEKS * WEEK_MS) / hz);
    sr_ms first = origin - (sr_ms)j_max * hz - (sr_ms)l * h;
    size_t n = (size_t)((origin + hz - first) / h);
    sr_baseline_slice *s = calloc(n, sizeof *s);
    if (!s)
        return SR_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        sr_query sq = *q;
        sq.from_ms = first + (sr_ms)i * h;
        sq.to_ms = sq.from_ms + h;
        sq.closed = sq.to_ms <= origin;
        rc = sr_baseline_run(st, cat, &sq, &o->base, 1, &s[i]);
        if (!rc && sq.from_ms >= origin) /* what has not happened yet */
            s[i].figure.value = NAN;
    }
    if (rc) {
        free(s);
        return rc;
    }
    /* origin j (1..j_max) starts at slice (j_max - j) * per + l */
    size_t at_now = (size_t)j_max * per + l;
    sr_forecast_combine(o->base.tz, &s[at_now], per, &s[at_now - l], l, o->additive, &out->now);
    out->now.from_ms = origin;
    out->now.to_ms = origin + hz;
    out->origins = j_max;
    out->needed = (int)((WEEK_MS + hz - 1) / hz);
    for (int j = 1; j <= j_max; j++) {
        size_t at = (size_t)(j_max - j) * per + l;
        sr_forecast_point p;
        sr_forecast_combine(o->base.tz, &s[at], per, &s[at - l], l, o->additive, &p);
        double a = horizon_actual(&s[at], per, o->additive);
        if (!p.ok || isnan(a))
            continue;
        out->used++;
        out->actual += a;
        out->abs_error += fabs(a - p.value);
    }
    free(s);
    judge(o, out);
    return 0;
}
