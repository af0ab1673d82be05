/*
 * alerting.h - the collector's alert hook: every panel's current value
 * stepped through the alert engine (metrics/alerts.h) and written to the
 * cache, where viewers read, acknowledge and silence the alerts.
 */
#ifndef SR_ALERTING_H
#define SR_ALERTING_H

#include "../metrics/alerts.h"
#include "../metrics/store.h"
#include "config.h"

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

#endif
