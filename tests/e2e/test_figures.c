/*
 * End-to-end tests of the figures every panel shows, in a real terminal
 * (tmux on its own socket) on the simulator: a chart ("Calls for
 * service"), a histogram ("P1 response times") and bars ("Cases open over
 * 365 days") each show the panel's own value with its unit on the line
 * under their title. Every wait polls the pane with a deadline.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static tmux_t T;

static void setup(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "sim.ini");
    th_sim_config(cfg, "sim.db", NULL, NULL);
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(figures_e2e, .init = setup, .fini = teardown);

static void start(int w, int h)
{
    char bin[1024], cmd[2048];
    th_sitrep_abs(bin, sizeof bin);
    snprintf(cmd, sizeof cmd, "env LANG=C.UTF-8 '%s' --config '%s'", bin, cfg);
    tmux_start(&T, w, h, cmd);
}

/*
 * The text inside the frame of the panel titled title on the line under
 * its top border (the headline), from the screen s; false when the panel
 * is not on the screen. Columns are counted in wide characters, as the
 * frame's glyphs are several bytes each.
 */
static bool headline_of(const char *s, const char *title, char *out, size_t len)
{
    static wchar_t ws[64 * 1024];
    if (mbstowcs(ws, s, sizeof ws / sizeof ws[0]) == (size_t)-1)
        return false;
    wchar_t wt[128];
    swprintf(wt, sizeof wt / sizeof wt[0], L"\x250c %s ", title);
    const wchar_t *hit = wcsstr(ws, wt);
    if (!hit)
        return false;
    const wchar_t *bol = hit;
    while (bol > ws && bol[-1] != L'\n')
        bol--;
    size_t col = (size_t)(hit - bol);
    const wchar_t *next = wcschr(hit, L'\n');
    if (!next)
        return false;
    next++;
    const wchar_t *eol = wcschr(next, L'\n');
    size_t n = eol ? (size_t)(eol - next) : wcslen(next);
    if (n <= col + 1 || next[col] != L'\x2502')
        return false;
    wchar_t cellw[256];
    size_t k = 0;
    for (size_t i = col + 1; i < n && next[i] != L'\x2502' && k + 1 < 256; i++)
        cellw[k++] = next[i];
    cellw[k] = 0;
    return wcstombs(out, cellw, len) != (size_t)-1;
}

/* Polls until the panel's headline holds a figure followed by unit (" calls"). */
static void expect_figure(const char *title, const char *unit)
{
    char line[1024] = "";
    th_deadline d = tmux_deadline(30);
    do {
        if (headline_of(tmux_capture(&T), title, line, sizeof line)) {
            const char *u = strstr(line, unit);
            if (u && u > line && u[-1] >= '0' && u[-1] <= '9')
                return;
        }
    } while (th_poll(&d));
    cr_assert_fail("%s: no figure with '%s' under the title ('%s'); the screen:\n%s", title, unit,
                   line, T.capture);
}

Test(figures_e2e, chart_histogram_and_bars_show_their_figure_with_its_unit)
{
    start(160, 48);
    tmux_expect(&T, "Emergency response P1", 30);
    tmux_expect(&T, "1/1 sources", 60);
    tmux_keys(&T, "2"); /* Response times: the histogram and the chart */
    tmux_expect(&T, "P1 response times", 30);
    expect_figure("Calls for service", " calls");
    expect_figure("P1 response times", "s"); /* "p90 16m46s" */
    char line[1024];
    cr_assert(headline_of(T.capture, "P1 response times", line, sizeof line));
    cr_assert(strstr(line, "p90 "), "the aggregate's name: '%s'", line);
    cr_assert(strstr(line, "OK") || strstr(line, "WARN") || strstr(line, "CRIT"),
              "the status: '%s'", line);
    tmux_keys(&T, "3"); /* Cases and resources: the bars */
    tmux_expect(&T, "Cases open over 365 days", 30);
    expect_figure("Cases open over 365 days", " cases");
}
