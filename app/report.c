/*
 * report.c - the shift report, built once from the cache and written in one
 * of three formats.
 *
 * sr_report_build() does every query: per panel the model the screen draws
 * (sr_privacy_panel_compute, the one path of every output: metrics/privacy.h)
 * over the window (the shift's, or the panel's own when that is longer: a
 * 4-week figure is not replaced by the shift's 8 hours under its 4-week
 * title): the aggregate, the window of the same length before it and the
 * same window a week earlier, the status word by the metric's thresholds,
 * and the change in percent against the window before (none when the data
 * begins inside that window); then the configured sources that are not
 * live, by the one rule of sources.h. The writers only format what was
 * computed, so the command and the dashboard's key e write the same report
 * from the same numbers as the screen.
 *
 * JSON and CSV keep the fields `sitrep snapshot` has always had (new ones
 * are only ever added), their numbers exact (jsonout.h, csvout.h: the
 * shortest text that reads back as the same double), an aggregate that
 * overflowed said so ("overflow"). Markdown is for people: times in the force's zone,
 * values with their units as the screen shows them, text from data with
 * control characters dropped and table pipes escaped; each row says its
 * window, and a panel showing the same figure as one above it (a tile and
 * a histogram of one metric, entity and window) is not repeated.
 *
 * Baseline and forecast: a panel with baseline = yes carries its window's
 * band (the figure against the same slice of the last weeks) and verdict,
 * one with forecast = yes the forecast of the next shift (the [sitrep]
 * shift, or --shift, from the report's time, in whole hours, at most 48h)
 * with its backtest error, or why it is withheld; both computed by the
 * panel model on the same one path, so a role sees of them what it sees
 * of the figure. JSON and CSV carry them on the panel's row (CSV's columns
 * after the older ones); Markdown and JSON ("expected_next_shift") list
 * the forecasts as "Expected next shift".
 *
 * Alerts: the open ones (active, acknowledged with their notes, silenced),
 * crit first, as the collector left them in the cache, less those the
 * viewer's policy withholds (sr_privacy_alerts), which a line counts.
 *
 * Privacy: a report is for a viewer (sr_report_viewer): only the role's
 * panels on its pages, and each panel's figures through the role's policy,
 * applied by that same one path: a panel of a hidden entity shows
 * "hidden", a suppressed value its mask ("<5", "n<10") and no count,
 * status or change; a panel that shows personal-level values is audited.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../metrics/format.h"
#include "../metrics/sources.h"
#include "alerting.h"
#include "csvout.h"
#include "jsonout.h"
#include "trust.h"
#include "xalloc.h"

typedef struct {
    const sr_cfg_panel *panel;
    const sr_metric_def *def;
    sr_panel_model m; /* as the viewer's role sees it (sr_privacy_panel_compute): c, status,
                         change_pct, agg and agg_name, mask ("" or what to show instead) */
    char window[32];  /* the length of the window the figures cover */
    bool shown;       /* the viewer's role may see the panel */
} panel_value;

struct sr_report {
    const sr_config *cfg;
    sr_ms at_ms, shift_ms, now_ms;
    sr_ms next_ms;   /* the next shift's length: the forecasts' horizon */
    panel_value *pv; /* cfg->n_panels */
    sr_source_list src;
    sr_alert *alerts; /* the open alerts the viewer may see, crit first; owned */
    size_t n_alerts;
    char alerts_withheld[512]; /* "" or the line saying how many were withheld and why */
};

int sr_report_format_parse(const char *name, sr_report_format *out)
{
    static const struct {
        const char *name;
        sr_report_format f;
    } formats[] = {
        {"json", SR_REPORT_JSON},
        {"csv", SR_REPORT_CSV},
        {"markdown", SR_REPORT_MARKDOWN},
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (strcmp(name, formats[i].name) == 0) {
            *out = formats[i].f;
            return 0;
        }
    }
    return SR_EINVAL;
}

/* Whether who's role may see panel i: listed in its panels, on one of its
 * pages. */
static bool panel_shown(const sr_config *cfg, const sr_report_viewer *who, size_t i)
{
    const sr_cfg_role *r = who ? who->role : NULL;
    if (!r)
        return true;
    bool listed = r->all_panels;
    for (size_t k = 0; k < r->n_panels && !listed; k++)
        listed = r->panels[k] == i;
    if (!listed)
        return false;
    for (size_t pg = 0; pg < cfg->n_pages; pg++) {
        bool page = r->all_pages;
        for (size_t k = 0; k < r->n_pages && !page; k++)
            page = r->pages[k] == pg;
        for (size_t k = 0; page && k < cfg->pages[pg].n_panels; k++) {
            if (cfg->pages[pg].panels[k] == i)
                return true;
        }
    }
    return false;
}

/*
 * Computes panel v's figures over the window of window_ms ending at at_ms
 * as the screen does (the one path: sr_privacy_panel_compute, which applies
 * the viewer's policy), and audits a panel that shows personal-level
 * values. An unknown entity or metric is no error: the panel shows no data.
 */
static int panel_figures(const sr_config *cfg, sr_store *st, const sr_report_viewer *who,
                         sr_ms at_ms, sr_ms window_ms, sr_ms next_ms, panel_value *v)
{
    const sr_cfg_panel *pn = v->panel;
    sr_panel_spec spec = {.metric = pn->metric,
                          .entity = pn->entity,
                          .agg = pn->agg,
                          .window_ms = window_ms,
                          .baseline = strcmp(pn->baseline, "yes") == 0,
                          .baseline_opts = {.tz = cfg->timezone,
                                            .exclude = cfg->baseline_exclude,
                                            .n_exclude = cfg->n_baseline_exclude},
                          .forecast = strcmp(pn->forecast, "yes") == 0,
                          .forecast_horizon_ms = next_ms};
    sr_privacy_report pr;
    int rc = sr_privacy_panel_compute(st, &cfg->metrics, who ? who->privacy : NULL, &spec, at_ms, 0,
                                      0, 0, 0, &v->m, &pr);
    if (rc == SR_ENOENT)
        rc = 0;
    if (!rc && pr.personal_shown && who && who->audit) {
        char detail[512];
        snprintf(detail, sizeof detail, "report: panel %s, metric %s, entity %s", pn->name,
                 pn->metric, pn->entity[0] ? pn->entity : "(all)");
        who->audit(who->audit_ctx, "view-personal", detail);
    }
    return rc;
}

/* The next shift's length from a shift of shift_ms (none: [sitrep] shift):
 * the nearest whole hours, 1h to SR_FORECAST_HORIZON_MAX. */
static sr_ms next_shift(const sr_config *cfg, sr_ms shift_ms)
{
    sr_ms len = shift_ms > 0 ? shift_ms : cfg->shift_ms;
    sr_ms h = (len + SR_MS_HOUR / 2) / SR_MS_HOUR * SR_MS_HOUR;
    if (h < SR_MS_HOUR)
        h = SR_MS_HOUR;
    return h > SR_FORECAST_HORIZON_MAX ? SR_FORECAST_HORIZON_MAX : h;
}

int sr_report_build(const sr_config *cfg, sr_store *st, const sr_report_viewer *who, sr_ms at_ms,
                    sr_ms shift_ms, sr_ms now_ms, sr_report **out, char *err, size_t errlen)
{
    sr_report *r = xcalloc(1, sizeof *r);
    r->cfg = cfg;
    r->at_ms = at_ms;
    r->shift_ms = shift_ms;
    r->now_ms = now_ms;
    r->next_ms = next_shift(cfg, shift_ms);
    r->pv = xcalloc(cfg->n_panels + 1, sizeof *r->pv);
    for (size_t i = 0; i < cfg->n_panels; i++) {
        const sr_cfg_panel *pn = &cfg->panels[i];
        panel_value *v = &r->pv[i];
        sr_ms window = shift_ms > pn->window_ms ? shift_ms : pn->window_ms;
        v->panel = pn;
        v->def = sr_catalog_find(&cfg->metrics, pn->metric);
        v->shown = panel_shown(cfg, who, i);
        if (!v->shown)
            continue;
        int rc = panel_figures(cfg, st, who, at_ms, window, r->next_ms, v);
        if (rc) {
            snprintf(err, errlen, "panel %s: %s", pn->name, sr_strerror(rc));
            sr_report_destroy(r);
            return rc;
        }
        /* what the figures cover: under the grid whole slices, as the screen's frame says */
        sr_format_duration(v->m.to_ms - v->m.from_ms, v->window, sizeof v->window);
    }
    sr_source_conf *conf = xcalloc(cfg->n_adapters + 1, sizeof *conf);
    for (size_t i = 0; i < cfg->n_adapters; i++)
        conf[i] = (sr_source_conf){cfg->adapters[i].name, cfg->adapters[i].type};
    int rc = sr_sources_read(st, conf, cfg->n_adapters, now_ms, &r->src);
    if (!rc && who)
        sr_privacy_sources(who->privacy, r->src.v, r->src.n); /* errors may quote input data */
    free(conf);
    if (rc) {
        snprintf(err, errlen, "sources: %s", sr_strerror(rc));
        sr_report_destroy(r);
        return rc;
    }
    rc = sr_store_alert_list(st, SR_ALERTS_OPEN, &r->alerts, &r->n_alerts);
    if (!rc && who && who->privacy) {
        size_t withheld;
        sr_priv_hide why;
        rc = sr_privacy_alerts(st, &cfg->metrics, who->privacy, r->alerts, &r->n_alerts, &withheld,
                               &why);
        sr_privacy_withheld_text(who->privacy, why, withheld, "alert", "withheld",
                                 r->alerts_withheld, sizeof r->alerts_withheld);
    }
    if (rc) {
        snprintf(err, errlen, "alerts: %s", sr_strerror(rc));
        sr_report_destroy(r);
        return rc;
    }
    *out = r;
    return 0;
}

void sr_report_destroy(sr_report *r)
{
    if (!r)
        return;
    sr_source_list_fini(&r->src);
    free(r->alerts);
    for (size_t i = 0; r->pv && i < r->cfg->n_panels; i++)
        sr_panel_model_fini(&r->pv[i].m);
    free(r->pv);
    free(r);
}

/* ---- JSON and CSV ---- */

/* The sources a reader should know about: configured and not live. */
static bool source_stale(const sr_source_info *s)
{
    return s->configured && s->state != SR_SOURCE_LIVE;
}

/* The window's baseline of a model that asked for one; NULL without. */
static const sr_baseline *model_base(const sr_panel_model *m)
{
    return m->n_base_run ? &m->base_run[m->n_base_run - 1].base : NULL;
}

/* The baseline's columns: empty without one, the mask for a band the role
 * may not see. */
static void csv_baseline(sr_csv_out *w, const sr_panel_model *m)
{
    const sr_baseline *b = model_base(m);
    const char *mask = m->base_mask[0] ? m->base_mask : NULL;
    sr_csv_figure(w, b ? b->low : NAN, mask);
    sr_csv_figure(w, b ? b->high : NAN, mask);
    sr_csv_figure(w, b ? b->median : NAN, mask);
    if (b && !mask)
        sr_csv_integer(w, b->used);
    else
        sr_csv_field(w, "");
    if (b)
        sr_csv_integer(w, b->weeks);
    else
        sr_csv_field(w, "");
    sr_csv_field(w, m->base_label);
    sr_csv_field(w, b ? sr_unusual_name(m->unusual) : "");
}

/* The forecast's columns: empty without one; the figures of a withheld
 * one empty, with the reason; the mask for one the role may not see. */
static void csv_forecast(sr_csv_out *w, const sr_panel_model *m)
{
    const sr_forecast *f = &m->forecast;
    const char *mask = m->fc_mask[0] ? m->fc_mask : NULL;
    if (!m->has_forecast) {
        for (int i = 0; i < 8; i++)
            sr_csv_field(w, "");
        return;
    }
    char from[40], to[40];
    sr_format_time_utc(f->now.from_ms, from, sizeof from);
    sr_format_time_utc(f->now.to_ms, to, sizeof to);
    sr_csv_field(w, from);
    sr_csv_field(w, to);
    bool on = f->shown || mask;
    sr_csv_figure(w, on ? f->now.value : NAN, mask);
    sr_csv_figure(w, on ? f->now.low : NAN, mask);
    sr_csv_figure(w, on ? f->now.high : NAN, mask);
    sr_csv_figure(w, f->error, mask);
    sr_csv_field(w, mask ? "" : f->shown ? "yes" : "no");
    sr_csv_field(w, mask ? "" : f->why);
}

static void write_csv(const sr_report *r, FILE *out)
{
    static const char *const header[] = {
        "panel", "title", "metric", "entity", "agg", "window", "value", "unit", "status", "n",
        "previous", "change_pct", "week_ago", "as_of",
        /* added later: only ever at the end */
        "baseline_low", "baseline_high", "baseline_median", "baseline_weeks_used", "baseline_weeks",
        "baseline_slice", "unusual", "forecast_from", "forecast_to", "forecast_value",
        "forecast_low", "forecast_high", "forecast_error", "forecast_shown", "forecast_reason",
        NULL};
    char asof[40];
    sr_format_time_utc(r->at_ms, asof, sizeof asof);
    sr_csv_out w;
    sr_csv_init(&w, out);
    sr_csv_header(&w, header);
    for (size_t i = 0; i < r->cfg->n_panels; i++) {
        const panel_value *v = &r->pv[i];
        if (!v->shown)
            continue;
        sr_csv_field(&w, v->panel->name);
        sr_csv_field(&w, v->panel->title);
        sr_csv_field(&w, v->panel->metric);
        sr_csv_field(&w, v->panel->entity);
        sr_csv_field(&w, v->m.agg_name);
        sr_csv_field(&w, v->window);
        sr_csv_figure(&w, v->m.c.now.value, v->m.mask);
        sr_csv_field(&w, v->def ? v->def->unit : "");
        sr_csv_field(&w, sr_status_name(v->m.status));
        if (v->m.mask[0])
            sr_csv_field(&w, "");
        else
            sr_csv_integer(&w, v->m.c.now.n);
        sr_csv_figure(&w, v->m.c.prev.value, NULL);
        if (isnan(v->m.change_pct)) {
            sr_csv_field(&w, "");
        } else {
            char chg[64];
            snprintf(chg, sizeof chg, "%.1f", v->m.change_pct);
            sr_csv_field(&w, chg);
        }
        sr_csv_figure(&w, v->m.c.week_ago.value, NULL);
        sr_csv_field(&w, asof);
        csv_baseline(&w, &v->m);
        csv_forecast(&w, &v->m);
        sr_csv_end_row(&w);
    }
}

#define NUM(x) sr_json_number(x)

/* The window's baseline: its band, the weeks it rests on, the slice of the
 * week and the verdict; the reason without a band; the mask for a band
 * the role may not see (its figures null). */
static json_t *baseline_json(const sr_panel_model *m)
{
    const sr_baseline *b = model_base(m);
    json_t *o = json_object();
    json_object_set_new(o, "slice", json_string(m->base_label));
    json_object_set_new(o, "low", NUM(b ? b->low : NAN));
    json_object_set_new(o, "high", NUM(b ? b->high : NAN));
    json_object_set_new(o, "median", NUM(b ? b->median : NAN));
    json_object_set_new(o, "weeks_used",
                        b && !m->base_mask[0] ? json_integer(b->used) : json_null());
    json_object_set_new(o, "weeks", b ? json_integer(b->weeks) : json_null());
    json_object_set_new(o, "unusual", json_string(sr_unusual_name(m->unusual)));
    json_object_set_new(o, "reason",
                        !b                ? json_string("window over a week")
                        : m->base_mask[0] ? json_null()
                        : !b->has_band    ? json_string(b->why)
                                          : json_null());
    if (m->base_mask[0])
        json_object_set_new(o, "suppressed", json_string(m->base_mask));
    return o;
}

/* The forecast: its horizon, figure and band (null unless shown), the
 * backtest's error, and the reason it is withheld, or its mask. */
static json_t *forecast_json(const sr_panel_model *m)
{
    const sr_forecast *f = &m->forecast;
    bool on = f->shown && !m->fc_mask[0];
    char from[40], to[40];
    sr_format_time_utc(f->now.from_ms, from, sizeof from);
    sr_format_time_utc(f->now.to_ms, to, sizeof to);
    json_t *o = json_object();
    json_object_set_new(o, "from", json_string(from));
    json_object_set_new(o, "to", json_string(to));
    json_object_set_new(o, "value", on ? NUM(f->now.value) : json_null());
    json_object_set_new(o, "low", on ? NUM(f->now.low) : json_null());
    json_object_set_new(o, "high", on ? NUM(f->now.high) : json_null());
    json_object_set_new(o, "error", NUM(f->error));
    json_object_set_new(o, "backtest_weeks", json_integer(SR_FORECAST_BACKTEST_WEEKS));
    json_object_set_new(o, "shown", json_boolean(on));
    json_object_set_new(o, "reason", on || m->fc_mask[0] ? json_null() : json_string(f->why));
    if (m->fc_mask[0])
        json_object_set_new(o, "suppressed", json_string(m->fc_mask));
    return o;
}

static void write_json(const sr_report *r, FILE *out)
{
    char asof[40];
    sr_format_time_utc(r->at_ms, asof, sizeof asof);
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "title", json_string(r->cfg->title));
    json_object_set_new(root, "as_of", json_string(asof));
    if (r->shift_ms > 0) {
        char from[40], shift[32];
        sr_format_time_utc(r->at_ms - r->shift_ms, from, sizeof from);
        sr_format_duration(r->shift_ms, shift, sizeof shift);
        json_object_set_new(root, "shift", json_string(shift));
        json_object_set_new(root, "from", json_string(from));
    }
    for (size_t i = 0; i < r->cfg->n_panels; i++) {
        const panel_value *v = &r->pv[i];
        if (!v->shown)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "panel", json_string(v->panel->name));
        json_object_set_new(o, "title", json_string(v->panel->title));
        json_object_set_new(o, "metric", json_string(v->panel->metric));
        json_object_set_new(o, "entity", json_string(v->panel->entity));
        json_object_set_new(o, "agg", json_string(v->m.agg_name));
        json_object_set_new(o, "window", json_string(v->window));
        json_object_set_new(o, "value", NUM(v->m.c.now.value));
        if (!v->m.mask[0] && isinf(v->m.c.now.value)) /* not a missing value: said so */
            json_object_set_new(o, "overflow", json_true());
        json_object_set_new(o, "unit", json_string(v->def ? v->def->unit : ""));
        json_object_set_new(o, "status", json_string(sr_status_name(v->m.status)));
        json_object_set_new(o, "n", v->m.mask[0] ? json_null() : json_integer(v->m.c.now.n));
        if (v->m.mask[0])
            json_object_set_new(o, "suppressed", json_string(v->m.mask));
        json_object_set_new(o, "previous", NUM(v->m.c.prev.value));
        json_object_set_new(o, "change_pct", NUM(v->m.change_pct));
        json_object_set_new(o, "week_ago", NUM(v->m.c.week_ago.value));
        if (v->def && !isnan(v->def->target))
            json_object_set_new(o, "target", NUM(v->def->target));
        if (v->m.base_label[0])
            json_object_set_new(o, "baseline", baseline_json(&v->m));
        if (v->m.has_forecast)
            json_object_set_new(o, "forecast", forecast_json(&v->m));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "panels", arr);
    /* the forecasts again, as the handover's "Expected next shift" lists them */
    json_t *next = json_object(), *fcs = json_array();
    char from[40], to[40], len[32];
    sr_ms origin = sr_floor_ms(r->at_ms, SR_FORECAST_SLICE_MS);
    sr_format_time_utc(origin, from, sizeof from);
    sr_format_time_utc(origin + r->next_ms, to, sizeof to);
    sr_format_duration(r->next_ms, len, sizeof len);
    json_object_set_new(next, "from", json_string(from));
    json_object_set_new(next, "to", json_string(to));
    json_object_set_new(next, "length", json_string(len));
    for (size_t i = 0; i < r->cfg->n_panels; i++) {
        const panel_value *v = &r->pv[i];
        if (!v->shown || !v->m.has_forecast)
            continue;
        json_t *o = forecast_json(&v->m);
        json_object_set_new(o, "panel", json_string(v->panel->name));
        json_object_set_new(o, "title", json_string(v->panel->title));
        json_array_append_new(fcs, o);
    }
    json_object_set_new(next, "panels", fcs);
    json_object_set_new(root, "expected_next_shift", next);
    json_t *stale = json_array();
    for (size_t i = 0; i < r->src.n; i++) {
        const sr_source_info *s = &r->src.v[i];
        if (!source_stale(s))
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "source", json_string(s->h.name));
        json_object_set_new(o, "type", json_string(s->h.type));
        json_object_set_new(o, "state", json_string(sr_source_state_name(s->state)));
        if (s->polled && s->h.last_ok_ms > 0) {
            char t[40];
            sr_format_time_utc(s->h.last_ok_ms, t, sizeof t);
            json_object_set_new(o, "last_success", json_string(t));
        }
        if (s->polled && s->h.last_error[0])
            json_object_set_new(o, "last_error", json_string(s->h.last_error));
        json_array_append_new(stale, o);
    }
    json_object_set_new(root, "stale_sources", stale);
    sr_json_write(root, JSON_INDENT(2), out);
    json_decref(root);
}

#undef NUM

/* ---- Markdown ---- */

/* Text from config or data in a Markdown table cell: sanitised as the
 * screen shows it (controls, bidi and escape sequences dropped), then
 * pipes, backslashes and emphasis escaped. */
static void md_text(FILE *out, const char *t)
{
    char *clean = xclean(t);
    for (const char *c = clean; *c; c++) {
        if (*c == '|' || *c == '\\' || *c == '`' || *c == '*' || *c == '_')
            fputc('\\', out);
        fputc(*c, out);
    }
    free(clean);
}

/* "2024-05-01 08:00" in the force's zone (UTC when the zone is unknown). */
static void local_minute(const char *tz, sr_ms t, char *buf, size_t len)
{
    sr_civil c;
    if (sr_utc_to_local(tz, t, &c) != 0 && sr_utc_to_local("UTC", t, &c) != 0) {
        snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", c.year, c.mon, c.mday, c.hour, c.min);
}

/* Whether a panel above panel i in the report shows the same figure:
 * metric, entity, aggregate and window (a tile and a histogram of one). */
static bool shown_above(const sr_report *r, size_t i)
{
    const panel_value *v = &r->pv[i];
    for (size_t j = 0; j < i; j++) {
        const panel_value *u = &r->pv[j];
        if (u->shown && strcmp(u->panel->metric, v->panel->metric) == 0 &&
            strcmp(u->panel->entity, v->panel->entity) == 0 &&
            strcmp(u->m.agg_name, v->m.agg_name) == 0 && strcmp(u->window, v->window) == 0)
            return true;
    }
    return false;
}

/* The title of the panel an alert is named after, else its name. */
static const char *alert_title(const sr_config *cfg, const sr_alert *a)
{
    for (size_t i = 0; i < cfg->n_panels; i++)
        if (strcmp(cfg->panels[i].name, a->panel) == 0 && cfg->panels[i].title[0])
            return cfg->panels[i].title;
    return a->panel;
}

/*
 * "Expected next shift": the forecast of each panel with forecast = yes
 * over the next shift, "Calls: 310–380 (expected 345) · backtest error
 * 11 % (4 wk)", or why it is withheld; nothing when no panel has one.
 */
static void md_next_shift(const sr_report *r, FILE *out)
{
    const char *tz = r->cfg->timezone[0] ? r->cfg->timezone : "UTC";
    bool any = false;
    for (size_t i = 0; i < r->cfg->n_panels && !any; i++)
        any = r->pv[i].shown && r->pv[i].m.has_forecast;
    if (!any)
        return;
    char from[32], to[32], len[32];
    sr_ms origin = sr_floor_ms(r->at_ms, SR_FORECAST_SLICE_MS);
    local_minute(tz, origin, from, sizeof from);
    local_minute(tz, origin + r->next_ms, to, sizeof to);
    sr_format_duration(r->next_ms, len, sizeof len);
    fprintf(out,
            "\n## Expected next shift\n\n%s to %s (%s), each from its normal for those hours "
            "scaled by the last %d hours, with its error replayed over the last %d weeks:\n\n",
            from, to, len, SR_FORECAST_LEVEL_SLICES, SR_FORECAST_BACKTEST_WEEKS);
    for (size_t i = 0; i < r->cfg->n_panels; i++) {
        const panel_value *v = &r->pv[i];
        const sr_forecast *f = &v->m.forecast;
        if (!v->shown || !v->m.has_forecast)
            continue;
        fputs("- ", out);
        md_text(out, v->panel->title[0] ? v->panel->title : v->panel->name);
        fputs(": ", out);
        if (v->m.fc_mask[0]) {
            md_text(out, v->m.fc_mask);
        } else if (!f->shown) {
            fputs("no forecast: ", out);
            md_text(out, f->why);
        } else {
            char val[64], lo[64], hi[64], band[140];
            sr_format_estimate(f->now.value, v->def, v->m.agg, val, sizeof val);
            sr_format_estimate(f->now.low, v->def, v->m.agg, lo, sizeof lo);
            sr_format_estimate(f->now.high, v->def, v->m.agg, hi, sizeof hi);
            lo[sr_format_range(lo, hi, "", band, sizeof band)] = '\0';
            md_text(out, lo); /* unit words from the config */
            fputs("–", out);
            md_text(out, hi);
            fputs(" (expected ", out);
            md_text(out, val);
            fprintf(out, ") · backtest error %.0f %% (%d wk)", f->error * 100.0,
                    SR_FORECAST_BACKTEST_WEEKS);
        }
        fputc('\n', out);
    }
}

static void write_markdown(const sr_report *r, FILE *out)
{
    const sr_config *cfg = r->cfg;
    const char *tz = cfg->timezone[0] ? cfg->timezone : "UTC";
    char at[32], from[32], before[32], len[32];
    local_minute(tz, r->at_ms, at, sizeof at);
    fputs("# Shift handover: ", out);
    md_text(out, cfg->title);
    fprintf(out, "\n\n- As of: %s (%s)\n", at, tz);
    if (r->shift_ms > 0) {
        local_minute(tz, r->at_ms - r->shift_ms, from, sizeof from);
        local_minute(tz, r->at_ms - 2 * r->shift_ms, before, sizeof before);
        sr_format_duration(r->shift_ms, len, sizeof len);
        fprintf(out, "- Shift: %s to %s (%s)\n", from, at, len);
        fprintf(out, "- Compared with the shift before: %s to %s\n", before, from);
    } else {
        fputs("- Window: each panel's own, compared with the window before it\n", out);
    }

    fputs("\n## Panels\n\n| Panel | Window | Value | Status | Previous window | Change |\n"
          "|---|---|--:|---|--:|--:|\n",
          out);
    for (size_t i = 0; i < cfg->n_panels; i++) {
        const panel_value *v = &r->pv[i];
        if (!v->shown || shown_above(r, i))
            continue;
        char val[64], prev[64], chg[32];
        sr_format_value(v->m.c.now.value, v->def, v->m.agg, false, val, sizeof val);
        if (v->m.mask[0])
            snprintf(val, sizeof val, "%s", v->m.mask);
        sr_format_value(v->m.c.prev.value, v->def, v->m.agg, false, prev, sizeof prev);
        if (isnan(v->m.change_pct))
            snprintf(chg, sizeof chg, "-");
        else
            snprintf(chg, sizeof chg, "%+.1f%%", v->m.change_pct);
        fputs("| ", out);
        md_text(out, v->panel->title[0] ? v->panel->title : v->panel->name);
        fprintf(out, " | %s | ", v->window);
        md_text(out, val);
        fprintf(out, " | %s | ", sr_status_name(v->m.status));
        md_text(out, prev);
        fprintf(out, " | %s |\n", chg);
    }

    md_next_shift(r, out);

    fputs("\n## Sources\n\n", out);
    size_t stale = 0;
    for (size_t i = 0; i < r->src.n; i++) {
        const sr_source_info *s = &r->src.v[i];
        if (!source_stale(s))
            continue;
        char ago[32];
        sr_format_ago(r->now_ms, s->polled ? s->h.last_ok_ms : 0, ago, sizeof ago);
        fputs("- ", out);
        md_text(out, s->h.name);
        fputs(" (", out);
        md_text(out, s->h.type);
        fprintf(out, "): %s, last success %s", sr_source_state_name(s->state),
                s->polled ? ago : "never (not polled yet)");
        if (s->polled && s->h.last_error[0]) {
            fputs(": ", out);
            md_text(out, s->h.last_error);
        }
        fputc('\n', out);
        stale++;
    }
    if (!stale && r->src.n_configured == 1)
        fputs("The one source is live.\n", out);
    else if (!stale)
        fprintf(out, "All %zu sources are live.\n", r->src.n_configured);

    fputs("\n## Alerts\n\n", out);
    if (!r->n_alerts)
        fputs(r->alerts_withheld[0] ? "No alert is shown.\n" : "No alert is open.\n", out);
    for (size_t i = 0; i < r->n_alerts; i++) {
        const sr_alert *a = &r->alerts[i];
        char raised[32], t[32], val[64], thr[64];
        local_minute(tz, a->raised_at_ms, raised, sizeof raised);
        sr_alerting_format(r->cfg, a, "–", val, thr, sizeof val); /* as the panel shows them */
        fprintf(out, "- %s ", sr_status_name(a->severity));
        md_text(out, alert_title(cfg, a));
        if (a->entity[0]) {
            fputs(" (", out);
            md_text(out, a->entity);
            fputc(')', out);
        }
        fprintf(out, ": %s", sr_alert_state_name(a->state));
        if (a->state == SR_ALERT_SILENCED) {
            local_minute(tz, a->silenced_until_ms, t, sizeof t);
            fprintf(out, " until %s", t);
        }
        fprintf(out, ", raised %s, value %s (%s%s)", raised, val, sr_alert_thr_words(a), thr);
        if (a->acked_at_ms) {
            local_minute(tz, a->acked_at_ms, t, sizeof t);
            fputs("; acknowledged by ", out);
            md_text(out, a->acked_by);
            fprintf(out, " at %s", t);
        }
        if (a->note[0]) {
            fputs(": ", out);
            md_text(out, a->note);
        }
        fputc('\n', out);
    }
    if (r->alerts_withheld[0]) {
        fputs("\n", out);
        md_text(out, r->alerts_withheld);
        fputc('\n', out);
    }
}

int sr_report_write(const sr_report *r, sr_report_format f, FILE *out)
{
    static void (*const writers[])(const sr_report *, FILE *) = {
        [SR_REPORT_JSON] = write_json,
        [SR_REPORT_CSV] = write_csv,
        [SR_REPORT_MARKDOWN] = write_markdown,
    };
    writers[f](r, out);
    return ferror(out) || fflush(out) ? SR_EIO : 0;
}

/* mkdir -p dir (the parents too); 0 or SR_EIO. */
static int make_dirs(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/')
            continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            rc = SR_EIO;
            break;
        }
        *s = c;
        if (!c)
            break;
    }
    free(p);
    return rc;
}

int sr_report_save(const sr_config *cfg, sr_store *st, const sr_report_viewer *who, sr_ms at_ms,
                   char *path, size_t pathlen, char *err, size_t errlen)
{
    sr_civil c;
    if (sr_utc_to_local(cfg->timezone[0] ? cfg->timezone : "UTC", at_ms, &c) != 0)
        sr_utc_to_local("UTC", at_ms, &c);
    snprintf(path, pathlen, "%s/handover-%04d%02d%02d-%02d%02d.md", cfg->reports, c.year, c.mon,
             c.mday, c.hour, c.min);
    /* the folder and the file are the user's: made as the real user (trust.h) */
    int made = sr_trust_as_user() ? SR_EIO : make_dirs(cfg->reports);
    int e = errno;
    sr_trust_as_group();
    if (made != 0) {
        snprintf(err, errlen, "cannot create %s: %s", cfg->reports, strerror(e));
        return SR_EIO;
    }
    sr_report *r;
    int rc = sr_report_build(cfg, st, who, at_ms, cfg->shift_ms, sr_now_ms(), &r, err, errlen);
    if (rc)
        return rc;
    FILE *f = sr_trust_fopen(path, O_WRONLY | O_CREAT | O_TRUNC, 0640, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        sr_report_destroy(r);
        return SR_EIO;
    }
    rc = sr_report_write(r, SR_REPORT_MARKDOWN, f);
    if (fclose(f) != 0)
        rc = SR_EIO;
    if (rc)
        snprintf(err, errlen, "cannot write %s", path);
    sr_report_destroy(r);
    return rc;
}
