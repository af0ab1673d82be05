/*
 * End-to-end tests of wall mode (`sitrep --wall`) in a real terminal
 * (tmux): pages rotate on their own; every key is ignored (q, arrows, page
 * keys, Ctrl-C) until the [wall] exit chord, which restores the terminal;
 * SIGTERM and SIGHUP end it cleanly; an active CRIT alert written into the
 * cache by this test process (as the collector would) takes the wall to
 * its page and holds it past several rotations, and acknowledging it (as
 * another viewer would) lets the rotation resume. Every wait polls the
 * pane with a deadline.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../metrics/alerts.h"
#include "../../metrics/common.h"
#include "../../metrics/store.h"
#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static char db[512];
static char pidfile[512];
static tmux_t T;

/* Three pages of one panel each, rotating every second; no source, so the
 * wall (which takes the collector lock) never steps an alert itself. */
static void write_config(const char *sitrep_extra)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s\ntitle = Wall Test\nrefresh = 200ms\n%s"
             "[metric.calls]\nkind = gauge\nlabel = Calls\n"
             "[panel.a]\nmetric = calls\nentity = force\ntitle = Alpha panel\n"
             "[panel.b]\nmetric = calls\ntitle = Bravo panel\n"
             "[panel.c]\nmetric = calls\ntitle = Charlie panel\n"
             "[page.one]\ntitle = Page One\npanels = a\n"
             "[page.two]\ntitle = Page Two\npanels = b\n"
             "[page.three]\ntitle = Page Three\npanels = c\n"
             "[wall]\nrotate = 1s\n",
             db, sitrep_extra);
    th_write_file(cfg, text);
}

static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "wall.ini");
    snprintf(db, sizeof db, "%s/wall.db", dir);
    snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
    write_config("");
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(wall_e2e, .init = setup, .fini = teardown);

/* Starts sitrep in tmux with env (assignments) and args; its pid goes to
 * pidfile; after it exits the shell prints its status and the terminal's
 * modes. */
static void start_with(const char *env, const char *args)
{
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(&T, dir, 120, 30,
                "sh -c 'echo $$ > %s; exec env LANG=C.UTF-8 %s \"%s\" --config \"%s\" %s'\n"
                "echo sitrep-exited rc=$?\n"
                "stty -a | tr -s ' ;' '\\n\\n' | grep -x -e -icanon -e icanon -e echo -e -echo "
                "-e isig -e -isig\n"
                "sleep 60\n",
                pidfile, env, bin, cfg, args);
}

/* `sitrep --wall` */
static void start(void)
{
    start_with("", "--wall");
}

static void wait_for(const char *text, int seconds)
{
    tmux_expect(&T, text, seconds);
}

static void wait_gone(const char *text, int seconds)
{
    cr_assert(tmux_wait_gone(&T, text, seconds), "'%s' stayed; the screen:\n%s", text, T.capture);
}

static long wall_pid(void)
{
    char buf[32] = "";
    FILE *f = fopen(pidfile, "r");
    cr_assert_not_null(f);
    if (!fgets(buf, sizeof buf, f))
        buf[0] = 0;
    fclose(f);
    return strtol(buf, NULL, 10);
}

/* The terminal after sitrep: exited with 0, canonical mode, echo and
 * signals back on, the main screen. */
static void expect_restored(void)
{
    wait_for("sitrep-exited rc=0", 30);
    wait_for("icanon", 30);
    const char *s = tmux_capture(&T);
    cr_assert_null(strstr(s, "-icanon"), "the terminal was left in raw mode:\n%s", s);
    cr_assert_null(strstr(s, "-isig"), "signals were left off:\n%s", s);
    cr_assert(strstr(s, "\necho") || strstr(s, "echo\n"), "echo is off:\n%s", s);
    char alt[16];
    tmux_format(&T, "#{alternate_on}", alt, sizeof alt);
    cr_assert_str_eq(alt, "0", "still on the alternate screen");
}

Test(wall_e2e, pages_rotate_by_themselves)
{
    start();
    wait_for("WALL  page 1/3", 30);
    wait_for("Page One", 30);
    wait_for("Page Two", 30);
    cr_assert(strstr(T.capture, "Bravo panel"), "%s", T.capture);
    wait_for("WALL  page 2/3", 30);
    wait_for("Page Three", 30);
    wait_for("Page One", 30); /* and round again */
    cr_assert_null(strstr(T.capture, "q quit"), "no key hints on a wall:\n%s", T.capture);
    char cursor[16];
    tmux_format(&T, "#{cursor_flag}", cursor, sizeof cursor);
    cr_assert_str_eq(cursor, "0", "the cursor is hidden");
}

Test(wall_e2e, keys_are_ignored_and_the_chord_exits)
{
    start();
    wait_for("WALL  page", 30);
    tmux_keys(&T, "q Q Left Right Up Down Tab 2 3 Enter BSpace Escape s a e ? C-c C-z C-\\\\");
    /* the keys are read at once; two more turns of the page show it still runs */
    wait_for("Page Two", 30);
    wait_for("Page Three", 30);
    cr_assert_null(strstr(T.capture, "sitrep-exited"), "a key ended it:\n%s", T.capture);
    cr_assert_null(strstr(T.capture, "this help"), "the help opened:\n%s", T.capture);
    cr_assert_null(strstr(T.capture, "Sources ·"), "the sources view opened:\n%s", T.capture);
    tmux_keys(&T, "C-x");
    tmux_keys(&T, "x q"); /* broken: ctrl-x then x */
    wait_for("Page One", 30);
    cr_assert_null(strstr(T.capture, "sitrep-exited"), "a wrong chord ended it:\n%s", T.capture);
    tmux_keys(&T, "C-x q");
    expect_restored();
}

static void signal_ends_it(int sig)
{
    start();
    wait_for("WALL  page", 30);
    long pid = wall_pid();
    cr_assert_gt(pid, 0);
    cr_assert_eq(kill((pid_t)pid, sig), 0);
    expect_restored();
}

Test(wall_e2e, sigterm_ends_it_cleanly)
{
    signal_ends_it(SIGTERM);
}

Test(wall_e2e, sighup_ends_it_cleanly)
{
    signal_ends_it(SIGHUP);
}

/* Puts an alert of panel c in CRIT, active, into the cache. */
static void put_crit_at(sr_store *st, const char *panel, const char *entity)
{
    sr_alert a;
    cr_assert_eq(sr_alert_init(&a, panel, "calls", 8 * SR_MS_HOUR, entity), 0);
    a.state = SR_ALERT_ACTIVE;
    a.severity = SR_STATUS_CRIT;
    a.raised_at_ms = sr_now_ms();
    a.value = 99;
    a.threshold = 50;
    cr_assert_eq(sr_store_alert_put(st, &a), 0, "%s", sr_store_errmsg(st));
}

static void put_crit(sr_store *st)
{
    put_crit_at(st, "c", "");
}

Test(wall_e2e, a_crit_alert_holds_its_page_until_acknowledged)
{
    start();
    wait_for("WALL  page 1/3", 30);
    wait_for("Page One", 30);
    sr_store *st;
    char err[256] = "";
    cr_assert_eq(sr_store_open(db, 0, &st, err, sizeof err), 0, "%s", err);
    put_crit(st);
    wait_for("WALL  held: CRIT Charlie panel", 30);
    cr_assert(strstr(T.capture, "Page Three"), "%s", T.capture);
    /* held: the page stays through several rotation periods (1s each) */
    th_deadline d = th_deadline_in(4 * 1000);
    d.step_ms = 100;
    do {
        const char *s = tmux_capture(&T);
        cr_assert(strstr(s, "Page Three") && strstr(s, "held: CRIT"), "the hold ended:\n%s", s);
    } while (th_poll(&d));
    /* acknowledged elsewhere: the hold ends and the pages turn again */
    char key[SR_ALERT_KEY_MAX];
    cr_assert_eq(sr_alert_key("calls", 8 * SR_MS_HOUR, "", key, sizeof key), 0);
    cr_assert_eq(sr_store_alert_ack(st, key, "tester", "seen", sr_now_ms()), 0);
    wait_gone("held: CRIT", 30);
    wait_for("Page One", 30);
    wait_for("Page Two", 30);
    sr_store_close(st);
    tmux_keys(&T, "C-x q");
    expect_restored();
}

/* Ingests one value of metric for the entity force, a minute old, with `sitrep ingest`. */
static void ingest_value(const char *metric, double value)
{
    char csv[600], text[256], when[64];
    snprintf(csv, sizeof csv, "%s/%s.csv", dir, metric);
    time_t t = time(NULL) - 60;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(text, sizeof text, "metric,entity,ts,value\n%s,force,%s,%g\n", metric, when, value);
    th_write_file(csv, text);
    char *out = NULL, *errs = NULL;
    char *argv[] = {"ingest", "--config", cfg, csv, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &errs), 0, "%s%s", out, errs);
    free(out);
    free(errs);
}

Test(wall_e2e, values_in_large_numerals)
{
    ingest_value("calls", 4812);
    start();
    wait_for("Alpha panel", 30);
    /* 4 812 in five rows of blocks: the top row of 4, 8, 1, 2 */
    wait_for("█ █   ███  █  ███", 30);
    cr_assert(strstr(T.capture, "███ ███ ███"), "%s", T.capture);
}

/* The screen s says nothing that only someone at the keys would need: not
 * the windows' arrangement ("own windows") nor the role the process plays. */
static void expect_no_operator_words(const char *s)
{
    cr_assert_null(strstr(s, "own windows"), "%s", s);
    cr_assert_null(strstr(s, "viewer"), "%s", s);
    cr_assert_null(strstr(s, "collector"), "%s", s);
}

/* The status bar says what a reader from afar needs. */
Test(wall_e2e, no_viewer_or_own_windows_on_the_status_bar)
{
    start();
    wait_for("WALL  page 1/3", 30);
    wait_for("sources", 30);
    const char *s = tmux_capture(&T);
    expect_no_operator_words(s);
    tmux_keys(&T, "C-x q");
    expect_restored();
}

/*
 * One page of nine tiles of open cases (5 346 in the cache), three to a
 * row, at width x height: each tile's figure in large numerals with its
 * unit after it, five rows of full blocks at 160x48, three rows of half
 * blocks at 80x24, where five do not fit; and nothing on the status bar
 * that only someone at the keys would need.
 */
static void nine_tiles_at(int width, int height, const char *baseline)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s\ntitle = Wall Test\nrefresh = 200ms\n"
             "[metric.cases]\nkind = gauge\nunit = cases\nlabel = Open cases\n"
             "[panel.a]\nmetric = cases\n[panel.b]\nmetric = cases\n[panel.c]\nmetric = cases\n"
             "[panel.d]\nmetric = cases\n[panel.e]\nmetric = cases\n[panel.f]\nmetric = cases\n"
             "[panel.g]\nmetric = cases\n[panel.h]\nmetric = cases\n[panel.i]\nmetric = cases\n"
             "[page.one]\ntitle = Page One\npanels = a, b, c, d, e, f, g, h, i\ncolumns = 3\n",
             db);
    th_write_file(cfg, text);
    ingest_value("cases", 5346);
    start();
    tmux_resize(&T, width, height);
    wait_for(baseline, 30);
    const char *s = tmux_capture(&T);
    const char *first = strstr(s, baseline);
    cr_assert(first && strstr(first + 1, baseline) &&
                  strstr(strstr(first + 1, baseline) + 1, baseline),
              "not in every tile of the row:\n%s", s);
    expect_no_operator_words(s);
    tmux_keys(&T, "C-x q");
    expect_restored();
}

Test(wall_e2e, large_numerals_with_their_unit_at_160x48)
{
    nine_tiles_at(160, 48, "███   ███   █ ███ cases");
}

Test(wall_e2e, large_numerals_with_their_unit_at_80x24)
{
    nine_tiles_at(80, 24, "▀▀▀   ▀▀▀   ▀ ▀▀▀ cases");
}

Test(wall_e2e, a_role_with_wall_yes_starts_in_wall_mode)
{
    FILE *f = fopen(cfg, "a");
    cr_assert_not_null(f);
    fputs("[role.wallboard]\nusers = wallboard\nwall = yes\n", f);
    fclose(f);
    start_with("SITREP_TEST_USER=wallboard", "");
    wait_for("WALL  page 1/3", 30);
    tmux_keys(&T, "q");
    wait_for("Page Two", 30);
    cr_assert_null(strstr(T.capture, "sitrep-exited"), "q ended it:\n%s", T.capture);
    tmux_keys(&T, "C-x q");
    expect_restored();
    /* and whoami says so */
    char *out = NULL, *errs = NULL;
    char *argv[] = {"whoami", "--config", cfg, NULL};
    setenv("SITREP_TEST_USER", "wallboard", 1);
    cr_assert_eq(th_run(NULL, argv, &out, &errs), 0, "%s", errs);
    unsetenv("SITREP_TEST_USER");
    cr_assert(strstr(out, "wall         yes (the dashboard starts in wall mode)"), "%s", out);
    free(out);
    free(errs);
}

/* A role without personal data (the default role) is neither held on nor
 * shown the page of an alert it may not see: Charlie's alert is on an
 * officer; both alerts are in the cache before the wall reads them. */
Test(wall_e2e, a_withheld_alert_does_not_hold_the_wall)
{
    write_config("levels = force, officer\npersonal = officer\n");
    sr_store *st;
    char err[256] = "";
    cr_assert_eq(sr_store_open(db, 0, &st, err, sizeof err), 0, "%s", err);
    put_crit_at(st, "c", "force/pc_smith");
    put_crit_at(st, "b", "");
    sr_store_close(st);
    start();
    wait_for("WALL  held: CRIT Bravo panel", 30);
    const char *s = tmux_capture(&T);
    cr_assert(strstr(s, "Page Two"), "%s", s);
    cr_assert_null(strstr(s, "pages in CRIT"), "the withheld alert holds a page too:\n%s", s);
    cr_assert_null(strstr(s, "pc_smith"), "%s", s);
    tmux_keys(&T, "C-x q");
    expect_restored();
}
