/*
 * alerting.h - the collector's alert hook: every panel's current value
 * stepped through the alert engine (metrics/alerts.h) and written to the
 * cache, where viewers read, acknowledge and silence the alerts.
 *
 * Two halves, both shared by `sitrep collect` and the dashboard:
 * - the alerter: a timer on the collector's loop that steps every alert
 *   (sr_alerting_step) and runs [alert] command on raises and clears;
 * - the user's actions (acknowledge, silence): the role check, the write
 *   and its audit row in one transaction, for the dashboard (collector or
 *   viewer) and the `sitrep ack` / `sitrep silence` commands.
 */
#ifndef SR_ALERTING_H
#define SR_ALERTING_H

#include <stdbool.h>
#include <uv.h>

#include "../metrics/alerts.h"
#include "../metrics/store.h"
#include "config.h"
#include "roles.h"

/* Called for each raise, escalation, easing and clear (a borrowed alert). */
typedef void (*sr_alert_cb)(void *ctx, const sr_alert *a, sr_alert_event ev);

/*
 * Computes every panel of cfg at now and steps its alert (key: panel name
 * and entity) in one batch of st, so that a viewer's acknowledgement is
 * never overwritten. A panel whose aggregate is not its metric's own has no
 * thresholds (sr_kpi_status_for) and clears. cb (may be NULL) hears of
 * every event after the batch is committed. Returns 0 or the first error;
 * panels that cannot be computed are skipped.
 */
int sr_alerting_step(const sr_config *cfg, sr_store *st, sr_ms now, sr_alert_cb cb, void *ctx);

/* The same; *due (may be NULL) gets the earliest time at which an alert
 * changes with no new data (a pending alert's minimum duration ends, a
 * silence ends), INT64_MAX when none does. */
int sr_alerting_step_due(const sr_config *cfg, sr_store *st, sr_ms now, sr_alert_cb cb, void *ctx,
                         sr_ms *due);

/*
 * The alert's value and threshold as its panel's tile shows them, with the
 * metric's unit ("52m50s", "91%"; "-" for none), into val and thr (len
 * bytes each); an unusual alert's threshold is its band, "normal 150–205",
 * with range between the ends (sr_alert_format: "–", or "-" for CSV, whose
 * fields are cleaned by the locale's rules). A panel or metric the config
 * no longer has: plain numbers.
 */
void sr_alerting_format(const sr_config *cfg, const sr_alert *a, const char *range, char *val,
                        char *thr, size_t len);

/* ---- the alerter: stepping on its own timer ---- */

typedef struct sr_alerter sr_alerter;

/* What the alerter tells its host (every field may be 0/NULL). */
typedef struct {
    /* one line per alert event or failure (error: a failure); the text is
     * borrowed for the call. NULL: nothing is logged (the dashboard). */
    void (*log)(void *ctx, bool error, const char *line);
    /* after every step, whatever happened (the dashboard re-reads its alerts) */
    void (*stepped)(void *ctx);
    void *ctx;
    /* where [alert] command's stdout and stderr go; < 0: discarded */
    int out_fd, err_fd;
} sr_alerter_hooks;

/*
 * An alerter on loop that steps every alert of cfg in st (sr_alerting_step)
 * at once and then, checking every [sitrep] refresh, when the host said
 * new data was written (sr_alerter_data_changed), when a minimum duration
 * ([alert] for) or a silence ends, and at least every
 * SR_ALERTER_IDLE_MS (windows slide without new data). A step computes
 * every panel, so the alerter does not step on every tick of an idle
 * dashboard. On a raise or a clear it runs [alert] command (argv, no
 * shell) with the alert in SITREP_ALERT_* variables; a command that fails
 * is logged, never fatal. cfg and st are borrowed until
 * sr_alerter_destroy(); h is copied. Caller owns *out; free with
 * sr_alerter_destroy().
 */
int sr_alerter_create(uv_loop_t *loop, const sr_config *cfg, sr_store *st,
                      const sr_alerter_hooks *h, sr_alerter **out);

/* Steps with cfg from now on (a reloaded config; borrowed like the first)
 * and restarts the timer at its refresh. */
void sr_alerter_set_config(sr_alerter *a, const sr_config *cfg);

/* At the latest, an idle alerter steps this often. */
#define SR_ALERTER_IDLE_MS (15 * SR_MS_SEC)

/* New data was written to the store: the next tick steps. */
void sr_alerter_data_changed(sr_alerter *a);

/* Steps now (the timer's work), for tests and at start. */
void sr_alerter_step_now(sr_alerter *a);

/* Stops the timer; the alerter is freed once its handle and any command
 * still running have closed, on the loop. NULL is a no-op. */
void sr_alerter_destroy(sr_alerter *a);

/* ---- a user's actions ---- */

typedef enum { SR_ALERT_ACT_ACK, SR_ALERT_ACT_SILENCE } sr_alert_act_kind;

typedef struct {
    sr_alert_act_kind kind;
    const char *key;  /* the alert's key (borrowed for the call) */
    const char *note; /* the note of an ack, the reason of a silence; may be NULL;
                         sanitised and cut to SR_ALERT_NOTE_MAX */
    sr_ms for_ms;     /* silence: for how long from now */
} sr_alert_act;

/*
 * Acknowledges or silences an alert as identity id: only a role with
 * `acknowledge = yes` may. The alert's change and an audit row (action
 * "acknowledge" or "silence", detail naming the alert, and the note or the
 * silence's end) are written in one transaction of st. The message gives a
 * silence's end in [sitrep] timezone as the alerts view does
 * (sr_format_clock). Returns 0, SR_EINVAL
 * (the role may not, the alert is not raised, a bad duration), SR_ENOENT
 * (no such alert) or a store error; msg always gets one line for the user
 * ("acknowledged p1@north" or why not).
 */
int sr_alerting_act(const sr_config *cfg, sr_store *st, const sr_identity *id,
                    const sr_alert_act *act, sr_ms now, char *msg, size_t msglen);

#endif
