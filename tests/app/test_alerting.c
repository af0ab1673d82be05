/*
 * Tests of app/alerting.c: a real config, a real cache file, the panels'
 * values stepped into alerts that a second handle (a viewer) acknowledges.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../app/alerting.h"
#include "../helpers.h"

/* a fresh folder for each test, dir, and the path of a cache in it */
TH_DIR_SUITE(alerting, dir, db, "cache.db");

static const char config[] = "[metric.rt]\nkind = event\nunit = s\nagg = max\nwarn = 100\n"
                             "crit = 200\n"
                             "[panel.response]\nmetric = rt\nentity = north\nwindow = 1h\n"
                             "[panel.average]\nmetric = rt\nagg = avg\nwindow = 1h\n"
                             "[alert]\nfor = 2m\n";

typedef struct {
    int n;
    sr_alert_event ev[8];
    char key[8][SR_ALERT_KEY_MAX];
} heard;

static void on_alert(void *ctx, const sr_alert *a, sr_alert_event ev)
{
    heard *h = ctx;
    cr_assert_lt(h->n, 8);
    h->ev[h->n] = ev;
    snprintf(h->key[h->n++], SR_ALERT_KEY_MAX, "%s", a->key);
}

static void put(sr_store *st, sr_ms ts, double v)
{
    sr_sample s = {"rt", "north/a", ts, v, NULL};
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_put(st, &s, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
}

/* The config of ini, and the cache with metric rt defined. */
static sr_store *open_with(const char *ini, sr_config **cfg)
{
    *cfg = NULL;
    cr_assert_eq(sr_config_parse("t.ini", ini, cfg, NULL), 0);
    sr_store *st = NULL;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    cr_assert_eq(sr_store_define_metric(st, "rt", SR_KIND_EVENT), 0);
    return st;
}

Test(alerting, panels_raise_and_keep_acknowledgements)
{
    sr_config *cfg = NULL;
    cr_assert_eq(sr_config_parse("t.ini", config, &cfg, NULL), 0);
    sr_store *st = NULL;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    cr_assert_eq(sr_store_define_metric(st, "rt", SR_KIND_EVENT), 0);
    sr_ms t = 1700000000000LL;
    put(st, t - 10 * SR_MS_MIN, 150);

    heard h = {0};
    cr_assert_eq(sr_alerting_step(cfg, st, t, on_alert, &h), 0);
    cr_assert_eq(h.n, 0);
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(st, "rt:1h@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_PENDING);
    /* avg is not the metric's own aggregate: no thresholds, no row */
    cr_assert_eq(sr_store_alert_get(st, "rt:1h", &a), SR_ENOENT);

    cr_assert_eq(sr_alerting_step(cfg, st, t + 2 * SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.ev[0], SR_ALERT_EV_RAISED);
    cr_assert_str_eq(h.key[0], "rt:1h@north");

    sr_store *viewer = NULL;
    cr_assert_eq(sr_store_open(db, 0, &viewer, NULL, 0), 0);
    cr_assert_eq(sr_store_alert_ack(viewer, "rt:1h@north", "ana", "seen", t + 3 * SR_MS_MIN), 0);
    cr_assert_eq(sr_alerting_step(cfg, st, t + 4 * SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(sr_store_alert_get(st, "rt:1h@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACKED);
    cr_assert_str_eq(a.note, "seen");

    put(st, t + 5 * SR_MS_MIN, 250);
    cr_assert_eq(sr_alerting_step(cfg, st, t + 6 * SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.ev[1], SR_ALERT_EV_ESCALATED);
    cr_assert_eq(sr_store_alert_get(viewer, "rt:1h@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(a.severity, SR_STATUS_CRIT);

    /* both samples leave the window: no data changes nothing */
    cr_assert_eq(sr_alerting_step(cfg, st, t + 2 * SR_MS_HOUR, on_alert, &h), 0);
    cr_assert_eq(h.n, 2);
    sr_store_close(viewer);
    sr_store_close(st);
    sr_config_destroy(cfg);
}

/* A percentile over fewer than 10 observations is shown to no role (n<10):
 * it raises no alert, and a raised one keeps the last figure that could be
 * shown; the tenth observation raises it. */
Test(alerting, a_percentile_no_role_may_see_raises_nothing)
{
    sr_config *cfg;
    sr_store *st = open_with("[metric.rt]\nkind = event\nunit = s\nagg = p90\nwarn = 100\n"
                             "crit = 200\n"
                             "[panel.response]\nmetric = rt\nwindow = 1h\n"
                             "[alert]\nfor = 1s\n",
                             &cfg);
    sr_ms t = 1700000000000LL;
    for (int i = 0; i < 9; i++)
        put(st, t - (20 - i) * SR_MS_MIN, 500);
    heard h = {0};
    cr_assert_eq(sr_alerting_step(cfg, st, t, on_alert, &h), 0);
    cr_assert_eq(h.n, 0, "nine observations: no alert");
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(st, "rt:1h", &a), SR_ENOENT, "and no row");
    put(st, t - 5 * SR_MS_MIN, 500);
    cr_assert_eq(sr_alerting_step(cfg, st, t, on_alert, &h), 0);
    cr_assert_eq(h.n, 0, "the tenth makes it pending");
    cr_assert_eq(sr_alerting_step(cfg, st, t + SR_MS_SEC, on_alert, &h), 0);
    cr_assert_eq(h.n, 1, "and raises it a second later");
    cr_assert_eq(h.ev[0], SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_store_alert_get(st, "rt:1h", &a), 0);
    cr_assert_eq(a.severity, SR_STATUS_CRIT);
    cr_assert_eq(a.value, 500);
    /* 40 minutes on, three of them are left in the window, all low: not
     * a figure to clear it on, nor to write into it */
    for (int i = 0; i < 3; i++)
        put(st, t + (30 + i) * SR_MS_MIN, 1);
    cr_assert_eq(sr_alerting_step(cfg, st, t + 59 * SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(sr_store_alert_get(st, "rt:1h", &a), 0);
    cr_assert(sr_alert_is_raised(&a));
    cr_assert_eq(a.value, 500, "the value shown is still the last one that could be");
    sr_store_close(st);
    sr_config_destroy(cfg);
}

/* Two panels of one metric, entity and window (a tile and a histogram, as
 * p1 and p1_spread): one alert, stepped once, named after the first panel;
 * the alerts an older sitrep kept under each panel's name become that one,
 * with its acknowledgement. */
Test(alerting, panels_of_one_condition_share_one_alert)
{
    static const char two[] = "[metric.rt]\nkind = event\nunit = s\nagg = max\nwarn = 100\n"
                              "crit = 200\n"
                              "[panel.response]\nmetric = rt\nentity = north\nwindow = 1h\n"
                              "[panel.spread]\nmetric = rt\nentity = north\nwindow = 1h\n"
                              "widget = histogram\n"
                              "[panel.long]\nmetric = rt\nentity = north\nwindow = 2h\n"
                              "[alert]\nfor = 1s\n";
    sr_config *cfg;
    sr_store *st = open_with(two, &cfg);
    sr_ms t = 1700000000000LL;
    put(st, t - 10 * SR_MS_MIN, 250);

    /* what an older sitrep left: one alert per panel, one acknowledged */
    sr_alert a;
    cr_assert_eq(sr_store_begin(st), 0);
    const char *old[] = {"response@north", "spread@north"};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(sr_alert_init(&a, old[i], "rt", SR_MS_HOUR, "north"), 0);
        snprintf(a.key, sizeof a.key, "%s", old[i]);
        a.state = i ? SR_ALERT_ACKED : SR_ALERT_ACTIVE;
        a.severity = SR_STATUS_CRIT;
        a.raised_at_ms = t - 5 * SR_MS_MIN;
        a.value = 250;
        a.threshold = 200;
        if (i) {
            snprintf(a.acked_by, sizeof a.acked_by, "ana");
            a.acked_at_ms = t - SR_MS_MIN;
        }
        cr_assert_eq(sr_store_alert_put(st, &a), 0);
    }
    cr_assert_eq(sr_store_commit(st), 0);

    heard h = {0};
    cr_assert_eq(sr_alerting_step(cfg, st, t, on_alert, &h), 0);
    cr_assert_eq(sr_alerting_step(cfg, st, t + 2 * SR_MS_SEC, on_alert, &h), 0);
    cr_assert_eq(h.n, 1, "only the 2h window's alert is new: %d events", h.n);
    cr_assert_str_eq(h.key[0], "rt:2h@north");
    sr_alert *v;
    size_t n;
    cr_assert_eq(sr_store_alert_list(st, ~0u, &v, &n), 0);
    cr_assert_eq(n, 2, "%zu alerts", n);
    cr_assert_str_eq(v[0].key, "rt:2h@north"); /* active first */
    cr_assert_str_eq(v[1].key, "rt:1h@north");
    cr_assert_str_eq(v[1].panel, "response", "named after the first panel");
    cr_assert_eq(v[1].state, SR_ALERT_ACKED, "the acknowledgement is kept");
    cr_assert_str_eq(v[1].acked_by, "ana");
    free(v);
    sr_store_close(st);
    sr_config_destroy(cfg);
}

/* `sitrep collect` runs [alert] command on a raise, with the alert in its
 * environment; a command that cannot start is logged, not fatal. */
/* A step that changes nothing commits nothing, so the viewers (who recompute
 * every panel when data_version moves) are not woken every refresh. */
Test(alerting, a_step_without_change_leaves_data_version_alone)
{
    sr_config *cfg = NULL;
    cr_assert_eq(sr_config_parse("t.ini", config, &cfg, NULL), 0);
    sr_store *st = NULL, *viewer = NULL;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    cr_assert_eq(sr_store_define_metric(st, "rt", SR_KIND_EVENT), 0);
    sr_ms t = 1700000000000LL;
    put(st, t - 10 * SR_MS_MIN, 150);
    put(st, t - 9 * SR_MS_MIN, 150);
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &viewer, NULL, 0), 0);
    int64_t v0, v1, v2, v3;
    cr_assert_eq(sr_alerting_step(cfg, st, t, NULL, NULL), 0); /* pending: written */
    cr_assert_eq(sr_store_data_version(viewer, &v0), 0);
    cr_assert_eq(sr_alerting_step(cfg, st, t + SR_MS_SEC, NULL, NULL), 0);
    cr_assert_eq(sr_store_data_version(viewer, &v1), 0);
    cr_assert_eq(v1, v0, "a step that changed nothing committed");
    cr_assert_eq(sr_alerting_step(cfg, st, t + 3 * SR_MS_MIN, NULL, NULL), 0); /* raised */
    cr_assert_eq(sr_store_data_version(viewer, &v2), 0);
    cr_assert_neq(v2, v1, "raising the alert did not reach the viewer");
    put(st, t + 3 * SR_MS_MIN, 151); /* the max moves by less than 2% */
    cr_assert_eq(sr_store_data_version(viewer, &v2), 0);
    cr_assert_eq(sr_alerting_step(cfg, st, t + 4 * SR_MS_MIN, NULL, NULL), 0);
    cr_assert_eq(sr_store_data_version(viewer, &v3), 0);
    cr_assert_eq(v3, v2);
    put(st, t + 4 * SR_MS_MIN, 190); /* by 2% and more: the alert's value follows */
    cr_assert_eq(sr_alerting_step(cfg, st, t + 5 * SR_MS_MIN, NULL, NULL), 0);
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(viewer, "rt:1h@north", &a), 0);
    cr_assert_float_eq(a.value, 190, 1e-9);
    sr_store_close(viewer);
    sr_store_close(st);
    sr_config_destroy(cfg);
}

/* Runs `sitrep collect --once` (argv) until [alert] command hears of a
 * raise (pending at one run, raised at a later one once [alert] for has
 * passed); *out and *err are the last run's, the caller frees them. */
static void collect_until_raised(char *const argv[], char **out, char **err)
{
    *out = *err = NULL;
    th_deadline d = th_deadline_in(20 * 1000);
    bool raised = false;
    while (!raised && !th_expired(&d)) {
        free(*out);
        free(*err);
        cr_assert_eq(th_run(dir, argv, out, err), 0, "%s", *err);
        raised = strstr(*out, "SITREP_ALERT_EVENT=raised") != NULL;
    }
    cr_assert(raised, "%s", *out);
}

Test(alerting, collect_runs_the_alert_command)
{
    char path[400], text[1024];
    long now = (long)time(NULL);
    snprintf(path, sizeof path, "%s/d.csv", dir);
    snprintf(text, sizeof text, "ts,entity,value\n%ld,north/a,150\n%ld,north/a,170\n", now - 600,
             now - 599);
    th_write_file(path, text);
    snprintf(path, sizeof path, "%s/c.ini", dir);
    th_write_file(path, "[sitrep]\ncache = cache.db\n"
                        "[metric.rt]\nkind = event\nagg = max\nwarn = 100\ncrit = 200\n"
                        "[adapter.feed]\ntype = csv\npath = d.csv\nmetric = rt\n"
                        "entity = {entity}\nvalue = value\ntime = ts\n"
                        "[panel.response]\nmetric = rt\nwindow = 1h\n"
                        "[alert]\nfor = 1s\ncommand = /usr/bin/env\n");
    char *argv[] = {"collect", "--once", "--config", path, NULL};
    char *out, *err;
    collect_until_raised(argv, &out, &err);
    cr_assert(strstr(out, "alert raised: rt:1h WARN, value 170 (threshold 100)"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_KEY=rt:1h\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_SEVERITY=WARN\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_VALUE=170\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_KIND=threshold\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_BAND_LOW=\n"), "none for a threshold alert: %s", out);
    free(out);
    free(err);

    /* worse: escalated (no command); then a clear runs it again */
    snprintf(path, sizeof path, "%s/d.csv", dir);
    snprintf(text, sizeof text, "%ld,north/b,250\n", now - 598);
    FILE *f = fopen(path, "a");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/c.ini", dir);
    cr_assert_eq(th_run(dir, argv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "alert escalated: rt:1h CRIT"), "%s", out);
    cr_assert_null(strstr(out, "SITREP_ALERT_EVENT"), "%s", out);
    free(out);
    free(err);

    th_write_file(path, "[sitrep]\ncache = cache.db\n"
                        "[metric.rt]\nkind = event\nagg = max\nwarn = 1000\ncrit = 2000\n"
                        "[adapter.feed]\ntype = csv\npath = d.csv\nmetric = rt\n"
                        "entity = {entity}\nvalue = value\ntime = ts\n"
                        "[panel.response]\nmetric = rt\nwindow = 1h\n"
                        "[alert]\ncommand = /nonexistent/notify\n");
    cr_assert_eq(th_run(dir, argv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "alert cleared: rt:1h"), "%s", out);
    cr_assert(strstr(err, "alert command /nonexistent/notify: no such file or directory"), "%s",
              err);
    free(out);
    free(err);
}

/* A cache with one raised alert on panel response (rt in seconds). */
static void cli_setup(char *path, size_t len)
{
    snprintf(path, len, "%s/c.ini", dir);
    th_write_file(path, "[sitrep]\ncache = cache.db\ntimezone = UTC\n"
                        "[metric.rt]\nkind = event\nunit = s\nagg = max\nwarn = 100\ncrit = 200\n"
                        "[panel.response]\nmetric = rt\nwindow = 1h\n"
                        "[role.chief]\nusers = ann\nacknowledge = yes\n"
                        "[role.analyst]\nusers = bob\n"
                        "[role.auditor]\nusers = aud\naudit = yes\n");
    sr_store *st = NULL;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    sr_alert a;
    cr_assert_eq(sr_alert_init(&a, "response", "rt", SR_MS_HOUR, ""), 0);
    a.state = SR_ALERT_ACTIVE;
    a.severity = SR_STATUS_CRIT;
    a.raised_at_ms = sr_now_ms() - SR_MS_MIN;
    a.value = 250;
    a.threshold = 200;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_alert_put(st, &a), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
}

/* Runs sitrep as user (SITREP_TEST_USER); returns the exit status. */
static int run_as(const char *user, char *const argv[], char **out, char **err)
{
    setenv("SITREP_TEST_USER", user, 1);
    setenv("SITREP_TEST_GROUPS", "", 1);
    int rc = th_run(dir, argv, out, err);
    unsetenv("SITREP_TEST_USER");
    unsetenv("SITREP_TEST_GROUPS");
    return rc;
}

/* sitrep ack and silence: the role is checked, the note made safe, the
 * change and its audit row written; sitrep alerts lists the result with
 * the values in the metric's unit. */
Test(alerting, cli_ack_silence_and_list)
{
    char path[400], *out, *err;
    cli_setup(path, sizeof path);

    char *list[] = {"alerts", "--config", path, NULL};
    cr_assert_eq(th_run(dir, list, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "CRIT     rt:1h"), "%s", out);
    cr_assert(strstr(out, "active"), "%s", out);
    cr_assert(strstr(out, "4m10s"), "the value in the unit: %s", out);
    cr_assert(strstr(out, "3m20s"), "the threshold in the unit: %s", out);
    free(out);
    free(err);

    char *ack[] = {"ack",      "rt:1h", "--note", "unit 7 \x1b]0;pwned\x07on scene",
                   "--config", path,    NULL};
    cr_assert_eq(run_as("bob", ack, &out, &err), 1, "%s", out);
    cr_assert(strstr(err, "not allowed: the role analyst may not acknowledge alerts"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run_as("cid", ack, &out, &err), 1, "%s", out);
    cr_assert(strstr(err, "the role default may not"), "%s", err);
    free(out);
    free(err);

    cr_assert_eq(run_as("ann", ack, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "acknowledged rt:1h as ann"), "%s", out);
    free(out);
    free(err);
    sr_store *st = NULL;
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &st, NULL, 0), 0);
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(st, "rt:1h", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACKED);
    cr_assert(strstr(a.acked_by, "as ann (SITREP_TEST_USER)"), "%s", a.acked_by);
    cr_assert_null(strchr(a.note, 0x1b), "the note is made safe: %s", a.note);
    cr_assert_null(strchr(a.note, 0x07), "%s", a.note);
    cr_assert(strstr(a.note, "unit 7 "), "%s", a.note);
    sr_store_close(st);

    char *bad[] = {"silence", "rt:1h", "--for", "soon", "--config", path, NULL};
    cr_assert_eq(run_as("ann", bad, &out, &err), 2, "%s", out);
    cr_assert(strstr(err, "--for: expected a duration"), "%s", err);
    free(out);
    free(err);
    char *mute[] = {"silence", "rt:1h", "--for", "4h", "--config", path, NULL};
    cr_assert_eq(run_as("ann", mute, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "silenced rt:1h for 4h, until "), "%s", out);
    free(out);
    free(err);
    char *none[] = {"ack", "nope", "--config", path, NULL};
    cr_assert_eq(run_as("ann", none, &out, &err), 1, "%s", out);
    cr_assert(strstr(err, "cannot acknowledge nope: no such alert"), "%s", err);
    free(out);
    free(err);

    char *json[] = {"alerts", "--format", "json", "--config", path, NULL};
    cr_assert_eq(th_run(dir, json, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"state\": \"silenced\""), "%s", out);
    cr_assert(strstr(out, "\"value_text\": \"4m10s\""), "%s", out);
    cr_assert(strstr(out, "\"acked_by\": \"") && strstr(out, "as ann (SITREP_TEST_USER)"), "%s",
              out);
    free(out);
    free(err);

    /* the audit: the acknowledgement and the silence, nothing of the refusals */
    char *audit[] = {"audit", "--config", path, NULL};
    cr_assert_eq(run_as("aud", audit, &out, &err), 0, "%s", err); /* audit = yes */
    /* each column as wide as its longest value: the action's is "acknowledge" */
    cr_assert(strstr(out, "acknowledge  rt:1h: unit 7 "), "%s", out);
    cr_assert(strstr(out, "silence      rt:1h for 4h, until "), "%s", out);
    const char *ack_row = strstr(out, "acknowledge  ");
    const char *row = ack_row;
    while (row > out && row[-1] != '\n')
        row--;
    cr_assert_eq(strstr(out, "ACTION") - out, ack_row - row,
                 "the column starts where its heading does:\n%s", out);
    cr_assert_null(strstr(out, "bob"), "%s", out);
    cr_assert_null(strstr(out, "analyst"), "%s", out);
    free(out);
    free(err);
}

typedef struct {
    sr_alerter *al;
    int steps, events;
    bool alert_line;
} loop_seen;

static void loop_log(void *ctx, bool error, const char *line)
{
    loop_seen *s = ctx;
    cr_assert_not(error, "%s", line);
    s->events++;
    if (strstr(line, "alert raised: rt:1h@north WARN, value 2m30s (threshold 1m40s)"))
        s->alert_line = true;
}

static void loop_stepped(void *ctx)
{
    loop_seen *s = ctx;
    if (++s->steps == 2)
        sr_alerter_destroy(s->al);
}

/* The alerter steps on its own timer without any poll: at once, then when
 * the pending alert's minimum duration ends (not on every refresh: nothing
 * else is due); it logs raises with the values in the metric's unit, and
 * leaves nothing on the loop once destroyed. */
Test(alerting, the_alerter_steps_on_its_own_timer)
{
    static const char ini[] = "[sitrep]\nrefresh = 100ms\n"
                              "[metric.rt]\nkind = event\nunit = s\nagg = max\nwarn = 100\n"
                              "crit = 200\n"
                              "[panel.response]\nmetric = rt\nentity = north\nwindow = 1h\n"
                              "[alert]\nfor = 100ms\n";
    sr_config *cfg;
    sr_store *st = open_with(ini, &cfg);
    put(st, sr_now_ms() - SR_MS_MIN, 150);

    uv_loop_t loop;
    cr_assert_eq(uv_loop_init(&loop), 0);
    loop_seen seen = {0};
    sr_alerter_hooks h = {
        .log = loop_log, .stepped = loop_stepped, .ctx = &seen, .out_fd = -1, .err_fd = -1};
    cr_assert_eq(sr_alerter_create(&loop, cfg, st, &h, &seen.al), 0);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
    cr_assert_eq(seen.steps, 2);
    cr_assert(seen.alert_line, "raised once its minimum duration ran out, on the timer alone");
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(st, "rt:1h@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    sr_store_close(st);
    sr_config_destroy(cfg);
}

typedef struct {
    sr_alerter *al;
    int steps, ticks;
    uv_timer_t t;
} idle_seen;

static void idle_stepped(void *ctx)
{
    ((idle_seen *)ctx)->steps++;
}

/* 100 ms ticks of the test's own: new data at the 5th, the end at the 10th. */
static void idle_tick(uv_timer_t *t)
{
    idle_seen *s = t->data;
    if (++s->ticks == 5)
        sr_alerter_data_changed(s->al);
    if (s->ticks == 10) {
        sr_alerter_destroy(s->al);
        uv_close((uv_handle_t *)t, NULL);
    }
}

/* An alerter with nothing due steps once at start and then only when told
 * of new data, not on each of the ten refreshes of that second: a step
 * computes every panel, on the collector's loop. */
Test(alerting, an_idle_alerter_steps_only_on_new_data)
{
    static const char ini[] = "[sitrep]\nrefresh = 100ms\n"
                              "[metric.rt]\nkind = event\nunit = s\nagg = max\nwarn = 100\n"
                              "crit = 200\n"
                              "[panel.response]\nmetric = rt\nentity = north\nwindow = 1h\n";
    sr_config *cfg;
    sr_store *st = open_with(ini, &cfg);
    put(st, sr_now_ms() - SR_MS_MIN, 50); /* under warn: nothing pending */

    uv_loop_t loop;
    cr_assert_eq(uv_loop_init(&loop), 0);
    idle_seen seen = {0};
    sr_alerter_hooks h = {.stepped = idle_stepped, .ctx = &seen, .out_fd = -1, .err_fd = -1};
    cr_assert_eq(sr_alerter_create(&loop, cfg, st, &h, &seen.al), 0);
    uv_timer_init(&loop, &seen.t);
    seen.t.data = &seen;
    uv_timer_start(&seen.t, idle_tick, 100, 100);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
    cr_assert_eq(seen.ticks, 10);
    cr_assert_eq(seen.steps, 2, "stepped %d times in a second", seen.steps);
    sr_store_close(st);
    sr_config_destroy(cfg);
}

/* ---- when = unusual ---- */

/* calls of north: the same two hours of the week, 8 weeks back, 10 to 12
 * calls (week k: 10 + k % 3, so the band is 10-12), then 40 in each of the
 * last two hours before t; one call 10 weeks back, so that every week is
 * history. */
static void put_surge(sr_store *st, sr_ms t)
{
    int seq = 0;
    cr_assert_eq(sr_store_begin(st), 0);
    for (int k = 0; k <= 8; k++) {
        for (int hour = 1; hour <= 2; hour++) {
            sr_ms from = t - k * 7 * SR_MS_DAY - hour * SR_MS_HOUR;
            int count = k == 0 ? 40 : 10 + k % 3;
            for (int i = 0; i < count; i++) {
                char key[32];
                snprintf(key, sizeof key, "c%d", seq++);
                sr_sample s = {"calls", "north/a", from + (i + 1) * (SR_MS_HOUR / (count + 2)), 1,
                               key};
                bool dup;
                cr_assert_eq(sr_store_put(st, &s, &dup), 0);
            }
        }
    }
    sr_sample old = {"calls", "north/a", t - 70 * SR_MS_DAY, 1, "old"};
    bool dup;
    cr_assert_eq(sr_store_put(st, &old, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
}

static const char unusual_config[] =
    "[sitrep]\ncache = cache.db\ntimezone = UTC\n"
    "[metric.calls]\nkind = event\nagg = count\nwarn = 30\ncrit = 100\n"
    "[panel.calls]\nmetric = calls\nentity = north\nwindow = 1h\nwhen = both\n"
    "[alert]\nfor = 1m\n";

/* A surge against a weekly normal: the collector's step raises the
 * panel's unusual alert (after [alert] for) besides its threshold alert,
 * each acknowledged on its own; `sitrep alerts` reads it as unusual. */
Test(alerting, a_surge_raises_the_unusual_alert)
{
    sr_config *cfg = NULL;
    cr_assert_eq(sr_config_parse("t.ini", unusual_config, &cfg, NULL), 0);
    sr_store *st = NULL;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    cr_assert_eq(sr_store_define_metric(st, "calls", SR_KIND_EVENT), 0);
    sr_ms t = 1767225600000LL; /* Thu 2026-01-01T00:00Z: a whole hour */
    put_surge(st, t);

    heard h = {0};
    cr_assert_eq(sr_alerting_step(cfg, st, t, on_alert, &h), 0);
    cr_assert_eq(h.n, 0);
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(st, "calls:1h:unusual@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_PENDING);
    cr_assert_eq(a.kind, SR_ALERT_UNUSUAL);
    cr_assert_eq(sr_alerting_step(cfg, st, t + SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 2);
    cr_assert_str_eq(h.key[0], "calls:1h@north");
    cr_assert_str_eq(h.key[1], "calls:1h:unusual@north");
    cr_assert_eq(h.ev[1], SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_store_alert_get(st, "calls:1h:unusual@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(a.severity, SR_STATUS_WARN);
    cr_assert_eq(a.side, SR_UNUSUAL_HIGH);
    cr_assert_eq(a.value, 40);
    cr_assert_eq(a.band_low, 10);
    cr_assert_eq(a.band_high, 12);
    char val[64], thr[64];
    sr_alerting_format(cfg, &a, "–", val, thr, sizeof val);
    cr_assert_str_eq(val, "40");
    cr_assert_str_eq(thr, "normal 10–12");

    /* acknowledged apart: the threshold alert stays active */
    cr_assert_eq(sr_store_alert_ack(st, "calls:1h:unusual@north", "ana", NULL, t + 2 * SR_MS_MIN),
                 0);
    cr_assert_eq(sr_alerting_step(cfg, st, t + 3 * SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(sr_store_alert_get(st, "calls:1h:unusual@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACKED);
    cr_assert_eq(sr_store_alert_get(st, "calls:1h@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    sr_store_close(st);
    sr_config_destroy(cfg);

    char path[400], *out, *err;
    snprintf(path, sizeof path, "%s/c.ini", dir);
    th_write_file(path, unusual_config);
    char *list[] = {"alerts", "--config", path, NULL};
    cr_assert_eq(th_run(dir, list, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "calls:1h:unusual@north"), "%s", out);
    cr_assert(strstr(out, "normal 10–12"), "%s", out);
    free(out);
    free(err);
    char *json[] = {"alerts", "--format", "json", "--config", path, NULL};
    cr_assert_eq(th_run(dir, json, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"kind\": \"unusual\""), "%s", out);
    cr_assert(strstr(out, "\"kind\": \"threshold\""), "%s", out);
    cr_assert(strstr(out, "\"band_low\": 10.0,"), "%s", out);
    cr_assert(strstr(out, "\"threshold_text\": \"normal 10–12\""), "%s", out);
    free(out);
    free(err);
    char *csv[] = {"alerts", "--format", "csv", "--config", path, NULL};
    cr_assert_eq(th_run(dir, csv, &out, &err), 0, "%s", err);
    static const char header[] =
        "key,panel,metric,entity,severity,state,kind,value,threshold,band_low,band_high,"
        "value_text,threshold_text,raised_at,acked_by,acked_at,note,silenced_until\n";
    cr_assert(strncmp(out, header, strlen(header)) == 0, "%s", out);
    cr_assert(
        strstr(out, "\ncalls:1h@north,calls,calls,north,WARN,active,threshold,38,30,,,38,30,"),
        "%s", out);
    cr_assert(strstr(out, "\ncalls:1h:unusual@north,calls,calls,north,WARN,acked,unusual,38,12,10,"
                          "12,38,normal 10-12,2026-01-01T00:01:00.000Z,ana,"),
              "%s", out);
    free(out);
    free(err);
}

/* `sitrep collect --once` on a cache holding the surge up to now raises the
 * unusual alert and runs [alert] command with its kind and band. */
Test(alerting, collect_gives_the_command_an_unusual_alerts_band)
{
    sr_store *st = NULL;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    cr_assert_eq(sr_store_define_metric(st, "calls", SR_KIND_EVENT), 0);
    put_surge(st, sr_now_ms());
    sr_store_close(st);
    char path[400];
    snprintf(path, sizeof path, "%s/d.csv", dir);
    th_write_file(path, "ts,entity,value\n");
    snprintf(path, sizeof path, "%s/c.ini", dir);
    th_write_file(path, "[sitrep]\ncache = cache.db\n"
                        "[metric.calls]\nkind = event\nagg = count\n"
                        "[adapter.feed]\ntype = csv\npath = d.csv\nmetric = calls\n"
                        "entity = {entity}\nvalue = value\ntime = ts\n"
                        "[panel.calls]\nmetric = calls\nentity = north\nwindow = 1h\n"
                        "when = unusual\n"
                        "[alert]\nfor = 1s\ncommand = /usr/bin/env\n");
    char *argv[] = {"collect", "--once", "--config", path, NULL};
    char *out, *err;
    collect_until_raised(argv, &out, &err);
    cr_assert(strstr(out, "alert raised: calls:1h:unusual@north WARN, value "), "%s", out);
    cr_assert(strstr(out, " (normal 10–12)"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_KEY=calls:1h:unusual@north\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_KIND=unusual\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_SEVERITY=WARN\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_BAND_LOW=10\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_BAND_HIGH=12\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_THRESHOLD=12\n"), "the edge crossed: %s", out);
    free(out);
    free(err);
}

/* A panel turned to when = unusual no longer raises on its thresholds: its
 * raised threshold alert clears at the next step, unless another panel
 * that wants thresholds shows the same condition. */
Test(alerting, a_panel_turned_to_unusual_clears_its_threshold_alert)
{
    sr_config *cfg;
    sr_store *st = open_with("[metric.rt]\nkind = event\nagg = max\nwarn = 100\ncrit = 200\n"
                             "[panel.response]\nmetric = rt\nentity = north\nwindow = 1h\n",
                             &cfg);
    sr_ms t = 1700000000000LL;
    put(st, t - 10 * SR_MS_MIN, 150);
    heard h = {0};
    cr_assert_eq(sr_alerting_step(cfg, st, t - SR_MS_MIN, on_alert, &h), 0); /* pending */
    cr_assert_eq(sr_alerting_step(cfg, st, t, on_alert, &h), 0);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.ev[0], SR_ALERT_EV_RAISED);
    sr_config_destroy(cfg);

    /* another panel of the condition still wants thresholds: it stays */
    cr_assert_eq(sr_config_parse("t.ini",
                                 "[metric.rt]\nkind = event\nagg = max\nwarn = 100\ncrit = 200\n"
                                 "[panel.response]\nmetric = rt\nentity = north\nwindow = 1h\n"
                                 "when = unusual\n"
                                 "[panel.other]\nmetric = rt\nentity = north\nwindow = 1h\n",
                                 &cfg, NULL),
                 0);
    cr_assert_eq(sr_alerting_step(cfg, st, t + SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 1);
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(st, "rt:1h@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    sr_config_destroy(cfg);

    cr_assert_eq(sr_config_parse("t.ini",
                                 "[metric.rt]\nkind = event\nagg = max\nwarn = 100\ncrit = 200\n"
                                 "[panel.response]\nmetric = rt\nentity = north\nwindow = 1h\n"
                                 "when = unusual\n",
                                 &cfg, NULL),
                 0);
    cr_assert_eq(sr_alerting_step(cfg, st, t + 2 * SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.ev[1], SR_ALERT_EV_CLEARED);
    cr_assert_str_eq(h.key[1], "rt:1h@north");
    cr_assert_eq(sr_store_alert_get(st, "rt:1h@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_CLEARED);
    sr_store_close(st);
    sr_config_destroy(cfg);
}
