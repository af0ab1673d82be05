/*
 * alerts.c - the alert state machine.
 *
 *   ok/cleared --past--> pending --past for for_ms--> active --ack--> acked
 *        ^                  |                          |  ^  \--silence--> silenced
 *        +----back----------+                          |  +--worse (acked) / expiry (silenced)
 *   cleared <--------back past the margin--------------+ (from any raised state)
 *
 * The level of a value is computed with hysteresis against the severity the
 * alert holds while raised: crossing a threshold needs the value at or past
 * it, leaving it needs the value back past it by the margin, so a value
 * wobbling around a threshold neither raises nor clears twice. A pending
 * alert has no hold: it must stay past the threshold (raw) for the whole
 * minimum duration, or it falls back to ok. Escalation from warn to crit is
 * immediate once raised.
 *
 * An unusual alert walks the same states with the verdict of the panel's
 * run of slices in place of the level (always WARN), and the band in place
 * of the threshold: raised when the run is above or below its band for the
 * minimum duration, cleared when the latest figure is back inside the band
 * by the hysteresis's share of the band's width. Everything here is pure:
 * time comes in as `now`.
 */
#include "alerts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

static const char *const state_names[SR_ALERT_STATE_COUNT] = {
    [SR_ALERT_OK] = "ok",       [SR_ALERT_PENDING] = "pending",   [SR_ALERT_ACTIVE] = "active",
    [SR_ALERT_ACKED] = "acked", [SR_ALERT_SILENCED] = "silenced", [SR_ALERT_CLEARED] = "cleared",
};

static const char *const event_names[] = {
    [SR_ALERT_EV_NONE] = "",
    [SR_ALERT_EV_RAISED] = "raised",
    [SR_ALERT_EV_ESCALATED] = "escalated",
    [SR_ALERT_EV_EASED] = "eased",
    [SR_ALERT_EV_CLEARED] = "cleared",
    [SR_ALERT_EV_REVERSED] = "reversed",
};

static const char *const kind_names[SR_ALERT_KIND_COUNT] = {
    [SR_ALERT_THRESHOLD] = "threshold",
    [SR_ALERT_UNUSUAL] = "unusual",
};

const char *sr_alert_kind_name(sr_alert_kind k)
{
    return (unsigned)k < SR_ALERT_KIND_COUNT ? kind_names[k] : "?";
}

int sr_alert_kind_parse(const char *name, sr_alert_kind *out)
{
    for (int i = 0; i < SR_ALERT_KIND_COUNT; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (sr_alert_kind)i;
            return 0;
        }
    }
    return SR_EINVAL;
}

const char *sr_alert_state_name(sr_alert_state s)
{
    return (unsigned)s < SR_ALERT_STATE_COUNT ? state_names[s] : "?";
}

int sr_alert_state_parse(const char *name, sr_alert_state *out)
{
    for (int i = 0; i < SR_ALERT_STATE_COUNT; i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *out = (sr_alert_state)i;
            return 0;
        }
    }
    return SR_EINVAL;
}

const char *sr_alert_event_name(sr_alert_event e)
{
    return (unsigned)e < sizeof event_names / sizeof event_names[0] ? event_names[e] : "?";
}

int sr_alert_key(const char *metric, sr_ms window_ms, const char *entity, char *buf, size_t len)
{
    char w[32];
    sr_format_duration(window_ms, w, sizeof w);
    int n = (entity && entity[0]) ? snprintf(buf, len, "%s:%s@%s", metric, w, entity)
                                  : snprintf(buf, len, "%s:%s", metric, w);
    return (n < 0 || (size_t)n >= len) ? SR_ERANGE : 0;
}

int sr_alert_key_for(const sr_metric_def *d, sr_agg agg, sr_ms window_ms, const char *entity,
                     char *buf, size_t len)
{
    if (!sr_kpi_agg_is_own(d, agg))
        return SR_ENOENT;
    return sr_alert_key(d->name, window_ms, entity, buf, len);
}

int sr_alert_key_unusual(const sr_metric_def *d, sr_agg agg, sr_ms window_ms, const char *entity,
                         char *buf, size_t len)
{
    char w[32], ag[24] = "";
    sr_format_duration(window_ms, w, sizeof w);
    if (!sr_kpi_agg_is_own(d, agg)) {
        ag[0] = ':';
        sr_agg_format(agg, ag + 1, sizeof ag - 1);
    }
    int n = (entity && entity[0]) ? snprintf(buf, len, "%s:%s%s:unusual@%s", d->name, w, ag, entity)
                                  : snprintf(buf, len, "%s:%s%s:unusual", d->name, w, ag);
    return (n < 0 || (size_t)n >= len) ? SR_ERANGE : 0;
}

static int copy(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len)
        return SR_ERANGE;
    memcpy(dst, src, n + 1);
    return 0;
}

int sr_alert_init(sr_alert *a, const char *panel, const char *metric, sr_ms window_ms,
                  const char *entity)
{
    memset(a, 0, sizeof *a);
    if (!panel || !panel[0] || !metric || !metric[0])
        return SR_EINVAL;
    if (!entity)
        entity = "";
    if (copy(a->panel, sizeof a->panel, panel) || copy(a->metric, sizeof a->metric, metric) ||
        copy(a->entity, sizeof a->entity, entity) ||
        sr_alert_key(metric, window_ms, entity, a->key, sizeof a->key))
        return SR_ERANGE;
    a->state = SR_ALERT_OK;
    a->severity = SR_STATUS_NONE;
    a->kind = SR_ALERT_THRESHOLD;
    a->value = NAN;
    a->threshold = NAN;
    a->band_low = a->band_high = NAN;
    a->side = SR_UNUSUAL_NONE;
    return 0;
}

int sr_alert_init_unusual(sr_alert *a, const char *panel, const sr_metric_def *d, sr_agg agg,
                          sr_ms window_ms, const char *entity)
{
    int rc = sr_alert_init(a, panel, d->name, window_ms, entity);
    if (rc)
        return rc;
    a->kind = SR_ALERT_UNUSUAL;
    return sr_alert_key_unusual(d, agg, window_ms, entity, a->key, sizeof a->key);
}

bool sr_alert_is_raised(const sr_alert *a)
{
    return a->state == SR_ALERT_ACTIVE || a->state == SR_ALERT_ACKED ||
           a->state == SR_ALERT_SILENCED;
}

/* Whether v is at or past threshold t, moved towards better by margin m. */
static bool past(const sr_metric_def *d, double v, double t, double m)
{
    return d->better == SR_BETTER_HIGHER ? v <= t + m : v >= t - m;
}

/*
 * The level of v: CRIT, WARN or OK. `held` is the severity the alert holds
 * (NONE when not raised): a held level is kept until v is back past its
 * threshold by the margin.
 */
static sr_status level_of(const sr_metric_def *d, const sr_alert_params *p, double v,
                          sr_status held)
{
    double h = p->hysteresis > 0 ? p->hysteresis : 0;
    if (!isnan(d->crit) && past(d, v, d->crit, held == SR_STATUS_CRIT ? fabs(d->crit) * h : 0))
        return SR_STATUS_CRIT;
    if (!isnan(d->warn) && past(d, v, d->warn, held >= SR_STATUS_WARN ? fabs(d->warn) * h : 0))
        return SR_STATUS_WARN;
    return SR_STATUS_OK;
}

static double threshold_of(const sr_metric_def *d, sr_status s)
{
    return s == SR_STATUS_CRIT ? d->crit : s == SR_STATUS_WARN ? d->warn : NAN;
}

static sr_alert_event raise(sr_alert *a, sr_status level, double threshold, sr_ms now)
{
    a->state = SR_ALERT_ACTIVE;
    a->severity = level;
    a->threshold = threshold;
    a->raised_at_ms = now;
    a->acked_by[0] = '\0';
    a->acked_at_ms = 0;
    a->note[0] = '\0';
    a->silenced_until_ms = 0;
    a->cleared_at_ms = 0;
    return SR_ALERT_EV_RAISED;
}

/* A silenced alert whose silence has ended is active again. */
static void silence_ends(sr_alert *a, sr_ms now)
{
    if (a->state == SR_ALERT_SILENCED && now >= a->silenced_until_ms) {
        a->state = SR_ALERT_ACTIVE;
        a->silenced_until_ms = 0;
    }
}

static sr_alert_event clear(sr_alert *a, sr_ms now)
{
    a->state = SR_ALERT_CLEARED;
    a->cleared_at_ms = now;
    a->silenced_until_ms = 0;
    return SR_ALERT_EV_CLEARED;
}

sr_alert_event sr_alert_step(sr_alert *a, const sr_metric_def *d, const sr_alert_params *p,
                             double v, sr_ms now)
{
    if (isnan(v))
        return SR_ALERT_EV_NONE;
    a->value = v;
    silence_ends(a, now);
    bool raised = sr_alert_is_raised(a);
    sr_status level = level_of(d, p, v, raised ? a->severity : SR_STATUS_NONE);

    if (!raised) {
        if (level == SR_STATUS_OK) {
            if (a->state == SR_ALERT_PENDING) {
                a->state = SR_ALERT_OK;
                a->severity = SR_STATUS_NONE;
                a->threshold = NAN;
            }
            return SR_ALERT_EV_NONE;
        }
        if (a->state != SR_ALERT_PENDING) {
            a->state = SR_ALERT_PENDING;
            a->raised_at_ms = now;
        }
        a->severity = level;
        a->threshold = threshold_of(d, level);
        if (now - a->raised_at_ms >= p->for_ms)
            return raise(a, level, threshold_of(d, level), now);
        return SR_ALERT_EV_NONE;
    }

    if (level == SR_STATUS_OK)
        return clear(a, now);
    if (level == a->severity)
        return SR_ALERT_EV_NONE;
    sr_alert_event ev = level > a->severity ? SR_ALERT_EV_ESCALATED : SR_ALERT_EV_EASED;
    a->severity = level;
    a->threshold = threshold_of(d, level);
    if (ev == SR_ALERT_EV_ESCALATED && a->state == SR_ALERT_ACKED)
        a->state = SR_ALERT_ACTIVE;
    return ev;
}

sr_alert_event sr_alert_step_unusual(sr_alert *a, const sr_alert_params *p, sr_unusual u, double v,
                                     double low, double high, sr_ms now)
{
    if (u == SR_UNUSUAL_UNKNOWN || isnan(v) || isnan(low) || isnan(high))
        return SR_ALERT_EV_NONE;
    a->value = v;
    a->band_low = low;
    a->band_high = high;
    silence_ends(a, now);
    bool out = u == SR_UNUSUAL_HIGH || u == SR_UNUSUAL_LOW;
    double edge = u == SR_UNUSUAL_HIGH ? high : low;

    if (!sr_alert_is_raised(a)) {
        if (!out) {
            if (a->state == SR_ALERT_PENDING) {
                a->state = SR_ALERT_OK;
                a->severity = SR_STATUS_NONE;
                a->threshold = NAN;
                a->side = SR_UNUSUAL_NONE;
            }
            return SR_ALERT_EV_NONE;
        }
        if (a->state != SR_ALERT_PENDING) {
            a->state = SR_ALERT_PENDING;
            a->raised_at_ms = now;
        }
        a->severity = SR_STATUS_WARN;
        a->side = u;
        a->threshold = edge;
        if (now - a->raised_at_ms >= p->for_ms)
            return raise(a, SR_STATUS_WARN, edge, now);
        return SR_ALERT_EV_NONE;
    }

    double m = (high - low) * (p->hysteresis > 0 ? p->hysteresis : 0);
    if (v >= low + m && v <= high - m)
        return clear(a, now);
    if (!out || u == a->side)
        return SR_ALERT_EV_NONE;
    a->side = u;
    a->threshold = edge;
    if (a->state == SR_ALERT_ACKED)
        a->state = SR_ALERT_ACTIVE;
    return SR_ALERT_EV_REVERSED;
}

const char *sr_alert_thr_words(const sr_alert *a)
{
    return a->kind == SR_ALERT_UNUSUAL ? "" : "threshold ";
}

void sr_alert_format(const sr_alert *a, const sr_metric_def *def, sr_agg agg, const char *range,
                     char *val, char *thr, size_t len)
{
    if (!def) {
        snprintf(val, len, "%g", a->value);
        if (a->kind == SR_ALERT_UNUSUAL)
            snprintf(thr, len, "normal %g%s%g", a->band_low, range, a->band_high);
        else
            snprintf(thr, len, "%g", a->threshold);
        return;
    }
    sr_format_value(a->value, def, agg, false, val, len);
    if (a->kind != SR_ALERT_UNUSUAL) {
        sr_format_value(a->threshold, def, agg, false, thr, len);
    } else if (isnan(a->band_low) || isnan(a->band_high)) {
        snprintf(thr, len, "normal -");
    } else {
        char lo[64], hi[64], band[140];
        sr_format_value(a->band_low, def, agg, false, lo, sizeof lo);
        sr_format_value(a->band_high, def, agg, false, hi, sizeof hi);
        sr_format_range(lo, hi, range, band, sizeof band);
        snprintf(thr, len, "normal %s", band);
    }
}

static void copy_trunc(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

int sr_alert_ack(sr_alert *a, const char *who, const char *note, sr_ms now)
{
    if (!sr_alert_is_raised(a) || !who || !who[0])
        return SR_EINVAL;
    a->state = SR_ALERT_ACKED;
    copy_trunc(a->acked_by, sizeof a->acked_by, who);
    copy_trunc(a->note, sizeof a->note, note);
    a->acked_at_ms = now;
    a->silenced_until_ms = 0;
    return 0;
}

int sr_alert_silence(sr_alert *a, const char *note, sr_ms until, sr_ms now)
{
    if (!sr_alert_is_raised(a) || until <= now)
        return SR_EINVAL;
    a->state = SR_ALERT_SILENCED;
    if (note)
        copy_trunc(a->note, sizeof a->note, note);
    a->silenced_until_ms = until;
    return 0;
}
