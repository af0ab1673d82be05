/*
 * End-to-end tests of roles and privacy on a real terminal (tmux): two
 * dashboards on one cache under two roles (SITREP_TEST_USER). The manager
 * sees the unit's total with its officers' rows hidden, and Enter below
 * the unit is refused with the reason in the hint line; the commander
 * drills to the officers and to one officer's records, and each view of
 * them adds one audit row (not one per frame). Every wait polls with a
 * deadline.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../helpers.h"
#include "tmux.h"

static char dir[256], cfg[512];
static tmux_t T;

static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "t.ini");
    th_write_file(cfg, TH_PRIVACY_SITREP "refresh = 200ms\n"
                                         "[metric.ot]\n"
                                         "kind = counter\n"
                                         "unit = h\n"
                                         "label = Overtime\n"
                                         "[panel.ot_unit]\n"
                                         "metric = ot\n"
                                         "entity = force/north/d1/u1\n"
                                         "widget = table\n"
                                         "window = 7d\n"
                                         "[page.main]\n"
                                         "panels = ot_unit\n" TH_PRIVACY_ROLES "[role.manager]\n"
                                         "users = mgr\n"
                                         "drill = unit\n");
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "metric,entity,ts,value\n");
    th_privacy_officers(text, sizeof text, o);
    th_ingest_text(cfg, text, 0);
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(privacy_e2e, .init = setup, .fini = teardown);

static void start_as(const char *user)
{
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(&T, dir, 160, 24, "SITREP_TEST_USER=%s '%s' --config '%s'\nsleep 60\n", user, bin,
                cfg);
}

static void wait_pane(const char *text)
{
    tmux_expect(&T, text, 30);
}

/* Runs sitrep audit --format fmt as a role that may read it (audit = yes). */
static void audit_run(const char *fmt, char **out, char **err)
{
    char *argv[] = {"audit", "--format", (char *)fmt, "--config", cfg, NULL};
    setenv("SITREP_TEST_USER", "auditor", 1);
    int rc = th_run(NULL, argv, out, err);
    unsetenv("SITREP_TEST_USER");
    cr_assert_eq(rc, 0, "%s", *err);
}

static int audit_rows(void)
{
    char *out, *err;
    audit_run("json", &out, &err);
    json_error_t je;
    json_t *a = json_loads(out, 0, &je);
    cr_assert_not_null(a, "%s", out);
    int n = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *act = json_string_value(json_object_get(json_array_get(a, i), "action"));
        n += act && strcmp(act, "view-personal") == 0;
    }
    json_decref(a);
    free(out);
    free(err);
    return n;
}

/* Waits until the audit holds want view-personal rows. */
static void wait_audit(int want)
{
    th_deadline d = tmux_deadline(30);
    int n;
    while ((n = audit_rows()) < want)
        cr_assert(th_poll(&d), "%d audit rows, expected %d", n, want);
    cr_assert_eq(n, want);
}

/* The clock in the status bar ("05:13:34"), to tell frames apart. */
static void clock_text(char *buf, size_t len)
{
    const char *c = tmux_capture(&T);
    const char *p = strchr(c, ':');
    snprintf(buf, len, "%.8s", p && p - c >= 2 ? p - 2 : "");
}

Test(privacy_e2e, manager_cannot_drill_to_officers)
{
    start_as("mgr");
    wait_pane("3 rows hidden: officer is personal data, which role manager may not see");
    cr_assert_null(strstr(T.capture, " o1 "), "%s", T.capture);
    tmux_keys(&T, "Enter");
    wait_pane("Overtime · force/north/d1/u1");
    /* its rows computed (the officers withheld), so that Enter has a row
     * to act on: a key before them did nothing under load */
    wait_pane("rows hidden: officer is personal data");
    tmux_keys(&T, "Enter");
    wait_pane("cannot drill below force/north/d1/u1: officer is personal data, which role "
              "manager may not see");
    cr_assert_eq(audit_rows(), 0, "nothing personal was shown");
}

Test(privacy_e2e, commander_drills_to_an_officer_and_is_audited)
{
    start_as("cmd");
    wait_pane("o1 ");
    cr_assert_null(strstr(T.capture, "rows hidden"), "%s", T.capture);
    wait_audit(1); /* the grid panel's officer rows */
    tmux_keys(&T, "Enter");
    wait_pane("Overtime · force/north/d1/u1");
    wait_audit(2); /* the breakdown by officer */
    tmux_keys(&T, "Enter");
    wait_pane("latest observations (newest first)");
    wait_pane("Overtime · force/north/d1/u1/o1");
    wait_audit(3); /* one officer's records */

    /* more frames of the same view add no row */
    char c0[16], c1[16];
    clock_text(c0, sizeof c0);
    th_deadline d = tmux_deadline(30);
    do
        clock_text(c1, sizeof c1);
    while (strcmp(c0, c1) == 0 && th_poll(&d));
    cr_assert_str_neq(c1, c0, "the clock never moved:\n%s", T.capture);
    cr_assert_eq(audit_rows(), 3, "one row per view opened");

    char *out, *err;
    audit_run("text", &out, &err);
    cr_assert(strstr(out, "entity force/north/d1/u1/o1"), "%s", out);
    cr_assert(strstr(out, "commander"), "%s", out);
    free(out);
    free(err);
}

/*
 * Percentile trends under "no percentile over fewer than 10": a quiet
 * metric (6 an hour) keeps its trend on the tile and in the breakdown by
 * pooling slices, the chart says how much a point pools; a metric with 5
 * observations in the window says its percentiles are hidden instead of
 * "no data".
 */
static void setup_pooled(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "t.ini");
    th_write_file(cfg, "[sitrep]\n"
                       "cache = cache.db\n"
                       "refresh = 200ms\n"
                       "levels = force, region, district\n"
                       "[metric.p1]\n"
                       "kind = event\n"
                       "unit = s\n"
                       "label = Emergency P1\n"
                       "agg = p90\n"
                       "[metric.rare]\n"
                       "kind = event\n"
                       "unit = s\n"
                       "label = Rare calls\n"
                       "agg = p90\n"
                       "[panel.p1]\n"
                       "metric = p1\n"
                       "widget = tile\n"
                       "window = 8h\n"
                       "[panel.rare]\n"
                       "metric = rare\n"
                       "widget = chart\n"
                       "window = 8h\n"
                       "[page.main]\n"
                       "panels = p1, rare\n"
                       "[role.viewer]\n"
                       "users = v\n");
    char text[8192];
    long now = (long)time(NULL);
    size_t o = (size_t)snprintf(text, sizeof text, "metric,entity,ts,value\n");
    static const char *const regions[] = {"force/north/d1", "force/south/d1"};
    for (int r = 0; r < 2; r++) {
        for (int k = 0; k < 24; k++) /* one every 20 minutes for 8 hours */
            o += (size_t)snprintf(text + o, sizeof text - o, "p1,%s,%ld,%d\n", regions[r],
                                  now - 300L - 1200L * k, 300 + 17 * k + 5 * r);
    }
    for (int k = 0; k < 5; k++)
        o += (size_t)snprintf(text + o, sizeof text - o, "rare,force/north/d1,%ld,%d\n",
                              now - 3600L * (k + 1), 100 + k);
    th_ingest_text(cfg, text, 0);
}

/* Whether the pane shows a sparkline cell anywhere. */
static bool has_spark(const char *screen)
{
    static const char *const spark[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    for (size_t i = 0; i < 8; i++) {
        if (strstr(screen, spark[i]))
            return true;
    }
    return false;
}

TestSuite(pooled_e2e, .init = setup_pooled, .fini = teardown);

Test(pooled_e2e, quiet_percentiles_keep_their_trend)
{
    start_as("v");
    wait_pane("percentiles hidden: <10 per point; zoom out (-)"); /* the rare chart */
    wait_pane("Emergency P1");
    cr_assert(has_spark(T.capture), "the P1 tile has its sparkline:\n%s", T.capture);
    cr_assert_null(strstr(T.capture, "no data"), "%s", T.capture);

    tmux_keys(&T, "Enter"); /* the P1 breakdown by region */
    wait_pane("each point pools");
    wait_pane("north");
    cr_assert(strstr(T.capture, "south"), "%s", T.capture);
    cr_assert_null(strstr(T.capture, "n<10"), "the regions' trends are shown:\n%s", T.capture);
    cr_assert(has_spark(T.capture), "the TREND column:\n%s", T.capture);
    cr_assert_null(strstr(T.capture, "no data"), "%s", T.capture);
}
