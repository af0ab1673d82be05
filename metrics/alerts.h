/*
 * alerts.h - the alert model: one alert per condition, a metric's own
 * aggregate over a window on an entity against the metric's warn and crit
 * thresholds, stepped from that value. Panels that show the same metric,
 * entity, aggregate and window share one alert (its key); a panel showing
 * another aggregate has no thresholds and so no alert.
 *
 * sr_alert_step() is a pure function of (alert, value, now): no clock, no
 * I/O, so that crafted series can drive it in tests. The collector steps the
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
} sr_alert_event;

/* How alerts are raised and cleared ([alert] for, hysteresis). */
typedef struct {
    sr_ms for_ms;      /* minimum time over the threshold before raising; 0 = at once */
    double hysteresis; /* to clear, the value must come back past the threshold by
                          this fraction of it (0.05 = 5%) */
} sr_alert_params;

#define SR_ALERT_FOR_DEFAULT_MS SR_MS_MIN
#define SR_ALERT_HYSTERESIS_DEFAULT 0.05

typedef struct {
    char key[SR_ALERT_KEY_MAX]; /* sr_alert_key(metric, window, entity) */
    char panel[SR_NAME_MAX];    /* the first panel in the config that shows it */
    char metric[SR_NAME_MAX];
    char entity[SR_ALERT_ENTITY_MAX]; /* "" = the whole (the root) */
    sr_alert_state state;
    sr_status severity; /* WARN or CRIT once crossed; the last one when cleared */
    sr_ms raised_at_ms; /* pending: when it crossed; raised: when it was raised */
    double value;       /* the latest value stepped (NaN: none yet) */
    double threshold;   /* the threshold of the severity */
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

/* A fresh alert in state OK, shown first by panel, for a metric over a
 * window on an entity. Returns 0, SR_EINVAL (empty panel or metric) or
 * SR_ERANGE (names too long). */
int sr_alert_init(sr_alert *a, const char *panel, const char *metric, sr_ms window_ms,
                  const char *entity);

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
/* "", "raised", "escalated", "eased", "cleared". */
const char *sr_alert_event_name(sr_alert_event e);

#endif
