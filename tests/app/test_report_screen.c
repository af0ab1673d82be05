/*
 * The report and the screen show the same figures: `sitrep snapshot
 * --format markdown` (app/report.c) against `sitrep snapshot --format text`
 * (the screen, tui/), both run as the real binary on one real cache at one
 * --at, under three roles (SITREP_TEST_USER): the default role (drill to
 * unit, no officers), a manager (drill to district) and a commander (may
 * see officers). Overtime is recorded per officer, so for the first two it
 * is a personal metric under the grid (metrics/privacy.h): a unit of 27 h
 * in whole good cells is shown, a unit of two records and a unit of six
 * records with a thin hour are "<5", a 30-minute panel covers the last whole
 * hour; seven response times are "n<10" for everyone; a unit's panels are
 * "hidden" for the manager; the calls' previous window holds data only from
 * inside it (no change told). Each panel is alone on a page, and for each
 * row of the report the screen's tile must show the same value or mask,
 * window, status, previous value and whether a change is told: the two
 * paths cannot drift apart (privacy decided twice) without this failing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../helpers.h"

static char dir[256], cfg[512];

#define AT "2024-05-01T08:00:00Z"
static const long at_s = 1714550400L; /* AT */

/* Each panel alone on a page, so that the screen draws it as a tile. */
static const struct {
    const char *page, *title;
} panels[] = {
    {"p_u1", "Overtime u1"}, {"p_u2", "Overtime u2"},
    {"p_u3", "Overtime u3"}, {"p_recent", "Overtime u1 recent"},
    {"p_rt", "Response"},    {"p_calls", "Calls"},
};
#define N_PANELS (sizeof panels / sizeof panels[0])

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    snprintf(cfg, sizeof cfg, "%s/t.ini", dir);
    th_write_file(cfg, "[sitrep]\ncache = cache.db\ntimezone = UTC\n"
                       "levels = force, region, district, unit, officer\n"
                       "personal = officer\nmin_cell = 5\n"
                       "[metric.ot]\nkind = counter\nunit = h\nwarn = 20\ncrit = 40\n"
                       "[metric.calls]\nkind = counter\n"
                       "[metric.rt]\nkind = event\nunit = s\nagg = p90\n"
                       "[panel.u1]\ntitle = Overtime u1\nmetric = ot\n"
                       "entity = force/north/d1/u1\nwindow = 8h\n"
                       "[panel.u2]\ntitle = Overtime u2\nmetric = ot\nagg = count\n"
                       "entity = force/north/d1/u2\nwindow = 8h\n"
                       "[panel.u3]\ntitle = Overtime u3\nmetric = ot\nagg = count\n"
                       "entity = force/north/d1/u3\nwindow = 8h\n"
                       "[panel.recent]\ntitle = Overtime u1 recent\nmetric = ot\n"
                       "entity = force/north/d1/u1\nwindow = 30m\n"
                       "[panel.rt]\ntitle = Response\nmetric = rt\nwindow = 8h\n"
                       "[panel.calls]\ntitle = Calls\nmetric = calls\nwindow = 8h\n"
                       "[page.p_u1]\npanels = u1\n[page.p_u2]\npanels = u2\n"
                       "[page.p_u3]\npanels = u3\n[page.p_recent]\npanels = recent\n"
                       "[page.p_rt]\npanels = rt\n[page.p_calls]\npanels = calls\n"
                       "[role.commander]\nusers = cmd\ndrill = *\npersonal = yes\n"
                       "[role.manager]\ngroups = managers\ndrill = district\n");
    char csv[512], text[8192];
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    size_t o = (size_t)snprintf(text, sizeof text, "metric,entity,ts,value\n");
#define ROW(...) o += (size_t)snprintf(text + o, sizeof text - o, __VA_ARGS__)
    /* u1: three officers, six records of 1.5 h in each of the last three hours */
    for (int off = 1; off <= 3; off++)
        for (int k = 1; k <= 6; k++)
            ROW("ot,force/north/d1/u1/o%d,%ld,1.5\n", off, at_s - 3600L * off + 60L * k);
    /* u2: two records; u3: five in one hour and one alone in another */
    for (int off = 1; off <= 2; off++)
        ROW("ot,force/north/d1/u2/o%d,%ld,2\n", off, at_s - 7200 + 60L * off);
    for (int k = 1; k <= 5; k++)
        ROW("ot,force/north/d1/u3/o1,%ld,1\n", at_s - 3600 + 60L * k);
    ROW("ot,force/north/d1/u3/o2,%ld,1\n", at_s - 3 * 3600 + 60);
    for (int k = 1; k <= 7; k++)
        ROW("rt,force/north/d1/u1,%ld,%d\n", at_s - 600L * k, k * 60);
    /* calls: the previous window [16:00, 00:00) holds data from 22:00 only */
    for (int k = 1; k <= 3; k++)
        ROW("calls,force/north/d1/u1,%ld,%d\n", at_s - 1800L * k, k);
    ROW("calls,force/north/d1/u1,%ld,4\n", at_s - 10 * 3600);
#undef ROW
    th_write_file(csv, text);
    th_ingest(cfg, csv, 0);
    setenv("LC_ALL", "C", 1); /* the screen in ASCII: '|' borders */
}

static void teardown(void)
{
    th_as(NULL, NULL);
    th_rmtree(dir);
}

TestSuite(report_screen, .init = setup, .fini = teardown);

/* One row of the report's panel table. */
typedef struct {
    char title[64], window[16], value[32], status[16], prev[32], change[16];
} md_row;

/* Copies cell text [a, b) trimmed of spaces into dst. */
static void cell(char *dst, size_t len, const char *a, const char *b)
{
    while (a < b && *a == ' ')
        a++;
    while (b > a && b[-1] == ' ')
        b--;
    snprintf(dst, len, "%.*s", (int)(b - a), a);
}

/* The report's row of panel title in md; fails the test when there is none. */
static md_row md_find(const char *md, const char *title)
{
    char key[96];
    snprintf(key, sizeof key, "\n| %s |", title);
    const char *line = strstr(md, key);
    cr_assert_not_null(line, "no row for %s in:\n%s", title, md);
    line++;
    const char *end = strchr(line, '\n');
    const char *bar[8];
    size_t n = 0;
    for (const char *c = line; c < end && n < 8; c++) {
        if (*c == '|' && (c == line || c[-1] != '\\'))
            bar[n++] = c;
    }
    cr_assert_eq(n, 7, "%.*s", (int)(end - line), line);
    md_row r;
    cell(r.title, sizeof r.title, bar[0] + 1, bar[1]);
    cell(r.window, sizeof r.window, bar[1] + 1, bar[2]);
    cell(r.value, sizeof r.value, bar[2] + 1, bar[3]);
    cell(r.status, sizeof r.status, bar[3] + 1, bar[4]);
    cell(r.prev, sizeof r.prev, bar[4] + 1, bar[5]);
    cell(r.change, sizeof r.change, bar[5] + 1, bar[6]);
    return r;
}

/* `sitrep snapshot` at AT: the report in Markdown over each panel's own
 * window (page NULL: a shift of 1m is shorter than every panel's), or the
 * screen's page as text. The caller frees it. */
static char *snapshot(const char *page)
{
    char *out, *err;
    char *md[] = {"snapshot", "--config", cfg,       "--at", AT,
                  "--format", "markdown", "--shift", "1m",   NULL};
    char *text[] = {"snapshot", "--config",   cfg,       "--at", AT,         "--format", "text",
                    "--page",   (char *)page, "--width", "100",  "--height", "10",       NULL};
    cr_assert_eq(th_run(NULL, page ? text : md, &out, &err), 0, "%s: %s", page ? page : "markdown",
                 err);
    free(err);
    return out;
}

/* Line k (0: the frame) of the tile titled title in text, without its
 * borders, into buf. */
static void tile_line(const char *text, const char *title, int k, char *buf, size_t len)
{
    char key[96];
    snprintf(key, sizeof key, "+ %s -", title);
    const char *l = strstr(text, key);
    cr_assert_not_null(l, "no tile %s in:\n%s", title, text);
    for (int i = 0; i < k; i++) {
        l = strchr(l, '\n');
        cr_assert_not_null(l, "%s", text);
        l++;
    }
    const char *end = strchr(l, '\n');
    if (!end)
        end = l + strlen(l);
    if (k > 0 && *l == '|')
        l++;
    if (k > 0 && end > l && end[-1] == '|')
        end--;
    snprintf(buf, len, "%.*s", (int)(end - l), l);
}

/* The first word of s (a figure without its unit words) into buf. */
static void first_word(const char *s, char *buf, size_t len)
{
    snprintf(buf, len, "%.*s", (int)strcspn(s, " "), s);
}

/* Checks that the screen's tile of r's panel shows what the report's row says. */
static void agree(const char *who, const md_row *r, const char *text)
{
    char frame[256], l1[256], l2[256];
    tile_line(text, r->title, 0, frame, sizeof frame);
    tile_line(text, r->title, 1, l1, sizeof l1);
    tile_line(text, r->title, 2, l2, sizeof l2);
    /* the window the figures cover, in the frame */
    char win[32];
    snprintf(win, sizeof win, " %s ", r->window);
    cr_assert(strstr(frame, win), "%s, %s: report window %s, screen frame '%s'", who, r->title,
              r->window, frame);
    /* the value or its mask: the text before the first gap, after the
     * aggregate's name ("count <5", "p90 n<10") or before why ("hidden: ...");
     * the report's "-" is the screen's "no data" */
    char lead[256];
    const char *gap = strstr(l1, "  ");
    snprintf(lead, sizeof lead, "%.*s", (int)(gap ? gap - l1 : (long)strlen(l1)), l1);
    size_t ll = strlen(lead), vl = strlen(r->value);
    bool same = strcmp(lead, r->value) == 0 ||
                (strcmp(r->value, "-") == 0 && strcmp(lead, "no data") == 0) ||
                (ll > vl && strcmp(lead + ll - vl, r->value) == 0 && lead[ll - vl - 1] == ' ') ||
                (strncmp(lead, r->value, vl) == 0 && lead[vl] == ':');
    cr_assert(same, "%s, %s: report value '%s', screen '%s'", who, r->title, r->value, l1);
    /* whether a change is told */
    bool told = strstr(l1, "vs prev") != NULL;
    cr_assert_eq(told, strcmp(r->change, "-") != 0, "%s, %s: report change '%s', screen '%s'", who,
                 r->title, r->change, l1);
    /* the previous window's value, its figure without unit words */
    const char *prev = strstr(l2, "prev ");
    if (strcmp(r->prev, "-") == 0) {
        cr_assert_null(prev, "%s, %s: report has no previous value, screen '%s'", who, r->title,
                       l2);
    } else {
        cr_assert_not_null(prev, "%s, %s: report previous '%s', screen '%s'", who, r->title,
                           r->prev, l2);
        char a[32], b[32];
        first_word(r->prev, a, sizeof a);
        first_word(prev + 5, b, sizeof b);
        cr_assert_str_eq(a, b, "%s, %s: report previous '%s', screen '%s'", who, r->title, r->prev,
                         l2);
    }
    /* the status word, or none */
    static const char *const words[] = {"OK", "WARN", "CRIT"};
    for (size_t i = 0; i < 3; i++) {
        bool on_screen = strstr(l2, words[i]) != NULL;
        cr_assert_eq(on_screen, strcmp(r->status, words[i]) == 0,
                     "%s, %s: report status %s, screen '%s'", who, r->title, r->status, l2);
    }
}

/* Every panel of the report as who (a user, groups) against the screen. */
static void report_and_screen_agree(const char *user, const char *groups)
{
    th_as(user, groups);
    char *md = snapshot(NULL);
    for (size_t i = 0; i < N_PANELS; i++) {
        md_row r = md_find(md, panels[i].title);
        char *text = snapshot(panels[i].page);
        agree(user, &r, text);
        free(text);
    }
    free(md);
}

Test(report_screen, default_role)
{
    report_and_screen_agree("someone", NULL);
    /* what the rows above were compared on: masks from each rule */
    char *md = snapshot(NULL);
    cr_assert(strstr(md, "| Overtime u1 | 8h | 27 h | WARN |"), "whole good cells:\n%s", md);
    cr_assert(strstr(md, "| Overtime u2 | 8h | <5 |"), "two records:\n%s", md);
    cr_assert(strstr(md, "| Overtime u3 | 8h | <5 |"), "a thin hour:\n%s", md);
    cr_assert(strstr(md, "| Overtime u1 recent | 1h | 9 h |"), "the last whole hour:\n%s", md);
    cr_assert(strstr(md, "| Response | 8h | n<10 |"), "seven observations:\n%s", md);
    cr_assert(strstr(md, "| Calls | 8h | 6 | - | 4 | - |"), "prev partial:\n%s", md);
    free(md);
}

Test(report_screen, manager)
{
    report_and_screen_agree("mgr", "managers");
    char *md = snapshot(NULL);
    cr_assert(strstr(md, "| Overtime u3 | 8h | hidden |"), "below district:\n%s", md);
    free(md);
}

Test(report_screen, commander)
{
    report_and_screen_agree("cmd", NULL);
    char *md = snapshot(NULL);
    cr_assert(strstr(md, "| Overtime u3 | 8h | 6 |"), "no grid for who may see officers:\n%s", md);
    free(md);
}
