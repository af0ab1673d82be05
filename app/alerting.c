/*
 * alerting.c - steps every panel's alert after the collector has written a
 * batch.
 *
 * The value is the panel's own (sr_privacy_panel_compute with nothing but
 * the value, under the policy every role has), so an alert speaks of
 * exactly what the tile shows. All the
 * panels are read, stepped and written inside one store batch: the batch
 * holds the write lock, so an acknowledgement made by a viewer between the
 * read and the write cannot be lost. Events are collected during the batch
 * and reported only once it has committed.
 */
#include "alerting.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/execfmt.h"
#include "../metrics/format.h"
#include "../metrics/panel.h"
#include "../metrics/privacy.h"
#include "../metrics/safetext.h"
#include "xalloc.h"

typedef struct {
    sr_alert a;
    sr_alert_event ev;
} happened;

/*
 * Whether a stepped alert must be written back. Every write is a commit that
 * makes every viewer recompute its panels, so a step that changed nothing
 * but the latest value (or an unusual alert's band, which slides with the
 * window) writes only when it moved by 2% (of the value or of the
 * threshold, whichever is larger) or more, and only while the alert is
 * raised: the alerts view's value is that close to the panel's.
 */
static bool alert_changed(const sr_alert *b, const sr_alert *a)
{
    if (a->state != b->state || a->severity != b->severity || a->raised_at_ms != b->raised_at_ms ||
        a->acked_at_ms != b->acked_at_ms || a->silenced_until_ms != b->silenced_until_ms ||
        a->cleared_at_ms != b->cleared_at_ms || a->kind != b->kind || a->side != b->side ||
        strcmp(a->key, b->key) != 0 || strcmp(a->panel, b->panel) != 0)
        return true;
    bool unusual = a->kind == SR_ALERT_UNUSUAL;
    if (!unusual && !(a->threshold == b->threshold || (isnan(a->threshold) && isnan(b->threshold))))
        return true;
    if (isnan(a->value) || isnan(b->value))
        return isnan(a->value) != isnan(b->value);
    if (!sr_alert_is_raised(a))
        return false; /* nobody is shown the value of an alert that is not raised */
    double scale = fmax(fabs(b->value), isnan(a->threshold) ? 0 : fabs(a->threshold));
    const double was[] = {b->value, b->band_low, b->band_high};
    const double is[] = {a->value, a->band_low, a->band_high};
    for (int i = 0; i < (unusual ? 3 : 1); i++) {
        if (isnan(was[i]) || isnan(is[i])) {
            if (isnan(was[i]) != isnan(is[i]))
                return true;
        } else if (fabs(is[i] - was[i]) >= 0.02 * scale && is[i] != was[i]) {
            return true;
        }
    }
    return false;
}

/*
 * The key of panel p's alert of kind k into key; false when p has none
 * (a threshold alert: its aggregate is not its metric's own; an unusual
 * one: p is not `when = unusual` or both; or the metric is unknown). The
 * threshold alert of a panel with `when = unusual` is *retired: stepped
 * without thresholds, so that one raised before the config said so clears
 * (unless a panel that wants it shows the same condition). A threshold
 * alert stored by an older sitrep under the panel's name ("panel@entity")
 * is moved to it first (sr_store_alert_rekey), so that no alert is lost or
 * doubled.
 */
static bool panel_key(const sr_config *cfg, sr_store *st, const sr_cfg_panel *p, sr_alert_kind k,
                      char *key, size_t len, bool *retired, int *rc)
{
    const sr_metric_def *d = sr_catalog_find(&cfg->metrics, p->metric);
    *retired = false;
    if (!d)
        return false;
    bool unusual = strcmp(p->when, "unusual") == 0, both = strcmp(p->when, "both") == 0;
    if (k == SR_ALERT_UNUSUAL)
        return (unusual || both) &&
               sr_alert_key_unusual(d, p->agg, p->window_ms, p->entity, key, len) == 0;
    if (sr_alert_key_for(d, p->agg, p->window_ms, p->entity, key, len))
        return false;
    *retired = unusual;
    char old[SR_ALERT_KEY_MAX];
    int n = p->entity[0] ? snprintf(old, sizeof old, "%s@%s", p->name, p->entity)
                         : snprintf(old, sizeof old, "%s", p->name);
    if (!unusual && n > 0 && (size_t)n < sizeof old)
        *rc = sr_store_alert_rekey(st, old, key);
    return true;
}

/*
 * Steps panel p's alert of kind k, whose key is key; *ev is what happened.
 * A threshold alert steps the panel's value against the metric's
 * thresholds; an unusual alert the verdict of the panel's run of slices
 * against their baselines (the panel computed as its tile is with
 * baseline = yes) and the window's own band. No row is written for an
 * alert that has never had anything to say.
 */
static int step_panel(const sr_config *cfg, sr_store *st, const sr_cfg_panel *p, sr_alert_kind k,
                      bool retired, const char *key, const sr_alert_params *par, sr_ms now,
                      sr_alert *a, sr_alert_event *ev, sr_ms *due)
{
    *ev = SR_ALERT_EV_NONE;
    bool unusual = k == SR_ALERT_UNUSUAL;
    sr_panel_spec spec = {.metric = p->metric,
                          .entity = p->entity,
                          .agg = p->agg,
                          .window_ms = p->window_ms,
                          .baseline = unusual,
                          .baseline_opts = {.tz = cfg->timezone,
                                            .exclude = cfg->baseline_exclude,
                                            .n_exclude = cfg->n_baseline_exclude}};
    /* as every role may see it (metrics/privacy.h): a figure none is shown
     * (a percentile over fewer than 10 observations), and a verdict resting
     * on one, is no figure for an alert either: it neither raises nor clears
     * one, nor is written in it */
    sr_privacy every;
    sr_privacy_init(&every);
    sr_panel_model m;
    sr_privacy_report rep;
    int rc = sr_privacy_panel_compute(st, &cfg->metrics, &every, &spec, now, SR_PANEL_VALUE_ONLY, 0,
                                      0, 0, &m, &rep);
    if (rc || !m.def) {
        sr_panel_model_fini(&m);
        return 0;
    }
    double v = m.c.now.value, low = NAN, high = NAN;
    sr_metric_def d = *m.def;
    if (retired || (!isnan(v) && m.status == SR_STATUS_NONE))
        d.warn = d.crit = NAN;
    sr_unusual verdict = m.unusual;
    if (m.n_base_run && m.base_run[m.n_base_run - 1].base.has_band) {
        low = m.base_run[m.n_base_run - 1].base.low;
        high = m.base_run[m.n_base_run - 1].base.high;
    }
    sr_panel_model_fini(&m);

    rc = sr_store_alert_get(st, key, a);
    if (rc == SR_ENOENT) {
        bool quiet = unusual ? verdict != SR_UNUSUAL_HIGH && verdict != SR_UNUSUAL_LOW
                             : isnan(v) || (isnan(d.warn) && isnan(d.crit));
        if (quiet)
            return 0; /* nothing to say: no row */
        rc = unusual ? sr_alert_init_unusual(a, p->name, &d, p->agg, p->window_ms, p->entity)
                     : sr_alert_init(a, p->name, p->metric, p->window_ms, p->entity);
        if (rc)
            return 0;
    } else if (rc) {
        return rc;
    }
    sr_alert before = *a;
    snprintf(a->panel, sizeof a->panel, "%s", p->name); /* the first panel that shows it */
    *ev = unusual ? sr_alert_step_unusual(a, par, verdict, v, low, high, now)
                  : sr_alert_step(a, &d, par, v, now);
    if (a->state == SR_ALERT_PENDING && a->raised_at_ms + par->for_ms < *due)
        *due = a->raised_at_ms + par->for_ms;
    if (a->state == SR_ALERT_SILENCED && a->silenced_until_ms < *due)
        *due = a->silenced_until_ms;
    return alert_changed(&before, a) ? sr_store_alert_put(st, a) : 0;
}

int sr_alerting_step(const sr_config *cfg, sr_store *st, sr_ms now, sr_alert_cb cb, void *ctx)
{
    return sr_alerting_step_due(cfg, st, now, cb, ctx, NULL);
}

/* Whether alert i (its key keys[i], retired or not) is stepped: at the
 * first panel that shows its condition, a retired threshold alert only when
 * no panel wants it. */
static bool steps_here(size_t i, size_t n, char (*keys)[SR_ALERT_KEY_MAX], const bool *has,
                       const bool *retired)
{
    for (size_t j = 0; j < n; j++) {
        if (j == i || !has[j] || strcmp(keys[j], keys[i]) != 0)
            continue;
        if (retired[i] ? !retired[j] || j < i : !retired[j] && j < i)
            return false;
    }
    return true;
}

/*
 * Steps every alert once: the panels in config order, each with its
 * threshold alert then its unusual alert, each key at its first panel only
 * (the panels after it that show the same metric, entity and window share
 * the alert).
 */
int sr_alerting_step_due(const sr_config *cfg, sr_store *st, sr_ms now, sr_alert_cb cb, void *ctx,
                         sr_ms *due)
{
    sr_ms next = INT64_MAX;
    if (due)
        *due = next;
    if (cfg->n_panels == 0)
        return 0;
    sr_alert_params par = {.for_ms = cfg->alert_for_ms, .hysteresis = cfg->alert_hysteresis};
    size_t n = 2 * cfg->n_panels; /* alert i: panel i / 2, kind i % 2 */
    happened *h = calloc(n, sizeof *h);
    char(*keys)[SR_ALERT_KEY_MAX] = calloc(n, sizeof *keys);
    bool *has = calloc(2 * n, sizeof *has), *retired = has ? has + n : NULL;
    if (!h || !keys || !has) {
        free(h);
        free(keys);
        free(has);
        return SR_ENOMEM;
    }
    int rc = sr_store_begin(st);
    bool begun = !rc;
    for (size_t i = 0; !rc && i < n; i++)
        has[i] =
            panel_key(cfg, st, &cfg->panels[i / 2], i % 2 ? SR_ALERT_UNUSUAL : SR_ALERT_THRESHOLD,
                      keys[i], sizeof keys[i], &retired[i], &rc);
    for (size_t i = 0; !rc && i < n; i++)
        if (has[i] && steps_here(i, n, keys, has, retired))
            rc = step_panel(cfg, st, &cfg->panels[i / 2],
                            i % 2 ? SR_ALERT_UNUSUAL : SR_ALERT_THRESHOLD, retired[i], keys[i],
                            &par, now, &h[i].a, &h[i].ev, &next);
    if (rc && begun)
        sr_store_rollback(st);
    else if (!rc)
        rc = sr_store_commit(st); /* rolls back when it fails */
    for (size_t i = 0; !rc && cb && i < n; i++)
        if (h[i].ev != SR_ALERT_EV_NONE)
            cb(ctx, &h[i].a, h[i].ev);
    free(keys);
    free(h);
    free(has);
    if (due && !rc)
        *due = next;
    return rc;
}

void sr_alerting_format(const sr_config *cfg, const sr_alert *a, const char *range, char *val,
                        char *thr, size_t len)
{
    const sr_metric_def *def = sr_catalog_find(&cfg->metrics, a->metric);
    const sr_cfg_panel *p = NULL;
    for (size_t i = 0; i < cfg->n_panels && !p; i++)
        if (strcmp(cfg->panels[i].name, a->panel) == 0)
            p = &cfg->panels[i];
    sr_alert_format(a, p ? def : NULL, p ? p->agg : (sr_agg){0}, range, val, thr, len);
}

/* ---- the alerter ---- */

struct sr_alerter {
    uv_loop_t *loop;
    uv_timer_t timer;
    const sr_config *cfg; /* borrowed */
    sr_store *st;         /* borrowed */
    sr_alerter_hooks h;
    bool data;     /* new data since the last step */
    sr_ms last_ms; /* when it last stepped */
    sr_ms due_ms;  /* when an alert changes with no new data (INT64_MAX: never) */
    int children;  /* [alert] commands still running */
    bool closing, timer_closed;
};

static void alerter_log(sr_alerter *a, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void alerter_log(sr_alerter *a, bool error, const char *fmt, ...)
{
    if (!a->h.log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    a->h.log(a->h.ctx, error, line);
}

/* Frees the alerter once nothing of it is left on the loop. */
static void alerter_maybe_free(sr_alerter *a)
{
    if (a->closing && a->timer_closed && a->children == 0)
        free(a);
}

static void command_exited(uv_process_t *proc, int64_t status, int signum)
{
    sr_alerter *a = proc->data;
    if (signum)
        alerter_log(a, true, "alert command killed by signal %d", signum);
    else if (status)
        alerter_log(a, true, "alert command failed with exit status %lld", (long long)status);
    uv_close((uv_handle_t *)proc, (uv_close_cb)free);
    a->children--;
    alerter_maybe_free(a);
}

/*
 * Runs [alert] command for a raise or a clear, without a shell, with the
 * alert in SITREP_ALERT_* variables added to the environment. The loop
 * reaps the child; a command that cannot start or fails is logged, never
 * fatal.
 */
static void run_command(sr_alerter *al, const char *cmdline, const sr_alert *a, sr_alert_event ev)
{
    char **argv = NULL, why[256];
    size_t argc = 0;
    if (sr_execfmt_words(cmdline, &argv, &argc, why, sizeof why)) {
        alerter_log(al, true, "alert command: %s", why);
        return;
    }
    extern char **environ;
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    enum { N_VARS = 13 };
    char vars[N_VARS][SR_ALERT_KEY_MAX + 32];
    snprintf(vars[0], sizeof vars[0], "SITREP_ALERT_EVENT=%s", sr_alert_event_name(ev));
    snprintf(vars[1], sizeof vars[1], "SITREP_ALERT_KEY=%s", a->key);
    snprintf(vars[2], sizeof vars[2], "SITREP_ALERT_PANEL=%s", a->panel);
    snprintf(vars[3], sizeof vars[3], "SITREP_ALERT_METRIC=%s", a->metric);
    snprintf(vars[4], sizeof vars[4], "SITREP_ALERT_ENTITY=%s", a->entity);
    snprintf(vars[5], sizeof vars[5], "SITREP_ALERT_SEVERITY=%s", sr_status_name(a->severity));
    snprintf(vars[6], sizeof vars[6], "SITREP_ALERT_STATE=%s", sr_alert_state_name(a->state));
    snprintf(vars[7], sizeof vars[7], "SITREP_ALERT_VALUE=%.17g", a->value);
    snprintf(vars[8], sizeof vars[8], "SITREP_ALERT_THRESHOLD=%.17g", a->threshold);
    snprintf(vars[9], sizeof vars[9], "SITREP_ALERT_RAISED_AT=%lld", (long long)a->raised_at_ms);
    snprintf(vars[10], sizeof vars[10], "SITREP_ALERT_KIND=%s", sr_alert_kind_name(a->kind));
    /* an unusual alert's band (its threshold is the edge crossed); empty for a threshold's */
    static const char *const band_vars[2] = {"SITREP_ALERT_BAND_LOW", "SITREP_ALERT_BAND_HIGH"};
    const double band[2] = {a->band_low, a->band_high};
    for (int i = 0; i < 2; i++) {
        if (a->kind == SR_ALERT_UNUSUAL)
            snprintf(vars[11 + i], sizeof vars[11 + i], "%s=%.17g", band_vars[i], band[i]);
        else
            snprintf(vars[11 + i], sizeof vars[11 + i], "%s=", band_vars[i]);
    }
    char **env = xcalloc(n_env + N_VARS + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "SITREP_ALERT_", 13) != 0)
            env[k++] = environ[i];
    for (size_t i = 0; i < N_VARS; i++)
        env[k++] = vars[i];
    uv_process_t *proc = xcalloc(1, sizeof *proc);
    proc->data = al;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
    if (al->h.out_fd >= 0)
        stdio[1] = (uv_stdio_container_t){.flags = UV_INHERIT_FD, .data.fd = al->h.out_fd};
    if (al->h.err_fd >= 0)
        stdio[2] = (uv_stdio_container_t){.flags = UV_INHERIT_FD, .data.fd = al->h.err_fd};
    uv_process_options_t o = {.exit_cb = command_exited,
                              .file = argv[0],
                              .args = argv,
                              .env = env,
                              .stdio_count = 3,
                              .stdio = stdio};
    int rc = uv_spawn(al->loop, proc, &o);
    if (rc) {
        alerter_log(al, true, "alert command %s: %s", argv[0], uv_strerror(rc));
        uv_close((uv_handle_t *)proc, (uv_close_cb)free);
    } else {
        al->children++;
    }
    free(env);
    free(argv);
}

/*
 * Whether the log may name alert a (its key holds its entity) and give its
 * value: the log is under the policy of the role of the process that
 * writes it (the collector's account, usually the role default), the same
 * rule as `sitrep alerts` (sr_privacy_alert). Else why not goes to why.
 */
static bool log_shows(const sr_alerter *al, const sr_alert *a, char *why, size_t len)
{
    sr_identity id;
    sr_identity_init(&id);
    const sr_cfg_role *role = sr_role_match(al->cfg, &id, NULL, 0);
    sr_privacy p;
    sr_role_privacy(al->cfg, role, &p);
    bool personal = false;
    int rc = sr_privacy_metric_personal(al->st, &al->cfg->metrics, &p, a->metric, &personal);
    sr_priv_hide h = rc ? SR_PRIV_PERSONAL : sr_privacy_alert(&p, a->entity, personal);
    if (h == SR_PRIV_SHOWN)
        return true;
    sr_privacy_why_text(&p, h, 0, why, len);
    return false;
}

/* One line for each alert event; the command for raises and clears. */
static void on_event(void *ctx, const sr_alert *a, sr_alert_event ev)
{
    sr_alerter *al = ctx;
    char val[64], thr[64], why[256];
    if (!al->h.log) {
        /* nothing is logged */
    } else if (log_shows(al, a, why, sizeof why)) {
        sr_alerting_format(al->cfg, a, "–", val, thr, sizeof val);
        alerter_log(al, false, "alert %s: %s %s, value %s (%s%s)", sr_alert_event_name(ev), a->key,
                    sr_status_name(a->severity), val, sr_alert_thr_words(a), thr);
    } else {
        alerter_log(al, false, "alert %s: an alert of panel %s (key and value withheld: %s)",
                    sr_alert_event_name(ev), a->panel, why);
    }
    if (al->cfg->alert_command[0] && (ev == SR_ALERT_EV_RAISED || ev == SR_ALERT_EV_CLEARED))
        run_command(al, al->cfg->alert_command, a, ev);
}

void sr_alerter_step_now(sr_alerter *a)
{
    if (a->closing)
        return;
    sr_ms now = sr_now_ms();
    a->data = false;
    a->last_ms = now;
    if (sr_alerting_step_due(a->cfg, a->st, now, on_event, a, &a->due_ms)) {
        alerter_log(a, true, "alerts not evaluated: %s", sr_store_errmsg(a->st));
        a->due_ms = INT64_MAX;
    }
    if (a->h.stepped)
        a->h.stepped(a->h.ctx);
}

void sr_alerter_data_changed(sr_alerter *a)
{
    if (a)
        a->data = true;
}

/* Every refresh: a step only when something can have changed. */
static void on_timer(uv_timer_t *t)
{
    sr_alerter *a = t->data;
    sr_ms now = sr_now_ms();
    if (a->data || now >= a->due_ms || now - a->last_ms >= SR_ALERTER_IDLE_MS)
        sr_alerter_step_now(a);
}

int sr_alerter_create(uv_loop_t *loop, const sr_config *cfg, sr_store *st,
                      const sr_alerter_hooks *h, sr_alerter **out)
{
    sr_alerter *a = xcalloc(1, sizeof *a);
    a->loop = loop;
    a->cfg = cfg;
    a->st = st;
    if (h)
        a->h = *h;
    else
        a->h.out_fd = a->h.err_fd = -1;
    uv_timer_init(loop, &a->timer);
    a->timer.data = a;
    uv_timer_start(&a->timer, on_timer, 0, (uint64_t)cfg->refresh_ms);
    *out = a;
    return 0;
}

void sr_alerter_set_config(sr_alerter *a, const sr_config *cfg)
{
    a->cfg = cfg;
    a->data = true; /* the panels or thresholds may have changed */
    uv_timer_start(&a->timer, on_timer, (uint64_t)cfg->refresh_ms, (uint64_t)cfg->refresh_ms);
}

static void timer_closed(uv_handle_t *h)
{
    sr_alerter *a = h->data;
    a->timer_closed = true;
    alerter_maybe_free(a);
}

void sr_alerter_destroy(sr_alerter *a)
{
    if (!a || a->closing)
        return;
    a->closing = true;
    uv_close((uv_handle_t *)&a->timer, timer_closed);
}

/* ---- a user's actions ---- */

int sr_alerting_act(const sr_config *cfg, sr_store *st, const sr_identity *id,
                    const sr_alert_act *act, sr_ms now, char *msg, size_t msglen)
{
    const sr_cfg_role *role = sr_role_match(cfg, id, NULL, 0);
    const char *verb = act->kind == SR_ALERT_ACT_ACK ? "acknowledge" : "silence";
    char key[SR_ALERT_KEY_MAX];
    sr_text_clean(act->key, key, sizeof key);
    if (!role->acknowledge) {
        snprintf(msg, msglen, "not allowed: the role %s may not %s alerts (acknowledge = no)",
                 role->name, verb);
        return SR_EINVAL;
    }
    if (act->kind == SR_ALERT_ACT_SILENCE && act->for_ms <= 0) {
        snprintf(msg, msglen, "cannot silence %s: the duration must be more than 0", key);
        return SR_EINVAL;
    }
    char note[SR_ALERT_NOTE_MAX] = "", detail[SR_ALERT_KEY_MAX + SR_ALERT_NOTE_MAX + 64];
    if (act->note)
        sr_text_clean(act->note, note, sizeof note);
    sr_ms until = now + act->for_ms;
    char d[32] = "", t[40] = "", clock[40] = "";
    if (act->kind == SR_ALERT_ACT_ACK) {
        snprintf(detail, sizeof detail, "%s%s%s", act->key, note[0] ? ": " : "", note);
    } else {
        sr_format_duration(act->for_ms, d, sizeof d);
        sr_format_time_utc(until, t, sizeof t);
        sr_format_clock(cfg->timezone, now, until, clock, sizeof clock);
        snprintf(detail, sizeof detail, "%s for %s, until %.16sZ%s%s", act->key, d, t,
                 note[0] ? ": " : "", note);
    }
    int rc = sr_store_begin(st);
    if (rc) {
        snprintf(msg, msglen, "cannot %s %s: the cache cannot be written here (%s)", verb, key,
                 sr_strerror(rc));
        return rc;
    }
    rc = act->kind == SR_ALERT_ACT_ACK ? sr_store_alert_ack(st, act->key, id->audit_user, note, now)
                                       : sr_store_alert_silence(st, act->key, note, until, now);
    if (!rc)
        rc = sr_audit_write(st, id, role->name, verb, detail, now);
    if (!rc)
        rc = sr_store_commit(st);
    else
        sr_store_rollback(st);
    if (rc == SR_ENOENT)
        snprintf(msg, msglen, "cannot %s %s: no such alert", verb, key);
    else if (rc == SR_EINVAL)
        snprintf(msg, msglen, "cannot %s %s: it is not raised (cleared meanwhile?)", verb, key);
    else if (rc)
        snprintf(msg, msglen, "cannot %s %s: %s", verb, key, sr_strerror(rc));
    else if (act->kind == SR_ALERT_ACT_ACK)
        snprintf(msg, msglen, "acknowledged %s as %s%s%s", key, id->user, note[0] ? ": " : "",
                 note);
    else /* the time as the alerts view and the report show it */
        snprintf(msg, msglen, "silenced %s for %s, until %s%s%s", key, d, clock,
                 note[0] ? ": " : "", note);
    return rc;
}
