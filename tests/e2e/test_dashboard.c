/*
 * End-to-end tests of the dashboard in a real terminal (tmux on its own
 * socket): what a person sees at 160x48 and 80x24, drilling down two levels
 * and back, zoom and shift, help, resize, LANG=C, NO_COLOR, an entity whose
 * name holds escape sequences, quitting leaving the terminal sane, and the
 * sources view (s) with a source's rejected rows, at both sizes, and the
 * shift report written by key e.
 * Every wait polls the pane for the expected text with a deadline.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/common.h"
#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static tmux_t T;

/* The default config with a one-day backfill and a cache in the test's dir. */
static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "sim.ini");
    th_sim_config(cfg, "sim.db", NULL, NULL);
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(e2e, .init = setup, .fini = teardown);

/* Starts sitrep in tmux; after it exits the shell prints its status and
 * whether the terminal is back in canonical mode with echo. */
static void start(int w, int h, const char *env)
{
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(&T, dir, w, h,
                "env %s '%s' --config '%s'\n"
                "echo sitrep-exited rc=$?\n"
                "stty -a | tr -s ' ;' '\\n\\n' | grep -x -e -icanon -e icanon -e echo -e -echo\n"
                "sleep 60\n",
                env ? env : "", bin, cfg);
}

static void wait_for(const char *text, int seconds)
{
    tmux_expect(&T, text, seconds);
}

Test(e2e, overview_at_160x48)
{
    start(160, 48, "LANG=C.UTF-8");
    wait_for("Emergency response P1", 30);
    wait_for("Demo Police", 30);
    wait_for("1/1 sources", 30);
    /* the figures land from the compute pool: until then panels say updating */
    cr_assert(tmux_wait_gone(&T, "updating", 30), "%s", tmux_capture(&T));
    const char *s = tmux_capture(&T);
    cr_assert(strstr(s, "Urgent response P2"), "%s", s);
    cr_assert(strstr(s, "Open cases"), "%s", s);
    cr_assert(strstr(s, "Budget execution"), "%s", s);
    cr_assert(strstr(s, "┌"), "no line drawing in UTF-8:\n%s", s);
    cr_assert(strstr(s, "OK") || strstr(s, "WARN") || strstr(s, "CRIT"), "no status word:\n%s", s);
}

Test(e2e, overview_at_80x24)
{
    start(80, 24, "LANG=C.UTF-8");
    wait_for("Emergency", 30);
    wait_for("1/1 sources", 30);
    const char *s = tmux_capture(&T);
    cr_assert_null(strstr(s, "enlarge"), "%s", s);
    cr_assert(strstr(s, "Open cases"), "%s", s);
}

/* Every size from 160x48 down to the minimum shows panels with their
 * values and statuses: a grid, fewer columns, one panel at a time, or the
 * compact list; never only the status and hint lines. */
static void shows_values_at(int w, int h)
{
    start(w, h, "LANG=C.UTF-8");
    wait_for("p90 ", 30); /* a panel's value */
    /* the first panel's title, once its figures are in (a frame too narrow for
     * the title and "updating" drops the title: the tiles with baselines land last) */
    wait_for("Emergency", 30);
    const char *s = tmux_capture(&T);
    cr_assert_null(strstr(s, "enlarge"), "%dx%d:\n%s", w, h, s);
    cr_assert(strstr(s, "Emergency"), "%dx%d: no first panel:\n%s", w, h, s);
    cr_assert(strstr(s, "OK") || strstr(s, "WARN") || strstr(s, "CRIT"), "%dx%d: no status:\n%s", w,
              h, s);
}

Test(e2e, values_at_160x48)
{
    shows_values_at(160, 48);
}

Test(e2e, values_at_80x24)
{
    shows_values_at(80, 24);
}

Test(e2e, values_at_60x20)
{
    shows_values_at(60, 20);
}

Test(e2e, values_at_60x16)
{
    shows_values_at(60, 16);
}

Test(e2e, values_at_50x14_one_panel_at_a_time)
{
    shows_values_at(50, 14);
    wait_for("1/9 Emergency response P1", 30);
    tmux_keys(&T, "Tab");
    wait_for("2/9 Urgent response P2", 30);
    cr_assert(tmux_wait_gone(&T, "Emergency", 30), "%s", T.capture);
    tmux_keys(&T, "BTab");
    wait_for("1/9 Emergency", 30);
}

Test(e2e, values_at_40x10_as_a_list)
{
    shows_values_at(40, 10);
    wait_for("Urgent response P2", 30); /* a line per panel */
    wait_for("Open cases", 30);
    /* the list follows the focus past its last line */
    for (int i = 0; i < 8; i++)
        tmux_keys(&T, "Tab");
    wait_for("Calls for service", 30);
}

/* With alerts of both severities the status bar at 60 columns is wider
 * than the terminal: it is cut, never left blank. */
Test(e2e, status_bar_with_alerts_at_60x20)
{
    th_sim_config(cfg, "sim.db",
                  "-e 's/^interval = 5s/interval = 1s/' -e 's/^warn = 900$/warn = 60/' "
                  "-e 's/^crit = 1200$/crit = 120/' -e 's/^warn = 3600$/warn = 60/'",
                  "\n[alert]\nfor = 1s\n");
    start(60, 20, "LANG=C.UTF-8");
    wait_for("p90 ", 30);
    wait_for(" crit ", 30);
    wait_for(" warn ", 30);
    wait_for("SITREP", 30);
}

Test(e2e, drill_down_two_levels_and_back)
{
    start(160, 48, "LANG=C.UTF-8");
    wait_for("Emergency response P1", 30);
    wait_for("1/1 sources", 30);
    tmux_keys(&T, "Enter");
    wait_for("north", 30); /* the force by region, worst first */
    wait_for("› force", 30);
    tmux_keys(&T, "Enter");
    wait_for("district-", 30); /* the worst region by district */
    tmux_keys(&T, "BSpace");
    cr_assert(tmux_wait_gone(&T, "district-", 30), "%s", T.capture);
    wait_for("north", 30);
    tmux_keys(&T, "BSpace");
    wait_for("Urgent response P2", 30); /* the grid again */
}

Test(e2e, zoom_shift_and_live)
{
    start(160, 48, "LANG=C.UTF-8");
    wait_for("Emergency response P1", 30);
    tmux_keys(&T, "-");
    wait_for("all panels: last 24h", 30);
    tmux_keys(&T, "+");
    tmux_keys(&T, "+");
    wait_for("all panels: last 1h", 30);
    tmux_keys(&T, "[");
    wait_for("HISTORY to ", 30);
    tmux_keys(&T, "0");
    cr_assert(tmux_wait_gone(&T, "HISTORY", 30), "%s", T.capture);
    cr_assert(tmux_wait_gone(&T, "all panels", 30), "each panel's own window: %s", T.capture);
}

Test(e2e, help_overlay)
{
    start(160, 48, "LANG=C.UTF-8");
    wait_for("Emergency response P1", 30);
    tmux_keys(&T, "?");
    wait_for("drill down", 30);
    wait_for("zoom the window", 30);
    tmux_keys(&T, "x");
    cr_assert(tmux_wait_gone(&T, "zoom the window", 30), "%s", T.capture);
}

/* The help wraps its lines, never cuts them, explains the symbols and
 * names the pages; F1 opens it and F10 quits, as in htop. */
Test(e2e, help_wraps_explains_the_symbols_and_names_the_pages)
{
    start(160, 48, "LANG=C.UTF-8");
    wait_for("p90 ", 30);
    cr_assert(tmux_wait_gone(&T, "updating", 30), "%s", T.capture);
    tmux_keys(&T, "F1");
    wait_for("page Response times", 30);
    const char *s = tmux_capture(&T);
    for (const char *want = "n<10\0stale\0● ◆ ✖\0▲ ▼ =\0thresholds\0F10\0"; *want;
         want += strlen(want) + 1)
        cr_assert(strstr(s, want), "the help lacks '%s':\n%s", want, s);
    /* the box is 96 columns wide, centred: no line inside it is cut (a
     * tile beside it may cut its own, as a withheld forecast's reason) */
    char screen[sizeof T.capture];
    snprintf(screen, sizeof screen, "%s", s);
    for (char *line = strtok(screen, "\n"); line; line = strtok(NULL, "\n")) {
        char *l = strstr(line, "│ ");
        if (!l)
            continue;
        char *end = strstr(l + strlen("│ "), "│"); /* the box's right border */
        if (end)
            *end = '\0';
        cr_assert(!strstr(l, "…"), "a help line is cut:\n%s", line);
    }
    tmux_keys(&T, "x");
    cr_assert(tmux_wait_gone(&T, "page Response times", 30), "%s", T.capture);
    tmux_keys(&T, "F10");
    wait_for("sitrep-exited rc=0", 30);
}

/* The hint line names the pages, down to the smallest size. */
Test(e2e, the_hint_line_names_the_pages)
{
    start(80, 24, "LANG=C.UTF-8");
    wait_for("1 Overview", 30);
    wait_for("2 Response times", 30);
    wait_for("3 Cases and resources", 30);
    tmux_keys(&T, "2");
    wait_for("› Response times", 30);
    tmux_resize(&T, 40, 10);
    wait_for("2/3 Response times", 30);
}

Test(e2e, pages_and_resize)
{
    start(160, 48, "LANG=C.UTF-8");
    wait_for("Emergency response P1", 30);
    tmux_keys(&T, "2");
    wait_for("Response times", 30);
    wait_for("P1 response times", 30);
    tmux_resize(&T, 100, 30);
    wait_for("Response times", 30);
    tmux_resize(&T, 30, 8);
    wait_for("enlarge the terminal", 30);
    tmux_resize(&T, 120, 40);
    cr_assert(tmux_wait_gone(&T, "enlarge", 30), "%s", T.capture);
    wait_for("P1 response times", 30);
}

Test(e2e, ascii_when_the_locale_is_not_utf8)
{
    start(160, 48, "LANG=C LC_ALL=C");
    wait_for("Emergency response P1", 30);
    const char *s = tmux_capture(&T);
    cr_assert_null(strstr(s, "┌"), "line drawing in LANG=C:\n%s", s);
    cr_assert(strstr(s, "+-"), "no ASCII frame:\n%s", s);
}

/* Under LANG=C every glyph has its ASCII form: a '?' on the screen is only
 * the help key's, never a character the locale cannot show. */
static void expect_no_question_mark(const char *what)
{
    char screen[sizeof T.capture];
    snprintf(screen, sizeof screen, "%s", tmux_capture(&T));
    for (char *h; (h = strstr(screen, "? help"));)
        *h = ' ';
    cr_assert_null(strchr(screen, '?'), "%s: a '?' under LANG=C:\n%s", what, T.capture);
}

Test(e2e, ascii_forms_of_every_glyph_under_lang_c)
{
    start(160, 48, "LANG=C LC_ALL=C");
    wait_for("within", 30); /* "target 15m00s - 83% within" */
    cr_assert(tmux_wait_gone(&T, "updating", 30), "%s", T.capture);
    expect_no_question_mark("the grid");
    tmux_keys(&T, "Enter");
    wait_for("> force", 30);
    expect_no_question_mark("the breakdown");
    tmux_keys(&T, "s");
    wait_for("Sources - ", 30);
    wait_for("accepted", 30);
    expect_no_question_mark("the sources view");
    tmux_keys(&T, "s");
    tmux_resize(&T, 40, 10);
    wait_for("Emergency", 30);
    expect_no_question_mark("the list at 40x10");
}

Test(e2e, no_color_keeps_every_status)
{
    start(160, 48, "LANG=C.UTF-8 NO_COLOR=1");
    wait_for("Emergency response P1", 30);
    wait_for("1/1 sources", 30);
    cr_assert(tmux_wait_gone(&T, "updating", 30), "%s", tmux_capture(&T));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p -e -t t | grep -c '38;5\\|\\[3[1-7]m'",
             T.sock);
    FILE *p = popen(cmd, "r");
    char out[32] = "";
    cr_assert(fgets(out, sizeof out, p) != NULL);
    pclose(p);
    cr_assert_eq(atoi(out), 0, "colour codes with NO_COLOR");
    const char *s = tmux_capture(&T);
    cr_assert(strstr(s, "OK") || strstr(s, "WARN") || strstr(s, "CRIT"), "%s", s);
}

Test(e2e, escape_sequences_in_data_never_reach_the_terminal)
{
    /* an entity named with an OSC title change and a screen clear */
    char csv[512];
    snprintf(csv, sizeof csv, "%s/evil.csv", dir);
    FILE *f = fopen(csv, "w");
    fprintf(f, "metric,entity,ts,value\n");
    for (int i = 0; i < 5; i++)
        fprintf(f, "calls,force/evil\x1b]2;pwned\x07\x1b[2Jzone/u%d,%lld,%d\n", i,
                (long long)(sr_now_ms() / 1000 - 60 * i), 10 + i);
    fclose(f);
    char *out, *err;
    char *argv[] = {"ingest", "--config", cfg, csv, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    start(160, 48, "LANG=C.UTF-8");
    wait_for("Emergency response P1", 30);
    /* the calls chart is on page 1: drill into it down to the region list */
    tmux_keys(&T, "1");
    for (int i = 0; i < 8; i++)
        tmux_keys(&T, "Tab");
    tmux_keys(&T, "Enter");
    wait_for("zone", 30);
    const char *s = tmux_capture(&T);
    cr_assert_null(strchr(s, '\x1b'), "an escape reached the screen");
    char title[256];
    tmux_format(&T, "#{pane_title}", title, sizeof title);
    cr_assert_null(strstr(title, "pwned"), "the data changed the terminal's title: %s", title);
}

Test(e2e, quit_restores_the_terminal)
{
    /* under the sanitizers, their reports go to files the test then looks for */
    char env[600];
    snprintf(env, sizeof env,
             "LANG=C.UTF-8 ASAN_OPTIONS=detect_leaks=1:log_path=%s/asan "
             "UBSAN_OPTIONS=log_path=%s/ubsan",
             dir, dir);
    start(120, 40, env);
    wait_for("Emergency response P1", 30);
    tmux_keys(&T, "q");
    wait_for("sitrep-exited rc=0", 30);
    wait_for("icanon", 30);
    const char *s = tmux_capture(&T);
    cr_assert_null(strstr(s, "-icanon"), "the terminal was left in raw mode:\n%s", s);
    cr_assert(strstr(s, "\necho") || strstr(s, "echo\n"), "echo is off:\n%s", s);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s/asan.* %s/ubsan.* >/dev/null 2>&1", dir, dir);
    if (system(cmd) == 0) {
        snprintf(cmd, sizeof cmd, "cat %s/asan.* %s/ubsan.* >&2", dir, dir);
        cr_assert_eq(system(cmd), 0);
        cr_assert_fail("the sanitizers reported on the dashboard (above)");
    }
}

/*
 * The sources view: a config of two textlog plugin sources, "feed" (a log
 * with two bad lines: live, with rejects) and "broken" (a log that does not
 * exist: failing).
 */
static void sources_config(void)
{
    const char *pd = getenv("SITREP_PLUGINS");
    char plugins[700];
    if (pd && *pd)
        snprintf(plugins, sizeof plugins, "%s", pd);
    else
        snprintf(plugins, sizeof plugins, "%s/build/plugins", getenv("PWD") ? getenv("PWD") : ".");
    char text[2400], log[400];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s/src.db\ntitle = Sources test\n"
             "[metric.calls]\nkind = counter\nlabel = Calls\n"
             "[panel.calls]\nmetric = calls\n"
             "[adapter.feed]\ntype = plugin\npath = %s/textlog.so\nfile = feed.log\n"
             "interval = 1s\n"
             "[adapter.broken]\ntype = plugin\npath = %s/textlog.so\nfile = missing.log\n",
             dir, plugins, plugins);
    th_write_file(cfg, text);
    snprintf(log, sizeof log, "%s/feed.log", dir);
    long long t = (long long)(sr_now_ms() / 1000) - 60;
    snprintf(text, sizeof text,
             "%lld calls force/a 1\nonly three fields\n%lld calls force/a lots\n%lld calls force/b "
             "2\n",
             t, t + 1, t + 2);
    th_write_file(log, text);
}

Test(e2e, sources_view_and_rejected_rows_at_160x48)
{
    sources_config();
    start(160, 48, "LANG=C.UTF-8");
    wait_for("Sources test", 30);
    wait_for("1/2 sources", 30);
    tmux_keys(&T, "s");
    wait_for("Sources · 1/2 live", 30);
    wait_for("No such file or directory", 30); /* broken's last error, in its row */
    const char *s = tmux_capture(&T);
    const char *feed = strstr(s, "\u2502feed "), *broken = strstr(s, "\u2502broken ");
    cr_assert(feed && broken, "both sources listed:\n%s", s);
    const char *eol = strchr(feed, '\n');
    cr_assert(strstr(feed, "● live") && strstr(feed, "● live") < eol, "feed is live:\n%s", s);
    eol = strchr(broken, '\n');
    cr_assert(strstr(broken, "✖ failing") && strstr(broken, "✖ failing") < eol,
              "broken is failing:\n%s", s);
    cr_assert(strstr(s, "NEXT POLL") && strstr(s, "LAST SUCCESS"), "%s", s);
    /* the first source is selected: Enter shows its rejects, newest first */
    tmux_keys(&T, "Enter");
    wait_for("Rejected rows · feed", 30);
    wait_for("2 rejected rows from feed, newest first", 30);
    s = tmux_capture(&T);
    cr_assert(strstr(s, "line 3") && strstr(s, "value 'lots' is not a number"), "%s", s);
    cr_assert(strstr(s, "line 2") && strstr(s, "fewer than four fields"), "%s", s);
    cr_assert(strstr(s, "only three fields"), "the raw row:\n%s", s);
    cr_assert(strstr(s, "line 3") < strstr(s, "line 2"), "newest first:\n%s", s);
    tmux_keys(&T, "Escape");
    cr_assert(tmux_wait_gone(&T, "Rejected rows", 30), "%s", T.capture);
    wait_for("Sources · 1/2 live", 30);
    tmux_keys(&T, "s");
    cr_assert(tmux_wait_gone(&T, "Sources ·", 30), "%s", T.capture);
    wait_for("Calls", 30); /* the panels again */
}

Test(e2e, sources_view_at_80x24)
{
    sources_config();
    start(80, 24, "LANG=C.UTF-8");
    wait_for("1/2 sources", 30);
    tmux_keys(&T, "s");
    wait_for("Sources · 1/2 live", 30);
    wait_for("✖ failing", 30);
    const char *s = tmux_capture(&T);
    cr_assert(strstr(s, "● live"), "%s", s);
    cr_assert(strstr(s, "NEXT") && strstr(s, "REJ"), "the short headers fit:\n%s", s);
    /* down to broken: its whole error in the detail, and it has no rejects */
    tmux_keys(&T, "j");
    wait_for("last error    cannot open", 30);
    tmux_keys(&T, "Enter");
    wait_for("no rejected rows from broken", 30);
    tmux_keys(&T, "BSpace");
    wait_for("Sources · 1/2 live", 30);
    tmux_keys(&T, "Escape");
    cr_assert(tmux_wait_gone(&T, "Sources ·", 30), "%s", T.capture);
}

/* `sitrep sources` on a terminal: the last error fits the width, on its own
 * line when the table leaves no room beside it. */
Test(e2e, sources_command_on_a_narrow_terminal)
{
    sources_config();
    char *out, *err;
    char *argv[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 1, "broken fails: %s%s", out, err);
    free(out);
    free(err);
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(&T, dir, 100, 12, "LANG=C.UTF-8 '%s' sources --config '%s'\nsleep 30\n", bin, cfg);
    wait_for("    last error: cannot open", 30);
    const char *s = tmux_capture(&T);
    cr_assert_null(strstr(s, "LAST ERROR"), "no room for the column:\n%s", s);
    cr_assert(strstr(s, "broken") && strstr(s, "failing"), "%s", s);
}

/* Key e writes the Markdown shift report under $XDG_STATE_HOME/sitrep and
 * says where in the hint line; nothing of it reaches the terminal itself. */
Test(e2e, e_writes_the_handover_report)
{
    char env[600], state[400];
    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(env, sizeof env, "LANG=C.UTF-8 XDG_STATE_HOME=%s", state);
    start(160, 48, env);
    wait_for("Emergency response P1", 30);
    wait_for("1/1 sources", 30);
    tmux_keys(&T, "e");
    /* the report computes every panel with its baseline and forecast: under the
     * sanitizers, beside two other suites, that has taken over 30 s */
    wait_for("report written to", 120);
    wait_for("/state/sitrep/handover-", 30);
    char rdir[450];
    snprintf(rdir, sizeof rdir, "%s/sitrep", state);
    DIR *d = opendir(rdir);
    cr_assert_not_null(d, "no %s", rdir);
    char file[800] = "";
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "handover-", 9) == 0 && strstr(e->d_name, ".md"))
            snprintf(file, sizeof file, "%s/%s", rdir, e->d_name);
    }
    closedir(d);
    cr_assert(file[0], "no handover-*.md in %s", rdir);
    FILE *f = fopen(file, "r");
    cr_assert_not_null(f);
    char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    cr_assert(strncmp(text, "# Shift handover: Demo Police\n", 30) == 0, "%s", text);
    cr_assert(strstr(text, "| Emergency response P1 |"), "%s", text);
    cr_assert(strstr(text, "## Alerts"), "%s", text);
    cr_assert(tmux_wait_gone(&T, "report written to", 30), "the message stays:\n%s", T.capture);
    tmux_keys(&T, "q");
    wait_for("sitrep-exited rc=0", 30);
}

/* Whether s shows "loading history N %" with N a number of one to three digits. */
static bool shows_loading_percent(const char *s)
{
    for (const char *p = s; (p = strstr(p, "loading history ")); p++) {
        const char *d = p + strlen("loading history ");
        size_t n = strspn(d, "0123456789");
        if (n >= 1 && n <= 3 && strncmp(d + n, " %", 2) == 0)
            return true;
    }
    return false;
}

/*
 * On an empty cache the collecting dashboard's panels say how far the
 * first backfill has got, never "no data" nor "stale" (the history is as
 * old as the loading has reached), then show their figures once
 * it reaches the present. A 20-day backfill is 20 polls of a day each.
 */
Test(e2e, an_empty_cache_says_loading_history_then_shows_figures)
{
    th_sim_config(cfg, "loading.db", "-e 's/^backfill = 1d/backfill = 20d/'", NULL);
    start(160, 48, "LANG=C.UTF-8");
    wait_for("loading history ", 60);
    const char *s = tmux_capture(&T);
    cr_assert(shows_loading_percent(s), "no 'loading history N %%':\n%s", s);
    cr_assert(strstr(s, "Emergency response P1"), "%s", s);
    cr_assert_null(strstr(s, "no data"), "'no data' while the history loads:\n%s", s);
    cr_assert_null(strstr(s, "stale"), "'stale' while the history loads:\n%s", s);
    cr_assert(tmux_wait_gone(&T, "loading history", 300), "the backfill never ended:\n%s",
              T.capture);
    wait_for("p90 ", 30);
    s = tmux_capture(&T);
    cr_assert(strstr(s, "% vs prev"), "no figures after the backfill:\n%s", s);
    cr_assert_null(strstr(s, "loading history"), "%s", s);
}
