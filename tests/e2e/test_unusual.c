/*
 * The demo's surge read as a person reads it (issue 15's acceptance): the
 * shipped config.ini, whose simulator surges district-7, over 29 days of
 * history (four weeks for the baseline), in a real terminal. The tile of
 * the surging region reads "unusual ▲", and the force's breakdown sorted
 * by unusual (key u) puts south first, and south's puts district-7 first.
 *
 * The history is collected by the release binary (`collect --once`, about
 * 15 s) so that the suite under the sanitizers does not spend minutes
 * simulating it; the dashboard is the binary under test.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static tmux_t T;

static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "sim.ini");
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(unusual_e2e, .init = setup, .fini = teardown, .timeout = 240);

/* The first row under the breakdown's NAME header of screen s, into buf. */
static void first_row(const char *s, char *buf, size_t len)
{
    const char *h = strstr(s, "NAME ");
    cr_assert_not_null(h, "no breakdown:\n%s", s);
    const char *r = strchr(h, '\n');
    cr_assert_not_null(r, "%s", s);
    r++;
    size_t n = strcspn(r, "\n");
    snprintf(buf, len, "%.*s", (int)n, r);
}

/* Waits until the breakdown's first row holds want, for at most seconds. */
static void expect_first(const char *want, int seconds)
{
    char row[512] = "";
    th_deadline d = tmux_deadline(seconds);
    while (th_poll(&d)) {
        const char *s = tmux_capture(&T);
        if (strstr(s, "NAME ")) {
            first_row(s, row, sizeof row);
            if (strstr(row, want))
                return;
        }
    }
    cr_assert_fail("the first row is not %s: '%s'; the screen:\n%s", want, row, T.capture);
}

/* The breakdown's first row is marked above its band (OUTSIDE ▲). */
static void expect_first_above(void)
{
    char row[512];
    first_row(tmux_capture(&T), row, sizeof row);
    cr_assert(strstr(row, "▲"), "the first row is not above its band: '%s'\n%s", row, T.capture);
}

Test(unusual_e2e, the_surging_district_is_unusual_and_comes_first)
{
    th_sim_config(cfg, "sim.db", "-e 's/^backfill = 1d/backfill = 29d/'",
                  "[panel.calls_south]\nmetric = calls\nentity = force/south\nwindow = 1h\n"
                  "baseline = yes\ntitle = Calls in the south\n"
                  "[page.surge]\ntitle = Surge\npanels = calls_south, calls_now\ncolumns = 2\n");
    const char *rel = getenv("SITREP_RELEASE_BIN");
    char *out, *err;
    char *argv[] = {"collect", "--once", "--config", cfg, NULL};
    int rc = th_run_with(NULL, rel ? rel : "./sitrep", NULL, NULL, argv, &out, &err);
    cr_assert_eq(rc, 0, "collect --once: %s%s", out, err);
    free(out);
    free(err);

    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(&T, dir, 160, 48, "LANG=C.UTF-8 '%s' --config '%s'\nsleep 60\n", bin, cfg);
    tmux_expect(&T, "Emergency response P1", 30);
    tmux_keys(&T, "4"); /* the page of the two calls tiles */
    tmux_expect(&T, "Calls in the south", 10);
    tmux_expect(&T, "unusual ▲", 30);
    const char *s = tmux_capture(&T);
    cr_assert(strstr(s, "normal "), "no band on the tiles:\n%s", s);

    /* the force's calls: its breakdown, most unusual first */
    tmux_keys(&T, "Tab");
    tmux_keys(&T, "Enter");
    tmux_expect(&T, "NAME ", 20);
    tmux_keys(&T, "u");
    tmux_expect(&T, "OUTSIDE", 30);
    expect_first("south", 30);
    expect_first_above();
    tmux_keys(&T, "Enter"); /* down into south, still sorted by unusual */
    tmux_expect(&T, "district-", 30);
    expect_first("district-7", 30);
    expect_first_above();
}
