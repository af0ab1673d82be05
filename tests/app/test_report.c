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

static char dir[256];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
}

static void teardown(void)
{
    th_rmtree(dir);
}

TestSuite(report, .init = setup, .fini = teardown);

/*
 * The shift before 08:00Z on 1 May 2024 is [00:00Z, 08:00Z); the one before
 * it [16:00Z, 00:00Z). rt (mean, warn 600, crit 900): 600 and 800 -> 700 =
 * 11m40s, WARN; before: 400 and 600 -> 500 = 8m20s; +40.0%. calls (sum):
 * 10 + 20 = 30; before 40; -25.0%. A sample at 08:00Z is after the window.
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
                              "rt,force/a,2024-04-30T17:00:00Z,400\n"
                              "rt,force/b,2024-04-30T23:00:00Z,600\n"
                              "rt,force/a,2024-05-01T01:00:00Z,600\n"
                              "rt,force/b,2024-05-01T07:59:00Z,800\n"
                              "rt,force/a,2024-05-01T08:00:00Z,5000\n"
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
    cr_assert(strstr(out, "| Panel | Value | Status | Previous shift | Change |\n"), "%s", out);
    cr_assert(strstr(out, "| Response time | 11m40s | WARN | 8m20s | +40.0% |\n"), "%s", out);
    cr_assert(strstr(out, "| Calls | 30 | - | 40 | -25.0% |\n"), "%s", out);
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
               "## Alerts\n\n- CRIT rt:1h: acked since 2024-05-01 07:00, value 15m50s (threshold "
               "15m00s); acknowledged by ann: inspector \\| on it\n"),
        "%s", out);
    free(out);
    free(err);
}

/* --shift sets the shift; a value it cannot take is a usage error. */
Test(report, shift_option_and_json_fields)
{
    char cfg[512], *out, *err;
    ingest(cfg, sizeof cfg);
    char *md[] = {
        "snapshot", "--format", "markdown", "--config", cfg, "--at", "2024-05-01T08:00:00Z",
        "--shift",  "4h",       NULL};
    cr_assert_eq(th_run(NULL, md, &out, &err), 0, "%s", err);
    /* [04:00Z, 08:00Z): rt 800 only; before [00:00Z, 04:00Z): 600; calls 20 against 10 */
    cr_assert(strstr(out, "| Response time | 13m20s | WARN | 10m00s | +33.3% |\n"), "%s", out);
    cr_assert(strstr(out, "| Calls | 20 | - | 10 | +100.0% |\n"), "%s", out);
    free(out);
    free(err);

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
    cr_assert(strstr(out, "rt,\"Response time\",rt,,avg,1h,800,s,WARN,1,,,,"), "%s", out);
    free(out);
    free(err);

    char *bad[] = {"snapshot", "--format", "markdown", "--config", cfg, "--shift", "8 hours", NULL};
    cr_assert_eq(th_run(NULL, bad, &out, &err), 2);
    cr_assert(strstr(err, "--shift: expected a duration"), "%s", err);
    free(out);
    free(err);
}
