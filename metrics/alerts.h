/*
 * alerts.h - the alert model: one alert per condition, a metric's own
 * aggregate over a window on an entity against the metric's warn and crit
 * thresholds, stepped from that value. Panels that show the same metric,
 * entity, aggregate and window share one alert (its key); a panel showing
 * another aggregate has no thresholds and so no alert.
 *
 * A panel with `when = unusual` (or both) has an unusual alert besides: its
 * figure against its own normal (baseline.h), raised when the run of the
 * metric's unusual_slices slices is above or below the band, with a key of
 * its own (sr_alert_key_unusual) so that it is acknowledged apart.
 *
 * sr_alert_step() and sr_alert_step_unusual() are pure functions of (alert,
 * value, now): no clock, no I/O, so that crafted series can drive them in
 * tests. The collector steps the
 * alerts and writes them to the cache (store.h); viewers only acknowledge and
 * silence them there.
 */
#ifndef SR_ALERTS_H
#define SR_ALERTS_H

#include "common.h"
#include "kpi.h"

#define SR_ALERT_KEY_MAX 256
#define SR_ALERT_ENTITY_MAX 160
#define SR_ALERT_WHO_MAX 64
#define SR_ALERT_NOTE_MAX 256

typedef enum {
    SR_ALERT_OK = 0,   /* never crossed, or back to normal before raising */
    SR_ALERT_PENDING,  /* crossed; waiting for the minimum duration */
    SR_ALERT_ACTIVE,   /* raised, nobody has acknowledged it */
    SR_ALERT_ACKED,    /* raised and acknowledged */
    SR_ALERT_SILENCED, /* raised and muted until silenced_until_ms */
    SR_ALERT_CLEARED,  /* was raised; the value came back past the threshold */
    SR_ALERT_STATE_COUNT
} sr_alert_state;

typedef enum {
    SR_ALERT_EV_NONE = 0,
    SR_ALERT_EV_RAISED,    /* pending -> active after the minimum duration */
    SR_ALERT_EV_ESCALATED, /* warn -> crit while raised */
    SR_ALERT_EV_EASED,     /* crit -> warn while raised (past the hysteresis margin) */
    SR_ALERT_EV_CLEARED,   /* raised -> cleared (past the hysteresis margin) */
    SR_ALERT_EV_REVERSED,  /* unusual: from above the band to below it, or back, while raised */
} sr_alert_event;

/* What an alert judges its figure by. */
typedef enum {
    SR_ALERT_THRESHOLD = 0, /* the metric's warn and crit thresholds */
    SR_ALERT_UNUSUAL,       /* the figure's own normal: its baseline's band */
    SR_ALERT_KIND_COUNT
} sr_alert_kind;

/* How alerts are raised and cleared ([alert] for, hysteresis). */
typedef struct {
    sr_ms for_ms;      /* minimum time over the threshold before raising; 0 = at once */
    double hysteresis; /* to clear, the value must come back past the threshold by
                          this fraction of it (0.05 = 5%); an unusual alert, inside its
                          band by this fraction of the band's width */
} sr_alert_params;

#define SR_ALERT_FOR_DEFAULT_MS SR_MS_MIN
#define SR_ALERT_HYSTERESIS_DEFAULT 0.05

typedef struct {
    char key[SR_ALERT_KEY_MAX]; /* sr_alert_key(metric, window, entity), or
                                   sr_alert_key_unusual() for an unusual alert */
    sr_alert_kind kind;
    char panel[SR_NAME_MAX]; /* the first panel in the config that shows it */
    char metric[SR_NAME_MAX];
    char entity[SR_ALERT_ENTITY_MAX]; /* "" = the whole (the root) */
    sr_alert_state state;
    sr_status severity; /* WARN or CRIT once crossed; the last one when cleared */
    sr_ms raised_at_ms; /* pending: when it crossed; raised: when it was raised */
    double value;       /* the latest value stepped (NaN: none yet) */
    double threshold;   /* the threshold of the severity; unusual: the band's edge crossed */
    double band_low, band_high; /* unusual: the band the latest value was judged by (NaN:
                                   none yet, or a threshold alert) */
    sr_unusual side;            /* unusual: SR_UNUSUAL_HIGH or LOW once crossed (the last
                                   one when cleared); else SR_UNUSUAL_NONE */
    char acked_by[SR_ALERT_WHO_MAX];
    sr_ms acked_at_ms; /* 0 = not acknowledged */
    char note[SR_ALERT_NOTE_MAX];
    sr_ms silenced_until_ms; /* 0 = not silenced */
    sr_ms cleared_at_ms;     /* 0 = not cleared */
} sr_alert;

/* Writes the key of the alert of a metric's own aggregate over a window on
 * an entity ("" = root): "metric:8h" or "metric:8h@entity". Returns 0 or
 * SR_ERANGE when it does not fit. */
int sr_alert_key(const char *metric, sr_ms window_ms, const char *entity, char *buf, size_t len);

/* The key of the alert a panel showing aggregate agg of metric d over
 * window_ms on entity shares: SR_ENOENT when agg is not the metric's own
 * (the thresholds do not speak of it: no alert), SR_ERANGE as above. */
int sr_alert_key_for(const sr_metric_def *d, sr_agg agg, sr_ms window_ms, const char *entity,
                     char *buf, size_t len);

/* The key of the unusual alert of a panel showing aggregate agg of metric
 * d over window_ms on entity: "metric:8h:unusual" or "metric:8h:unusual@entity"
 * for the metric's own aggregate, "metric:8h:p90:unusual@entity" for
 * another (the band is of the aggregate shown). SR_ERANGE as above. */
int sr_alert_key_unusual(const sr_metric_def *d, sr_agg agg, sr_ms window_ms, const char *entity,
                         char *buf, size_t len);

/* A fresh alert in state OK, shown first by panel, for a metric over a
 * window on an entity. Returns 0, SR_EINVAL (empty panel or metric) or
 * SR_ERANGE (names too long). */
int sr_alert_init(sr_alert *a, const char *panel, const char *metric, sr_ms window_ms,
                  const char *entity);

/* The same for an unusual alert (kind SR_ALERT_UNUSUAL, key as
 * sr_alert_key_unusual()). */
int sr_alert_init_unusual(sr_alert *a, const char *panel, const sr_metric_def *d, sr_agg agg,
                          sr_ms window_ms, const char *entity);

/* Whether the alert is raised (active, acknowledged or silenced). */
bool sr_alert_is_raised(const sr_alert *a);

/*
 * Steps the alert with the panel's current value v at time now against the
 * metric's thresholds in its better direction, and returns what happened.
 * A value past a threshold makes the alert pending, and raises it once it
 * has stayed past for p->for_ms. A raised alert is cleared (or eased from
 * crit to warn) only when v is back past the threshold by the hysteresis
 * margin (|threshold| * p->hysteresis). An acknowledged alert that gets
 * worse becomes active again; a silence ends at silenced_until_ms. A NaN
 * value (no data) changes nothing. A metric without thresholds clears.
 */
sr_alert_event sr_alert_step(sr_alert *a, const sr_metric_def *d, const sr_alert_params *p,
                             double v, sr_ms now);

/*
 * Steps an unusual alert with the verdict u of the panel's run of slices
 * (sr_baseline_unusual: the run of unusual_slices slices is the "M slices
 * running"), the latest figure v and the latest slice's band [low, high],
 * at time now. A verdict HIGH or LOW makes the alert pending (severity
 * WARN, threshold the band's edge crossed), and raises it once it has
 * stayed so for p->for_ms; a verdict NONE while pending falls back to ok.
 * A raised alert is cleared only when v is back inside the band by the
 * hysteresis margin (the band's width * p->hysteresis) on both sides, so
 * that a figure hovering at the edge neither clears nor raises twice; one
 * that turns from above the band to below it (or back) reports REVERSED
 * and an acknowledged alert becomes active again. A verdict UNKNOWN (a
 * slice without a band or a figure), a NaN v or a NaN band changes nothing.
 */
sr_alert_event sr_alert_step_unusual(sr_alert *a, const sr_alert_params *p, sr_unusual u, double v,
                                     double low, double high, sr_ms now);

/*
 * The alert's value and what it is judged by, as people read them
 * (sr_format_value with the metric's unit and the panel's aggregate): a
 * threshold alert's threshold ("60m"), an unusual alert's band ("normal
 * 150–205", range between the ends; "normal -" without one). def NULL
 * (a metric the config no longer has): plain numbers. val and thr get len
 * bytes each. The one rule for every view of an alert.
 */
void sr_alert_format(const sr_alert *a, const sr_metric_def *def, sr_agg agg, const char *range,
                     char *val, char *thr, size_t len);

/* The words before sr_alert_format()'s thr in a sentence: "threshold " for a
 * threshold alert, "" for an unusual one (its thr says "normal ..."). */
const char *sr_alert_thr_words(const sr_alert *a);

/* "threshold", "unusual". */
const char *sr_alert_kind_name(sr_alert_kind k);
/* The kind of a name; SR_EINVAL when unknown. */
int sr_alert_kind_parse(const char *name, sr_alert_kind *out);

/* Acknowledges a raised alert. who and note are copied (truncated to fit);
 * note may be NULL. SR_EINVAL when the alert is not raised. */
int sr_alert_ack(sr_alert *a, const char *who, const char *note, sr_ms now);

/* Silences a raised alert until `until`, with why (note: copied, truncated
 * to fit; NULL keeps the note it has). SR_EINVAL when it is not raised or
 * until is not after now. */
int sr_alert_silence(sr_alert *a, const char *note, sr_ms until, sr_ms now);

/* "ok", "pending", "active", "acked", "silenced", "cleared". */
const char *sr_alert_state_name(sr_alert_state s);
/* The state of a name; SR_EINVAL when unknown. */
int sr_alert_state_parse(const char *name, sr_alert_state *out);
/* "", "raised", "escalated", "eased", "cleared", "reversed". */
const char *sr_alert_event_name(sr_alert_event e);

#endif
