/*
 * The shift report (app/report.c) through the real binary: a small fixture
 * with known values ingested into a real cache, then `sitrep snapshot
 * --format markdown|json --at TIME`; the table rows, status words, change
 * against the previous shift and the never-polled source are checked
 * against values worked out by hand.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/store.h"
#include "../helpers.h"

/* a fresh folder for each test, dir */
TH_TEMPDIR_SUITE(report, dir);

/*
 * The shift before 08:00Z on 1 May 2024 is [00:00Z, 08:00Z); the one before
 * it [16:00Z, 00:00Z). rt (mean, warn 600, crit 900): 600 and 800 -> 700 =
 * 11m40s, WARN; before: 400 and 600 -> 500 = 8m20s; +40.0%. calls (sum):
 * 10 + 20 = 30; before 40; -25.0%. A sample at 08:00Z is after the window;
 * those at 15:00Z are before the shift before, so that its figures are of
 * the whole of it (a change against a window the data begins inside is not
 * told: metrics/panel.h, prev_partial).
 */
static const char ini[] = "[sitrep]\n"
                          "cache = r.db\n"
                          "title = Test | Force\n"
                          "timezone = Europe/London\n"
                          "[metric.rt]\nkind = event\nunit = s\nagg = avg\nwarn = 600\ncrit = 900\n"
                          "[metric.calls]\nkind = counter\n"
                          "[adapter.cad]\ntype = sim\n"
                          "[panel.rt]\ntitle = Response time\nmetric = rt\nwindow = 1h\n"
                          "[panel.calls]\ntitle = Calls\nmetric = calls\nwindow = 1h\n";

static const char samples[] = "metric,entity,ts,value\n"
                              "rt,force/a,2024-04-30T15:00:00Z,1000\n"
                              "rt,force/a,2024-04-30T17:00:00Z,400\n"
                              "rt,force/b,2024-04-30T23:00:00Z,600\n"
                              "rt,force/a,2024-05-01T01:00:00Z,600\n"
                              "rt,force/b,2024-05-01T07:59:00Z,800\n"
                              "rt,force/a,2024-05-01T08:00:00Z,5000\n"
                              "calls,force/a,2024-04-30T15:00:00Z,5\n"
                              "calls,force/a,2024-04-30T20:00:00Z,40\n"
                              "calls,force/a,2024-05-01T02:00:00Z,10\n"
                              "calls,force/b,2024-05-01T06:00:00Z,20\n";

static void ingest(char *cfg, size_t len)
{
    char data[512], *out, *err;
    snprintf(cfg, len, "%s/r.ini", dir);
    snprintf(data, sizeof data, "%s/samples.csv", dir);
    th_write_file(cfg, ini);
    th_write_file(data, samples);
    char *argv[] = {"ingest", "--config", cfg, data, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    free(out);
    free(err);
}

Test(report, markdown_has_every_panel_against_the_previous_shift)
{
    char cfg[512], *out, *err;
    ingest(cfg, sizeof cfg);
    char *argv[] = {
        "snapshot", "--format", "markdown", "--config", cfg, "--at", "2024-05-01T08:00:00Z", NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "# Shift handover: Test \\| Force\n"), "%s", out);
    /* 08:00Z is 09:00 BST */
    cr_assert(strstr(out, "- As of: 2024-05-01 09:00 (Europe/London)\n"), "%s", out);
    cr_assert(strstr(out, "- Shift: 2024-05-01 01:00 to 2024-05-01 09:00 (8h)\n"), "%s", out);
    cr_assert(
        strstr(out, "- Compared with the shift before: 2024-04-30 17:00 to 2024-05-01 01:00\n"),
        "%s", out);
    cr_assert(strstr(out, "| Panel | Window | Value | Status | Previous window | Change |\n"), "%s",
              out);
    cr_assert(strstr(out, "| Response time | 8h | 11m40s | WARN | 8m20s | +40.0% |\n"), "%s", out);
    cr_assert(strstr(out, "| Calls | 8h | 30 | - | 40 | -25.0% |\n"), "%s", out);
    cr_assert(strstr(out, "## Sources\n\n- cad (sim): late, last success never (not polled yet)\n"),
              "%s", out);
    cr_assert(strstr(out, "## Alerts\n\nNo alert is open.\n"), "%s", out);
    free(out);
    free(err);

    /* an alert the collector raised, acknowledged in a viewer with a note */
    char db[512];
    snprintf(db, sizeof db, "%s/r.db", dir);
    sr_store *st;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    sr_alert a;
    cr_assert_eq(sr_alert_init(&a, "rt", "rt", SR_MS_HOUR, ""), 0);
    a.state = SR_ALERT_ACTIVE;
    a.severity = SR_STATUS_CRIT;
    a.raised_at_ms = 1714543200000LL; /* 06:00Z = 07:00 in London */
    a.value = 950;
    a.threshold = 900;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_alert_put(st, &a), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sr_store_alert_ack(st, a.key, "ann", "inspector | on it", 1714546800000LL), 0);
    sr_store_close(st);
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(
        strstr(out,
               "## Alerts\n\n- CRIT Response time: acked, raised 2024-05-01 07:00, value 15m50s "
               "(threshold 15m00s); acknowledged by ann at 2024-05-01 08:00: inspector \\| on "
               "it\n"),
        "%s", out);
    free(out);
    free(err);

    /* an unusual alert reads as such: its band, not a threshold */
    sr_metric_def calls;
    sr_metric_def_init(&calls, "calls");
    cr_assert_eq(
        sr_alert_init_unusual(&a, "calls", &calls, (sr_agg){SR_AGG_VALUE, 0}, SR_MS_HOUR, ""), 0);
    sr_alert_params par = {.for_ms = 0, .hysteresis = 0.05};
    cr_assert_eq(sr_alert_step_unusual(&a, &par, SR_UNUSUAL_HIGH, 40, 10, 12, 1714543200000LL),
                 SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_alert_put(st, &a), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(
        strstr(out, "- WARN Calls: active, raised 2024-05-01 07:00, value 40 (normal 10–12)\n"),
        "%s", out);
    free(out);
    free(err);
}

/* The Markdown report of cfg at 08:00Z on 1 May 2024 with --shift shift;
 * the caller frees it. */
static char *markdown_at_8(const char *cfg, const char *shift)
{
    char *out, *err;
    char *argv[] = {"snapshot",
                    "--format",
                    "markdown",
                    "--config",
                    (char *)cfg,
                    "--at",
                    "2024-05-01T08:00:00Z",
                    "--shift",
                    (char *)shift,
                    NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    free(err);
    return out;
}

/* --shift sets the shift; a value it cannot take is a usage error. */
Test(report, shift_option_and_json_fields)
{
    char cfg[512], *out, *err;
    ingest(cfg, sizeof cfg);
    out = markdown_at_8(cfg, "4h");
    /* [04:00Z, 08:00Z): rt 800 only; before [00:00Z, 04:00Z): 600; calls 20 against 10 */
    cr_assert(strstr(out, "| Response time | 4h | 13m20s | WARN | 10m00s | +33.3% |\n"), "%s", out);
    cr_assert(strstr(out, "| Calls | 4h | 20 | - | 10 | +100.0% |\n"), "%s", out);
    free(out);
    /* [20:00Z, 08:00Z) against [08:00Z, 20:00Z), which the data begins
     * inside (15:00Z): no change told, as the screen says "prev partial" */
    out = markdown_at_8(cfg, "12h");
    const char *row = strstr(out, "| Calls | 12h | 70 | - | 5 | ");
    cr_assert(row, "%s", out);
    cr_assert(strncmp(strchr(row, '\n') - 5, "| - |", 5) == 0, "%s", out);
    free(out);

    char *js[] = {"snapshot", "--format", "json", "--config", cfg, "--at", "2024-05-01T08:00:00Z",
                  "--shift",  "8h",       NULL};
    cr_assert_eq(th_run(NULL, js, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"shift\": \"8h\""), "%s", out);
    cr_assert(strstr(out, "\"window\": \"8h\""), "%s", out);
    cr_assert(strstr(out, "\"change_pct\": 40.0"), "%s", out);
    cr_assert(strstr(out, "\"source\": \"cad\""), "%s", out);
    free(out);
    free(err);

    /* without --shift, json keeps each panel's own window */
    char *own[] = {"snapshot", "--format", "csv", "--config", cfg, "--at", "2024-05-01T08:00:00Z",
                   NULL};
    cr_assert_eq(th_run(NULL, own, &out, &err), 0, "%s", err);
    /* quoted only where RFC 4180 needs it (csvout.h) */
    cr_assert(strstr(out, "rt,Response time,rt,,avg,1h,800,s,WARN,1,,,,"), "%s", out);
    free(out);
    free(err);

    char *bad[] = {"snapshot", "--format", "markdown", "--config", cfg, "--shift", "8 hours", NULL};
    cr_assert_eq(th_run(NULL, bad, &out, &err), 2);
    cr_assert(strstr(err, "--shift: expected a duration"), "%s", err);
    free(out);
    free(err);
}

/*
 * A cache crafted through the store API, as the collector would leave it
 * with the default config's P1 panels: a tile and a histogram of one
 * metric (one row, not two), a 4-week overtime panel (its own 28 days, not
 * the shift's 8 hours), one live source ("one source", not "All 1
 * sources"), and the alerts by their panels' titles, a silence with its
 * end and reason.
 */
Test(report, markdown_of_a_crafted_cache)
{
    char cfg[512], db[512];
    snprintf(cfg, sizeof cfg, "%s/h.ini", dir);
    snprintf(db, sizeof db, "%s/h.db", dir);
    th_write_file(cfg, "[sitrep]\ncache = h.db\ntitle = Handover\ntimezone = UTC\n"
                       "[metric.p1]\nkind = event\nunit = s\nagg = max\nwarn = 600\ncrit = 900\n"
                       "[metric.overtime]\nkind = counter\nunit = h\n"
                       "[adapter.cad]\ntype = sim\n"
                       "[panel.p1]\ntitle = Emergency response P1\nmetric = p1\nwindow = 8h\n"
                       "[panel.p1_spread]\ntitle = P1 response times\nmetric = p1\nwindow = 8h\n"
                       "widget = histogram\n"
                       "[panel.overtime]\ntitle = Overtime hours, last 4 weeks\n"
                       "metric = overtime\nwindow = 28d\n");
    const sr_ms at = 1714550400000LL; /* 2024-05-01T08:00:00Z */
    sr_store *st;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    cr_assert_eq(sr_store_define_metric(st, "p1", SR_KIND_EVENT), 0);
    cr_assert_eq(sr_store_define_metric(st, "overtime", SR_KIND_COUNTER), 0);
    const sr_sample s[] = {
        {"p1", "force/a", at - 2 * SR_MS_HOUR, 1000, NULL},
        {"overtime", "force/a", at - 10 * SR_MS_DAY, 100, NULL},
        {"overtime", "force/a", at - SR_MS_HOUR, 25, NULL},
    };
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        cr_assert_eq(sr_store_put(st, &s[i], &dup), 0);
    sr_source_health h = {
        .name = "cad", .type = "sim", .last_poll_ms = sr_now_ms(), .last_ok_ms = sr_now_ms()};
    cr_assert_eq(sr_store_source_put(st, &h), 0);
    sr_alert a;
    cr_assert_eq(sr_alert_init(&a, "p1", "p1", 8 * SR_MS_HOUR, ""), 0);
    a.state = SR_ALERT_ACTIVE;
    a.severity = SR_STATUS_CRIT;
    a.raised_at_ms = at - 2 * SR_MS_HOUR;
    a.value = 1000;
    a.threshold = 900;
    cr_assert_eq(sr_store_alert_put(st, &a), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sr_store_alert_silence(st, a.key, "roadworks", at + SR_MS_HOUR, at - SR_MS_HOUR),
                 0);
    sr_store_close(st);

    char *out = markdown_at_8(cfg, "8h");
    cr_assert(strstr(out, "| Emergency response P1 | 8h | 16m40s | CRIT |"), "%s", out);
    cr_assert_null(strstr(out, "| P1 response times |"), "the same figure twice:\n%s", out);
    cr_assert(strstr(out, "| Overtime hours, last 4 weeks | 28d | 125 h |"), "%s", out);
    cr_assert(strstr(out, "## Sources\n\nThe one source is live.\n"), "%s", out);
    cr_assert(strstr(out, "- CRIT Emergency response P1: silenced until 2024-05-01 09:00, raised "
                          "2024-05-01 06:00, value 16m40s (threshold 15m00s): roadworks\n"),
              "%s", out);
    cr_assert_null(strstr(out, "p1:8h"), "an alert by its key:\n%s", out);
    free(out);
}
