/*
 * End-to-end tests of the mouse in a real terminal (tmux, 300 columns):
 * sitrep asks for button-event tracking (DEC 1002) with SGR coordinates
 * (DEC 1006), whatever the terminal's terminfo entry says of the mouse, so
 * that a click beyond column 223 still reaches it with the right column.
 * The click is written to the pane as the terminal would (an SGR press and
 * release at column 250); Enter then drills into the focused panel, which
 * must be the one under that column. And "/" as in htop: typing filters
 * the rows of the focused table by name, Esc clears it. Every wait polls
 * the pane.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static tmux_t T;

/* The test's config: three panels side by side (at 300 columns the third
 * spans 200-299), with the adapter sections `adapters` ("" for none). */
static void write_config(const char *adapters)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s/mouse.db\ntitle = Mouse Test\n"
             "[metric.calls]\nkind = gauge\nlabel = Calls\n%s"
             "[panel.a]\nmetric = calls\ntitle = Alpha panel\n"
             "[panel.b]\nmetric = calls\ntitle = Bravo panel\n"
             "[panel.c]\nmetric = calls\ntitle = Charlie panel\n"
             "[page.one]\ntitle = Page One\npanels = a, b, c\ncolumns = 3\n",
             dir, adapters);
    th_write_file(cfg, text);
}

static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "mouse.ini");
    write_config("");
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(mouse_e2e, .init = setup, .fini = teardown);

/* Starts sitrep at 300x48 under the terminal type term. */
static void start(const char *term)
{
    char bin[1024], cmd[2048];
    th_sitrep_abs(bin, sizeof bin);
    snprintf(cmd, sizeof cmd, "env TERM=%s LANG=C.UTF-8 '%s' --config '%s'", term, bin, cfg);
    tmux_start(&T, 300, 48, cmd);
    tmux_expect(&T, "Charlie panel", 30);
}

/* The pane's mouse modes as tmux tracks them. */
static void expect_modes(void)
{
    char f[128];
    tmux_format(&T, "btn=#{mouse_button_flag} all=#{mouse_all_flag} sgr=#{mouse_sgr_flag}", f,
                sizeof f);
    cr_expect_str_eq(f, "btn=1 all=0 sgr=1", "tmux sees the pane's mouse modes as %s", f);
}

/* A left click at 1-based column x, row y, as an SGR terminal reports it. */
static void click(int x, int y)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "tmux -L %s send-keys -t t -l \"$(printf '\\033[<0;%d;%dM\\033[<0;%d;%dm')\"", T.sock,
             x, y, x, y);
    cr_assert_eq(tmux_sh(cmd), 0, "%s", cmd);
}

static void click_focuses_the_panel_at_column_250(const char *term)
{
    start(term);
    expect_modes();
    click(250, 10);
    tmux_keys(&T, "Enter");
    /* the drill view's frame is titled by the focused panel */
    tmux_expect(&T, "Charlie panel ·", 10);
    cr_expect(!strstr(T.capture, "Alpha panel"), "%s", T.capture);
}

/* xterm-256color announces SGR itself (kmous \E[<, XM with 1006). */
Test(mouse_e2e, click_at_column_250_under_xterm_256color)
{
    click_focuses_the_panel_at_column_250("xterm-256color");
}

/* Quitting hands the terminal back with no mouse mode left on. */
Test(mouse_e2e, quitting_ends_the_mouse_modes)
{
    start("tmux-256color");
    expect_modes();
    tmux_keys(&T, "q");
    tmux_expect_dead(&T, 60); /* a loaded machine (CI) exits slower */
    char f[128];
    tmux_format(&T, "any=#{mouse_any_flag} sgr=#{mouse_sgr_flag}", f, sizeof f);
    cr_expect_str_eq(f, "any=0 sgr=0");
}

/* tmux-256color (TERM inside tmux and screen) announces only X10
 * reports (kmous \E[M), which cannot say a column past 223. */
Test(mouse_e2e, click_at_column_250_under_tmux_256color)
{
    click_focuses_the_panel_at_column_250("tmux-256color");
}

/* "/" in the drill view's table: typed text keeps the rows whose name
 * holds it (either case), Backspace widens it again, Esc clears it. */
Test(mouse_e2e, slash_filters_the_rows_of_a_table)
{
    char csv[600], text[512];
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    long now = (long)time(NULL);
    snprintf(text, sizeof text,
             "metric,entity,ts,value\ncalls,force/north,%ld,1\ncalls,force/south,%ld,2\n"
             "calls,force/northeast,%ld,3\n",
             now - 60, now - 60, now - 60);
    th_write_file(csv, text);
    th_ingest(cfg, csv, 0);
    start("xterm-256color");
    tmux_keys(&T, "Enter");
    tmux_expect(&T, "northeast", 10);
    tmux_expect(&T, "south", 10);
    tmux_keys(&T, "/ N o r");
    tmux_expect(&T, "filter: Nor_", 10);
    cr_assert(tmux_wait_gone(&T, "south", 10), "%s", T.capture);
    cr_expect(strstr(T.capture, "northeast"), "%s", T.capture);
    cr_expect(strstr(T.capture, "north "), "%s", T.capture);
    tmux_keys(&T, "t h e");
    cr_assert(tmux_wait_gone(&T, "north ", 10), "only northeast holds 'northe': %s", T.capture);
    tmux_keys(&T, "BSpace BSpace BSpace");
    tmux_expect(&T, "north ", 10);
    tmux_keys(&T, "Enter");
    tmux_expect(&T, "filter: Nor  (Esc clears it)", 10);
    cr_expect(!strstr(T.capture, "south"), "the filter stays after Enter: %s", T.capture);
    tmux_keys(&T, "Escape");
    tmux_expect(&T, "south", 10);
    cr_expect(!strstr(T.capture, "filter:"), "%s", T.capture);
    cr_expect(strstr(T.capture, "Alpha panel ·"), "Esc cleared the filter, not the drill-down: %s",
              T.capture);
}

/* "/" in the sources view: the sources whose name holds the text remain,
 * and Enter acts on the one selected among them (its rejected rows). */
Test(mouse_e2e, slash_filters_the_sources_view)
{
    write_config("[adapter.alpha]\ntype = exec\ninterval = 1h\ncommand = /bin/true\n"
                 "[adapter.bravo]\ntype = exec\ninterval = 1h\ncommand = /bin/true\n"
                 "[adapter.charlie]\ntype = exec\ninterval = 1h\ncommand = /bin/true\n");
    start("xterm-256color");
    tmux_keys(&T, "s");
    tmux_expect(&T, "charlie", 15);
    tmux_expect(&T, "alpha", 15);
    tmux_keys(&T, "/ b r a");
    tmux_expect(&T, "filter: bra_", 10);
    cr_assert(tmux_wait_gone(&T, "alpha", 10), "only bravo holds 'bra': %s", T.capture);
    cr_expect(!strstr(T.capture, "charlie"), "%s", T.capture);
    cr_expect(strstr(T.capture, "bravo"), "%s", T.capture);
    tmux_keys(&T, "Enter");
    tmux_expect(&T, "filter: bra  (Esc clears it)", 10);
    tmux_keys(&T, "Enter"); /* the selected source among those shown: bravo */
    tmux_expect(&T, "Rejected rows", 10);
    cr_expect(strstr(T.capture, "Rejected rows · bravo"), "%s", T.capture);
    tmux_keys(&T, "Escape"); /* back to the sources, the filter gone with the view */
    tmux_expect(&T, "alpha", 10);
    tmux_expect(&T, "charlie", 10);
}
