/*
 * alerting.c - steps every panel's alert after the collector has written a
 * batch.
 *
 * The value is the panel's own (sr_panel_compute with nothing but the
 * value), so an alert speaks of exactly what the tile shows. All the
 * panels are read, stepped and written inside one store batch: the batch
 * holds the write lock, so an acknowledgement made by a viewer between the
 * read and the write cannot be lost. Events are collected during the batch
 * and reported only once it has committed.
 */
#include "alerting.h"

#include <math.h>
#include <stdlib.h>

#include "../metrics/panel.h"

typedef struct {
    sr_alert a;
    sr_alert_event ev;
} happened;

/* Steps the alert of panel p; *ev is what happened. */
static int step_panel(const sr_config *cfg, sr_store *st, const sr_cfg_panel *p,
                      const sr_alert_params *par, sr_ms now, sr_alert *a, sr_alert_event *ev)
{
    *ev = SR_ALERT_EV_NONE;
    sr_panel_spec spec = {
        .metric = p->metric, .entity = p->entity, .agg = p->agg, .window_ms = p->window_ms};
    sr_panel_model m;
    int rc = sr_panel_compute(st, &cfg->metrics, &spec, now, 0, 0, 0, 0, &m);
    if (rc || !m.def) {
        sr_panel_model_fini(&m);
        return 0;
    }
    double v = m.c.now.value;
    sr_metric_def d = *m.def;
    if (!isnan(v) && m.status == SR_STATUS_NONE)
        d.warn = d.crit = NAN;
    sr_panel_model_fini(&m);

    char key[SR_ALERT_KEY_MAX];
    if (sr_alert_key(p->name, p->entity, key, sizeof key))
        return 0;
    rc = sr_store_alert_get(st, key, a);
    if (rc == SR_ENOENT) {
        if (isnan(v) || (isnan(d.warn) && isnan(d.crit)))
            return 0; /* nothing to say: no row */
        rc = sr_alert_init(a, p->name, p->metric, p->entity);
        if (rc)
            return 0;
    } else if (rc) {
        return rc;
    }
    *ev = sr_alert_step(a, &d, par, v, now);
    return sr_store_alert_put(st, a);
}

int sr_alerting_step(const sr_config *cfg, sr_store *st, sr_ms now, sr_alert_cb cb, void *ctx)
{
    if (cfg->n_panels == 0)
        return 0;
    sr_alert_params par = {.for_ms = cfg->alert_for_ms, .hysteresis = cfg->alert_hysteresis};
    happened *h = calloc(cfg->n_panels, sizeof *h);
    if (!h)
        return SR_ENOMEM;
    int rc = sr_store_begin(st);
    for (size_t i = 0; !rc && i < cfg->n_panels; i++) {
        if ((rc = step_panel(cfg, st, &cfg->panels[i], &par, now, &h[i].a, &h[i].ev)))
            sr_store_rollback(st);
    }
    if (!rc)
        rc = sr_store_commit(st); /* rolls back when it fails */
    for (size_t i = 0; !rc && cb && i < cfg->n_panels; i++)
        if (h[i].ev != SR_ALERT_EV_NONE)
            cb(ctx, &h[i].a, h[i].ev);
    free(h);
    return rc;
}
