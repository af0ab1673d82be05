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

static char dir[256];
static char db[300];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/cache.db", dir);
}

static void teardown(void)
{
    th_rmtree(dir);
}

TestSuite(alerting, .init = setup, .fini = teardown);

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
    cr_assert_eq(sr_store_alert_get(st, "response@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_PENDING);
    /* avg is not the metric's own aggregate: no thresholds, no row */
    cr_assert_eq(sr_store_alert_get(st, "average", &a), SR_ENOENT);

    cr_assert_eq(sr_alerting_step(cfg, st, t + 2 * SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.ev[0], SR_ALERT_EV_RAISED);
    cr_assert_str_eq(h.key[0], "response@north");

    sr_store *viewer = NULL;
    cr_assert_eq(sr_store_open(db, 0, &viewer, NULL, 0), 0);
    cr_assert_eq(sr_store_alert_ack(viewer, "response@north", "ana", "seen", t + 3 * SR_MS_MIN), 0);
    cr_assert_eq(sr_alerting_step(cfg, st, t + 4 * SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(sr_store_alert_get(st, "response@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACKED);
    cr_assert_str_eq(a.note, "seen");

    put(st, t + 5 * SR_MS_MIN, 250);
    cr_assert_eq(sr_alerting_step(cfg, st, t + 6 * SR_MS_MIN, on_alert, &h), 0);
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.ev[1], SR_ALERT_EV_ESCALATED);
    cr_assert_eq(sr_store_alert_get(viewer, "response@north", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(a.severity, SR_STATUS_CRIT);

    /* both samples leave the window: no data changes nothing */
    cr_assert_eq(sr_alerting_step(cfg, st, t + 2 * SR_MS_HOUR, on_alert, &h), 0);
    cr_assert_eq(h.n, 2);
    sr_store_close(viewer);
    sr_store_close(st);
    sr_config_destroy(cfg);
}

/* `sitrep collect` runs [alert] command on a raise, with the alert in its
 * environment; a command that cannot start is logged, not fatal. */
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
    char *out = NULL, *err = NULL;
    sr_ms deadline = sr_now_ms() + 20 * SR_MS_SEC;
    bool raised = false;
    while (!raised && sr_now_ms() < deadline) {
        free(out);
        free(err);
        cr_assert_eq(th_run(dir, argv, &out, &err), 0, "%s", err);
        raised = strstr(out, "SITREP_ALERT_EVENT=raised") != NULL;
    }
    cr_assert(raised, "%s", out);
    cr_assert(strstr(out, "alert raised: response WARN, value 170 (threshold 100)"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_KEY=response\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_SEVERITY=WARN\n"), "%s", out);
    cr_assert(strstr(out, "\nSITREP_ALERT_VALUE=170\n"), "%s", out);
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
    cr_assert(strstr(out, "alert escalated: response CRIT"), "%s", out);
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
    cr_assert(strstr(out, "alert cleared: response"), "%s", out);
    cr_assert(strstr(err, "alert command /nonexistent/notify: no such file or directory"), "%s",
              err);
    free(out);
    free(err);
}
