/*
 * End-to-end tests of a screen that never waits on a computation: the
 * dashboard's panel computes run on the libuv pool. The test build's
 * SITREP_TEST_COMPUTE_GATE=FILE holds every compute on its worker until
 * FILE exists, so what the screen does while computes are in flight is
 * seen whatever the machine's speed: keys and the clock answer, a panel
 * never computed says `updating`, and a panel being computed again keeps
 * its last figures with the `updating` mark until the new ones land. The
 * cache is filled by `sitrep ingest`; the dashboard has no source. Every
 * wait polls the pane with a deadline.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static char gate[512];
static tmux_t T;

static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "b.ini");
    snprintf(gate, sizeof gate, "%s/gate", dir);
    char text[1024];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s/b.db\ntitle = Busy test\nrefresh = 1s\n"
             "[metric.calls]\nkind = counter\nlabel = Calls\n"
             "[panel.calls]\nmetric = calls\ntitle = Calls panel\nwindow = 1h\n",
             dir);
    th_write_file(cfg, text);
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(busy_e2e, .init = setup, .fini = teardown);

/* Ingests one sample of calls, ago seconds old. */
static void ingest(const char *entity, int ago, int value)
{
    char csv[600], text[256];
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    snprintf(text, sizeof text, "metric,entity,ts,value\ncalls,%s,%ld,%d\n", entity,
             (long)time(NULL) - ago, value);
    th_write_file(csv, text);
    th_ingest(cfg, csv, 0);
}

/* Starts the dashboard in tmux with the compute gate (and env, "" for none). */
static void start(const char *env)
{
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(&T, dir, 120, 30,
                "LANG=C.UTF-8 SITREP_TEST_COMPUTE_GATE='%s' %s '%s' --config '%s'\nsleep 60\n",
                gate, env, bin, cfg);
}

/* The pane's first line (the status bar, with the clock). */
static void status_line(char *buf, size_t len)
{
    const char *s = tmux_capture(&T);
    size_t n = strcspn(s, "\n");
    snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), s);
}

Test(busy_e2e, keys_and_the_clock_answer_while_every_compute_is_held)
{
    ingest("force/a", 120, 1200);
    start("");
    /* the frame and a placeholder, never a blank, while the compute is held */
    tmux_expect(&T, "Calls panel", 30);
    tmux_expect(&T, "updating", 30);
    cr_assert_null(strstr(T.capture, "1 200"), "computed through the gate:\n%s", T.capture);

    /* a key answers: the help overlay opens, and closes with any key */
    tmux_keys(&T, "?");
    tmux_expect(&T, "this help", 30);
    tmux_keys(&T, "x");
    cr_assert(tmux_wait_gone(&T, "this help", 30), "the help never closed:\n%s", T.capture);
    /* the clock moves */
    char first[512], now[512];
    status_line(first, sizeof first);
    th_deadline d = tmux_deadline(30);
    do
        status_line(now, sizeof now);
    while (strcmp(now, first) == 0 && th_poll(&d));
    cr_assert_str_neq(now, first, "the clock stood still");
    /* all that while the compute was still held */
    tmux_capture(&T);
    cr_assert_null(strstr(T.capture, "1 200"), "computed through the gate:\n%s", T.capture);
    cr_assert(strstr(T.capture, "updating"), "%s", T.capture);

    /* the gate opens: the figures land, the mark goes */
    th_write_file(gate, "");
    tmux_expect(&T, "1 200", 30);
    cr_assert(tmux_wait_gone(&T, "updating", 30), "still updating:\n%s", T.capture);
}

Test(busy_e2e, a_panel_computed_again_keeps_its_figures_marked_updating)
{
    ingest("force/a", 120, 1200);
    th_write_file(gate, "");
    start("");
    tmux_expect(&T, "1 200", 30);
    cr_assert(tmux_wait_gone(&T, "updating", 30), "still updating:\n%s", T.capture);

    /* new data while the gate is closed: the last figures stay, marked */
    cr_assert_eq(unlink(gate), 0);
    ingest("force/b", 60, 34);
    tmux_expect(&T, "updating", 30);
    cr_assert(strstr(T.capture, "1 200"), "the last figures went:\n%s", T.capture);
    cr_assert_null(strstr(T.capture, "1 234"), "computed through the gate:\n%s", T.capture);
    /* keys still answer */
    tmux_keys(&T, "?");
    tmux_expect(&T, "this help", 30);
    tmux_keys(&T, "x");
    cr_assert(tmux_wait_gone(&T, "this help", 30), "the help never closed:\n%s", T.capture);

    th_write_file(gate, "");
    tmux_expect(&T, "1 234", 30);
    cr_assert(tmux_wait_gone(&T, "updating", 30), "still updating:\n%s", T.capture);
}

/* The counts file's lines so far, and the calls panel's computes in the
 * last one (-1 when none). */
static size_t read_counts(const char *counts, long *computes)
{
    FILE *f = fopen(counts, "r");
    size_t lines = 0;
    long c;
    long long st;
    char line[256];
    *computes = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "statements=%lld calls=%ld", &st, &c) == 2) {
            *computes = c;
            lines++;
        }
    }
    if (f)
        fclose(f);
    return lines;
}

Test(busy_e2e, a_model_computed_for_the_old_window_is_dropped)
{
    /* 1h: 1 200; 8h: 1 234 */
    ingest("force/a", 1800, 1200);
    ingest("force/b", 3 * 3600, 34);
    char counts[600], env[700];
    snprintf(counts, sizeof counts, "%s/counts.txt", dir);
    snprintf(env, sizeof env, "SITREP_TEST_COUNTS='%s'", counts);
    start(env);
    tmux_expect(&T, "updating", 30);
    /* the 1h compute is held; the window changes under it */
    tmux_keys(&T, "-");
    tmux_expect(&T, "last 8h", 30);
    th_write_file(gate, "");
    tmux_expect(&T, "1 234", 30);
    cr_assert(tmux_wait_gone(&T, "updating", 30), "still updating:\n%s", T.capture);
    /* a refresh tick after the landing counts the models swapped in: the
     * 8h one only, the 1h one was dropped when it came back */
    long n;
    size_t seen = read_counts(counts, &n);
    th_deadline d = tmux_deadline(30);
    while (read_counts(counts, &n) <= seen)
        cr_assert(th_poll(&d), "no refresh tick in %s", counts);
    cr_assert_eq(n, 1, "the panel's model was swapped in %ld times (counts in %s)", n, counts);
}

/* Four panels side by side at 80 columns: frames of 20. While a panel's
 * first compute is held its frame keeps its title whole ("updating" is
 * said inside it), where the mark used to take the title's room. */
Test(busy_e2e, a_narrow_frame_keeps_its_title_while_updating)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s/b.db\ntitle = Busy test\nrefresh = 1s\n"
             "[metric.calls]\nkind = counter\nlabel = Calls\n"
             "[panel.calls]\nmetric = calls\ntitle = Calls panel\nwindow = 1h\n"
             "[panel.two]\nmetric = calls\ntitle = Second one\nwindow = 8h\n"
             "[panel.three]\nmetric = calls\ntitle = Third one\nwindow = 24h\n"
             "[panel.four]\nmetric = calls\ntitle = Fourth one\nwindow = 7d\n"
             "[page.all]\npanels = calls, two, three, four\ncolumns = 4\n",
             dir);
    th_write_file(cfg, text);
    ingest("force/a", 120, 1200);
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(&T, dir, 80, 24,
                "LANG=C.UTF-8 SITREP_TEST_COMPUTE_GATE='%s' '%s' --config '%s'\nsleep 60\n", gate,
                bin, cfg);
    /* every compute is held until the gate opens: each title must show in
     * the meantime (the screen may still be drawing when the first shows) */
    static const char *const titles[] = {"Calls panel", "Second one", "Third one", "Fourth one"};
    for (size_t i = 0; i < 4; i++)
        tmux_expect(&T, titles[i], 30);
    cr_assert(strstr(T.capture, "updating"), "%s", T.capture);
    cr_assert_null(strstr(T.capture, "1 200"), "computed through the gate:\n%s", T.capture);
    th_write_file(gate, "");
    tmux_expect(&T, "1 200", 30);
    for (size_t i = 0; i < 4; i++)
        cr_assert(strstr(T.capture, titles[i]), "%s lost its title:\n%s", titles[i], T.capture);
}
