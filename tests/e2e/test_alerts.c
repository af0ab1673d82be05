/*
 * End-to-end test of alerts with acknowledgement, as the acceptance
 * describes it: one `sitrep collect` whose thresholds make the simulator
 * raise alerts at once ([alert] for = 1s), and three dashboards (viewers)
 * in their own tmux, each as a different user (SITREP_TEST_USER) with a
 * different role: chief may acknowledge, analyst may not, a third user has
 * no role (default, may not). The alert shows in every status bar; the
 * analyst is refused; the chief acknowledges with a note; the other two
 * show it acknowledged, with the note, without a key; `sitrep audit` lists
 * the acknowledgement. Every wait polls with a deadline.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "../../metrics/store.h"
#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static char db[512];
static tmux_t A, B, C;
static tmux_t *const T[3] = {&A, &B, &C};
static pid_t collector;

/* The default config polling every second with a one-day backfill, P1's
 * thresholds lowered far below what the simulator produces, and roles. */
static void setup(void)
{
    tmux_setup(&A, dir, sizeof dir, cfg, sizeof cfg, "sim.ini");
    snprintf(db, sizeof db, "%s/sim.db", dir);
    th_sim_config(cfg, db,
                  "-e 's/^interval = 5s/interval = 1s/' -e 's/^warn = 900$/warn = 60/' "
                  "-e 's/^crit = 1200$/crit = 120/'",
                  "\n[alert]\nfor = 1s\n[role.chief]\nusers = ann\nacknowledge = yes\n"
                  "[role.analyst]\nusers = bob\n[role.auditor]\nusers = aud\naudit = yes\n");
    memset(&B, 0, sizeof B);
    memset(&C, 0, sizeof C);
    collector = 0;
}

static void teardown(void)
{
    th_reap(&collector);
    tmux_stop(&B);
    tmux_stop(&C);
    tmux_teardown(&A, dir);
}

TestSuite(alerts_e2e, .init = setup, .fini = teardown);

static void start_dashboard(tmux_t *t, const char *user)
{
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(t, dir, 160, 30,
                "SITREP_TEST_USER=%s SITREP_TEST_GROUPS= '%s' --config '%s'\nsleep 60\n", user, bin,
                cfg);
}

/* Runs sitrep as user (SITREP_TEST_USER); asserts it succeeds. */
static void run_as(const char *user, char *argv[], char **out, char **err)
{
    char *was = getenv("SITREP_TEST_USER") ? strdup(getenv("SITREP_TEST_USER")) : NULL;
    setenv("SITREP_TEST_USER", user, 1);
    int rc = th_run(NULL, argv, out, err);
    if (was)
        setenv("SITREP_TEST_USER", was, 1);
    else
        unsetenv("SITREP_TEST_USER");
    free(was);
    cr_assert_eq(rc, 0, "%s", *err);
}

/* sitrep audit as a role that may read it (audit = yes). */
static void read_audit(char **out, char **err)
{
    char *argv[] = {"audit", "--config", cfg, NULL};
    run_as("aud", argv, out, err);
}

Test(alerts_e2e, acknowledged_in_one_viewer_seen_in_the_others)
{
    char out_file[600];
    snprintf(out_file, sizeof out_file, "%s/collect.out", dir);
    /* the dashboards must find the collector there: else one of them collects */
    th_collector(&collector, cfg, db, out_file);

    static const char *const users[3] = {"ann", "bob", "cid"};
    for (int i = 0; i < 3; i++)
        start_dashboard(T[i], users[i]);
    /* every status bar: a viewer, counting the crit alerts */
    for (int i = 0; i < 3; i++) {
        tmux_expect(T[i], "sources · viewer", 30);
        tmux_expect(T[i], " crit ", 30);
    }
    for (int i = 0; i < 3; i++) {
        tmux_keys(T[i], "a");
        tmux_expect(T[i], "Alerts · ", 10);
        tmux_expect(T[i], "active", 10);
    }

    /* no acknowledge in the role: refused, naming the role */
    tmux_keys(T[1], "Enter");
    tmux_expect(T[1], "not allowed: the role analyst may not acknowledge alerts", 10);
    tmux_keys(T[2], "Enter");
    tmux_expect(T[2], "not allowed: the role default may not acknowledge alerts", 10);

    /* the chief: Enter, a note, Enter */
    tmux_keys(T[0], "Enter");
    tmux_expect(T[0], "note (Enter confirms, Esc cancels): _", 10);
    tmux_keys(T[0], "'unit 7 on scene'");
    tmux_expect(T[0], "note (Enter confirms, Esc cancels): unit 7 on scene_", 10);
    tmux_keys(T[0], "Enter");
    tmux_expect(T[0], "acknowledged ", 10);
    tmux_expect(T[0], "as ann: unit 7 on scene", 10);
    tmux_expect(T[0], "acked by ", 10);

    /* the other two see it without a key: who and the note */
    for (int i = 1; i < 3; i++) {
        tmux_expect(T[i], "acked by ", 15);
        tmux_expect(T[i], "ann (SITREP_TEST_USER)", 15);
        tmux_expect(T[i], "unit 7 on scene", 15);
        tmux_expect(T[i], " 1 acked  ", 15); /* the status bar counts it apart */
    }

    /* the audit table has it: who, which role, what */
    char *out, *err;
    read_audit(&out, &err);
    cr_assert(strstr(out, "as ann (SITREP_TEST_USER)"), "%s", out);
    cr_assert(strstr(out, " chief "), "%s", out);
    cr_assert(strstr(out, "acknowledge"), "%s", out);
    cr_assert(strstr(out, ": unit 7 on scene"), "%s", out);
    /* the refusals wrote nothing */
    cr_assert_null(strstr(out, "bob"), "%s", out);
    free(out);
    free(err);

    /* the collector's next commits (polls, alert steps) keep the acknowledgement */
    sr_store *st;
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &st, NULL, 0), 0);
    int64_t v0, v;
    cr_assert_eq(sr_store_data_version(st, &v0), 0);
    th_deadline d = tmux_deadline(30);
    for (int moves = 0; moves < 3;) {
        cr_assert_eq(sr_store_data_version(st, &v), 0);
        if (v != v0) {
            moves++;
            v0 = v;
        }
        cr_assert(moves == 3 || th_poll(&d), "the collector stopped writing");
    }
    sr_alert *a;
    size_t n;
    cr_assert_eq(sr_store_alert_list(st, SR_ALERT_BIT(SR_ALERT_ACKED), &a, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(a[0].note, "unit 7 on scene");
    free(a);
    sr_store_close(st);
    for (int i = 0; i < 3; i++)
        cr_assert(strstr(tmux_capture(T[i]), "acked by "), "%s", T[i]->capture);
}

/* A dashboard alone collects, and then steps the alerts itself (a viewer
 * never does); m silences the selected alert for the duration typed. */
Test(alerts_e2e, a_collecting_dashboard_steps_alerts_and_silences)
{
    start_dashboard(T[0], "ann");
    tmux_expect(T[0], "sources · collector", 30);
    tmux_expect(T[0], " crit ", 30);
    tmux_keys(T[0], "a");
    tmux_expect(T[0], "active", 10);
    tmux_keys(T[0], "m");
    tmux_expect(T[0], "for (15m 1h 4h 8h ...; Enter confirms, Esc cancels): 1h_", 10);
    tmux_keys(T[0], "BSpace BSpace x");
    tmux_expect(T[0], "Esc cancels): x_", 10);
    tmux_keys(T[0], "Enter");
    tmux_expect(T[0], "not a duration: 'x'", 10);
    /* the duration, then the reason as an acknowledgement's note */
    tmux_keys(T[0], "m BSpace BSpace 2 h Enter");
    tmux_expect(T[0], "for 2h, reason (Enter confirms, Esc cancels): _", 10);
    tmux_keys(T[0], "r o a d w o r k s Enter");
    tmux_expect(T[0], "silenced until ", 10);
    /* the confirmation gives the end as the table does: "until 14:30" */
    tmux_expect(T[0], ": roadworks", 10);
    const char *s = tmux_capture(T[0]);
    const char *c = strstr(s, "for 2h, until ");
    cr_assert_not_null(c, "%s", s);
    char until[32];
    snprintf(until, sizeof until, "silenced until %.5s", c + strlen("for 2h, until "));
    cr_assert(strstr(s, until), "the table does not say '%s':\n%s", until, s);
    /* Esc cancels without writing */
    tmux_keys(T[0], "Down Enter o k Escape");
    tmux_expect(T[0], " cancelled", 10);

    char *out, *err;
    read_audit(&out, &err);
    cr_assert(strstr(out, "silence ") && strstr(out, " for 2h, until "), "%s", out);
    cr_assert(strstr(out, ": roadworks"), "the reason is audited: %s", out);
    cr_assert_null(strstr(out, "acknowledge "), "%s", out);
    free(out);
    free(err);
}

/* P1 over its crit threshold is one condition: the tile p1 and the
 * histogram p1_spread show the same metric, entity and window, so the
 * alerts view lists one alert (named after p1), not one per panel; once it
 * is acknowledged, the P1 tile says so beside its CRIT. */
Test(alerts_e2e, one_alert_for_two_panels_and_the_ack_on_the_tile)
{
    start_dashboard(T[0], "ann");
    tmux_expect(T[0], "sources · collector", 30);
    tmux_expect(T[0], " crit ", 30);
    cr_assert_null(strstr(tmux_capture(T[0]), "acked"), "%s", T[0]->capture);
    tmux_keys(T[0], "a");
    tmux_expect(T[0], "Emergency response P1", 10);
    const char *s = tmux_capture(T[0]);
    cr_assert_null(strstr(s, "P1 response times"), "a second alert for one condition:\n%s", s);

    char *ack[] = {"ack", "response_p1:8h", "--note", "on it", "--config", cfg, NULL};
    char *out, *err;
    run_as("ann", ack, &out, &err);
    cr_assert(strstr(out, "acknowledged response_p1:8h as ann"), "%s", out);
    free(out);
    free(err);
    tmux_expect(T[0], "acked by ", 15);
    tmux_keys(T[0], "a");
    tmux_expect(T[0], "acked \xe2\x9c\x96 CRIT", 15); /* "acked ✖ CRIT" on the P1 tile */
}

/* "/" in the alerts view: the alerts whose panel or entity holds the text
 * remain, Enter then acts on the one selected among them, and Esc clears
 * the filter before it closes the view. */
Test(alerts_e2e, slash_filters_the_alerts_view)
{
    start_dashboard(T[0], "ann");
    tmux_expect(T[0], "sources · collector", 30);
    tmux_expect(T[0], " crit ", 30);
    tmux_keys(T[0], "a");
    tmux_expect(T[0], "Emergency response P1", 10);
    tmux_keys(T[0], "/ z z q");
    tmux_expect(T[0], "filter: zzq_", 10);
    cr_assert(tmux_wait_gone(T[0], "Emergency response P1", 10), "%s", T[0]->capture);
    tmux_keys(T[0], "BSpace BSpace BSpace E m e r g Enter");
    tmux_expect(T[0], "filter: Emerg  (Esc clears it)", 10);
    tmux_expect(T[0], "Emergency response P1", 10);
    tmux_keys(T[0], "Enter"); /* acknowledge the selected one among those shown */
    tmux_expect(T[0], "acknowledge response_p1:8h, note", 10);
    tmux_keys(T[0], "Escape");
    tmux_expect(T[0], " cancelled", 10);
    tmux_keys(T[0], "Escape"); /* the filter goes first; the view stays */
    cr_assert(tmux_wait_gone(T[0], "filter:", 10), "%s", T[0]->capture);
    cr_expect(strstr(T[0]->capture, "Alerts"), "%s", T[0]->capture);
}
