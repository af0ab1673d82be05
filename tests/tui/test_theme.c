/*
 * test_theme.c - tui/theme.c: theme files (themes/NAME.ini), their errors,
 * the colour mapping, and applying a theme to a real curses screen.
 *
 * Tests run from the repository root (the Makefile does so), so the
 * shipped themes are found in "themes". Errors are checked by their exact
 * "FILE:LINE: message", since the line and the wording are what a user
 * acts on. Applying is checked on a real screen (term.h) by reading the
 * colour pairs and palette back from ncurses.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/common.h"
#include "../../tui/tui.h"
#include "../helpers.h"
#include "term.h"

static const char *const shipped[] = {"themes", NULL};

/* A complete valid theme: the [theme] header on line 1, name on line 2,
 * then one line per role (normal on line 3 ... selected on line 16); extra
 * is appended from line 17 on. Caller frees. */
static char *theme_text(const char *extra)
{
    size_t cap = 4096 + strlen(extra);
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t n = (size_t)snprintf(s, cap, "[theme]\nname = t\n");
    for (int r = 0; r < SR_ROLE_COUNT; r++)
        n += (size_t)snprintf(s + n, cap - n, "%s = fg=default\n", sr_theme_role_name(r));
    snprintf(s + n, cap - n, "%s", extra);
    return s;
}

/* Parses text as "t.ini"; returns the code, err gets the messages. */
static int parse(const char *text, char *err, size_t errlen)
{
    sr_theme *t = (sr_theme *)1;
    int rc = sr_theme_parse("t.ini", text, strlen(text), &t, err, errlen);
    if (rc == 0)
        cr_assert_not_null(t);
    else
        cr_assert_null(t, "no theme is returned on error");
    sr_theme_destroy(t);
    return rc;
}

/* Asserts that text is refused with exactly these messages. */
static void expect_errors(const char *text, const char *expected)
{
    char err[2048];
    cr_assert_eq(parse(text, err, sizeof err), SR_EINVAL, "accepted:\n%s", text);
    cr_assert_str_eq(err, expected, "\ngot:      %s\nexpected: %s", err, expected);
}

/* The theme text with one role's line replaced by `line`. */
static char *with_role(const char *role, const char *line)
{
    char *s = theme_text("");
    char key[64];
    snprintf(key, sizeof key, "\n%s = fg=default\n", role);
    char *at = strstr(s, key);
    cr_assert_not_null(at);
    size_t cap = strlen(s) + strlen(line) + 4;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    snprintf(out, cap, "%.*s\n%s\n%s", (int)(at - s), s, line, at + strlen(key));
    free(s);
    return out;
}

/* ---- the shipped themes ---- */

Test(theme, every_shipped_theme_loads)
{
    static const char *const expected[] = {"default", "light", "high-contrast", "mono",
                                           "colour-blind-safe"};
    bool found[5] = {false};
    DIR *d = opendir("themes");
    cr_assert_not_null(d, "run the tests from the repository root");
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".ini") != 0)
            continue;
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 4), e->d_name);
        sr_theme *t = NULL;
        char err[1024] = "";
        int rc = sr_theme_load(stem, shipped, &t, err, sizeof err);
        cr_assert_eq(rc, 0, "%s: %s", e->d_name, err);
        cr_assert_str_eq(err, "");
        cr_assert_str_eq(sr_theme_name(t), stem, "a theme is named as its file");
        cr_assert_neq(strlen(sr_theme_description(t)), 0, "%s has a description", e->d_name);
        for (size_t i = 0; i < 5; i++)
            found[i] |= strcmp(stem, expected[i]) == 0;
        sr_theme_destroy(t);
        n++;
    }
    closedir(d);
    for (size_t i = 0; i < 5; i++)
        cr_assert(found[i], "themes/%s.ini is missing", expected[i]);
    cr_assert_eq(n, 5);
}

Test(theme, role_names_come_from_the_table)
{
    cr_assert_str_eq(sr_theme_role_name(SR_ROLE_NORMAL), "normal");
    cr_assert_str_eq(sr_theme_role_name(SR_ROLE_STATUSBAR), "statusbar");
    cr_assert_str_eq(sr_theme_role_name(SR_ROLE_SELECTED), "selected");
    cr_assert_null(sr_theme_role_name(SR_ROLE_COUNT));
    cr_assert_null(sr_theme_role_name((sr_role)-1));
    for (int a = 0; a < SR_ROLE_COUNT; a++)
        for (int b = a + 1; b < SR_ROLE_COUNT; b++)
            cr_assert_str_neq(sr_theme_role_name(a), sr_theme_role_name(b));
}

/* ---- finding a theme ---- */

static void write_theme(const char *dir, const char *file, const char *name)
{
    char path[512], extra[64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = theme_text("");
    snprintf(extra, sizeof extra, "name = %s\n", name);
    /* replace "name = t" */
    char *at = strstr(text, "name = t\n");
    char *full = malloc(strlen(text) + 64);
    sprintf(full, "%.*s%s%s", (int)(at - text), text, extra, at + strlen("name = t\n"));
    th_write_file(path, full);
    free(full);
    free(text);
}

static char *loaded_name(const char *what, const char *const *dirs)
{
    static char name[64];
    sr_theme *t = NULL;
    char err[1024];
    int rc = sr_theme_load(what, dirs, &t, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: %s", what, err);
    snprintf(name, sizeof name, "%s", sr_theme_name(t));
    sr_theme_destroy(t);
    return name;
}

Test(theme, names_are_looked_up_in_order_and_paths_are_read)
{
    char a[256], b[256];
    th_tempdir(a, sizeof a);
    th_tempdir(b, sizeof b);
    write_theme(a, "x.ini", "x-from-a");
    write_theme(b, "x.ini", "x-from-b");
    write_theme(b, "y.ini", "y-from-b");
    const char *const dirs[] = {a, b, NULL};
    cr_assert_str_eq(loaded_name("x", dirs), "x-from-a", "the first directory wins");
    cr_assert_str_eq(loaded_name("y", dirs), "y-from-b");
    cr_assert_str_eq(loaded_name("x.ini", dirs), "x-from-a");
    char path[512];
    snprintf(path, sizeof path, "%s/x.ini", b);
    cr_assert_str_eq(loaded_name(path, dirs), "x-from-b", "a path is read as it is");
    cr_assert_str_eq(loaded_name(path, NULL), "x-from-b");

    sr_theme *t = (sr_theme *)1;
    char err[1024], want[1024];
    cr_assert_eq(sr_theme_load("zzz", dirs, &t, err, sizeof err), SR_ENOENT);
    cr_assert_null(t);
    snprintf(want, sizeof want, "theme 'zzz' not found in %s, %s, expected one of ", a, b);
    cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
    cr_assert_eq(sr_theme_load("lihgt", shipped, &t, err, sizeof err), SR_ENOENT);
    cr_assert_str_eq(err, "theme 'lihgt' not found in themes; did you mean 'light'?");
    cr_assert_eq(sr_theme_load("x", NULL, &t, err, sizeof err), SR_ENOENT);
    cr_assert_str_eq(err, "theme 'x' not found: no theme directory given");
    cr_assert_eq(sr_theme_load("nothing-like-it", shipped, &t, err, sizeof err), SR_ENOENT);
    cr_assert_str_eq(err, "theme 'nothing-like-it' not found in themes, expected one of "
                          "colour-blind-safe, default, high-contrast, light, mono");
    snprintf(path, sizeof path, "%s/none.ini", a);
    cr_assert_eq(sr_theme_load(path, dirs, &t, err, sizeof err), SR_ENOENT);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    cr_assert_str_eq(err, want);
    cr_assert_eq(sr_theme_load("", dirs, &t, err, sizeof err), SR_EINVAL);
    th_rmtree(a);
    th_rmtree(b);
}

/* ---- errors ---- */

Test(theme, error_in_a_file_names_its_path_and_line)
{
    char dir[256], path[512], err[1024], want[1024];
    th_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.ini", dir);
    char *text = theme_text("wran = fg=red\n");
    th_write_file(path, text);
    free(text);
    sr_theme *t = NULL;
    cr_assert_eq(sr_theme_load(path, NULL, &t, err, sizeof err), SR_EINVAL);
    snprintf(want, sizeof want, "%s:17: unknown role 'wran', did you mean 'warn'?", path);
    cr_assert_str_eq(err, want);
    const char *const dirs[] = {dir, NULL};
    cr_assert_eq(sr_theme_load("bad", dirs, &t, err, sizeof err), SR_EINVAL);
    cr_assert_str_eq(err, want);
    th_rmtree(dir);
}

Test(theme, unknown_role_suggests_the_nearest)
{
    char *s = theme_text("wran = fg=red\nOK = fg=red\nsparkles = bold\n");
    expect_errors(s, "t.ini:17: unknown role 'wran', did you mean 'warn'?\n"
                     "t.ini:18: unknown role 'OK', did you mean 'ok'?\n"
                     "t.ini:19: unknown role 'sparkles', expected name, description or a role: "
                     "normal, title, value, ok, warn, crit, stale, border, focus, dim, accent, "
                     "bar, statusbar, selected");
    free(s);
}

Test(theme, bad_colour)
{
    static const char *const expected_tail =
        "expected #rrggbb, color0 to color255, default, or a name: black, red, green, yellow, "
        "blue, magenta, cyan, white, bright-NAME";
    char want[1024];
    char *s = with_role("ok", "ok = fg=gren");
    snprintf(want, sizeof want,
             "t.ini:6: bad colour 'gren' for fg in role 'ok', %s; did you "
             "mean 'green'?",
             expected_tail);
    expect_errors(s, want);
    free(s);
    s = with_role("crit", "crit = fg=red bg=#12345");
    snprintf(want, sizeof want, "t.ini:8: bad colour '#12345' for bg in role 'crit', %s",
             expected_tail);
    expect_errors(s, want);
    free(s);
    s = with_role("bar", "bar = fg=color256");
    snprintf(want, sizeof want, "t.ini:14: bad colour 'color256' for fg in role 'bar', %s",
             expected_tail);
    expect_errors(s, want);
    free(s);
    s = with_role("title", "title = fg=brigth-cyan");
    snprintf(want, sizeof want,
             "t.ini:4: bad colour 'brigth-cyan' for fg in role 'title', %s; "
             "did you mean 'bright-cyan'?",
             expected_tail);
    expect_errors(s, want);
    free(s);
}

Test(theme, bad_attribute)
{
    char *s = with_role("crit", "crit = fg=red blod");
    expect_errors(s, "t.ini:8: bad attribute 'blod' in role 'crit', expected fg=COLOUR, "
                     "bg=COLOUR or one of bold, dim, underline, reverse, italic; did you mean "
                     "'bold'?");
    free(s);
    s = with_role("ok", "ok = fg = green");
    expect_errors(s, "t.ini:6: blank around '=' in role 'ok', expected fg=COLOUR and bg=COLOUR "
                     "as one word each");
    free(s);
    s = with_role("ok", "ok =");
    expect_errors(s, "t.ini:6: role 'ok' has no value, expected fg=COLOUR, bg=COLOUR and/or "
                     "attributes (bold, dim, underline, reverse, italic)");
    free(s);
    s = with_role("ok", "ok = fg=red fg=green");
    expect_errors(s, "t.ini:6: fg is set twice for role 'ok', expected it at most once");
    free(s);
}

Test(theme, structure_errors)
{
    expect_errors("", "t.ini:1: no [theme] section, expected [theme] followed by name, "
                      "description and one line per role");
    expect_errors("[theme]\nname = t\nok = fg=green\n",
                  "t.ini:1: missing roles normal, title, value, warn, crit, stale, border, "
                  "focus, dim, accent, bar, statusbar, selected in [theme], expected one line "
                  "per role, such as normal = fg=COLOUR bg=COLOUR ATTRIBUTES");
    /* sorted by line: the missing roles are found last but said first */
    expect_errors("[theme]\nname = t\nok = fg=gren\ncrit = bold\n",
                  "t.ini:1: missing roles normal, title, value, warn, stale, border, focus, dim, "
                  "accent, bar, statusbar, selected in [theme], expected one line per role, such "
                  "as normal = fg=COLOUR bg=COLOUR ATTRIBUTES\n"
                  "t.ini:3: bad colour 'gren' for fg in role 'ok', expected #rrggbb, color0 to "
                  "color255, default, or a name: black, red, green, yellow, blue, magenta, cyan, "
                  "white, bright-NAME; did you mean 'green'?");
    char *s = theme_text("ok = fg=red\n[colours]\nbogus = 1\n[theme]\n");
    expect_errors(s, "t.ini:17: duplicate role 'ok', first set at line 6\n"
                     "t.ini:18: unknown section [colours], expected [theme]\n"
                     "t.ini:20: duplicate section [theme], first at line 1");
    free(s);
    char *t = theme_text("");
    char *u = malloc(strlen(t) + 64);
    sprintf(u, "ok = fg=red\n%s", t);
    expect_errors(u, "t.ini:1: 'ok' is outside [theme], expected the [theme] header before it");
    free(u);
    free(t);
    s = theme_text("just words\n[theme\n");
    expect_errors(s, "t.ini:17: expected ROLE = VALUE, got 'just words'\n"
                     "t.ini:18: expected a section header [theme], got '[theme' (no closing "
                     "']')");
    free(s);
    s = theme_text("description = one\ndescription = two\nname = u\n= bold\n");
    expect_errors(s, "t.ini:18: duplicate key 'description' in [theme], first set at line 17\n"
                     "t.ini:19: duplicate key 'name' in [theme], first set at line 2\n"
                     "t.ini:20: no role before '=', expected ROLE = VALUE");
    free(s);
}

Test(theme, missing_name_and_long_lines)
{
    char *s = theme_text("");
    char *nameless = strstr(s, "name = t\n");
    memcpy(nameless, ";;;;;;;;", 8); /* the name line becomes a comment */
    expect_errors(s, "t.ini:1: missing 'name' in [theme], expected name = NAME");
    free(s);
    /* a line of 5000 bytes is read whole: the word at its end is read too */
    char line[5100];
    int n = snprintf(line, sizeof line, "ok = fg=green");
    memset(line + n, ' ', 5000 - (size_t)n);
    snprintf(line + 5000, sizeof line - 5000, "blink");
    s = with_role("ok", line);
    expect_errors(s, "t.ini:6: bad attribute 'blink' in role 'ok', expected fg=COLOUR, bg=COLOUR "
                     "or one of bold, dim, underline, reverse, italic");
    free(s);
}

/* The config's rule (metrics/ini.c): an indented line after a key continues
 * its value, and no key of a theme takes a continued value. Right after a
 * header an indented key is an ordinary key. */
Test(theme, indented_lines_do_not_silently_continue_a_value)
{
    char *s = theme_text("  description = more\n");
    expect_errors(s, "t.ini:17: indented line, expected key = value at the start of the line (an "
                     "indented line would continue the previous value)");
    free(s);
    s = theme_text("");
    char *text = malloc(strlen(s) + 16);
    sprintf(text, "[theme]\n  %s", s + strlen("[theme]\n"));
    char err[1024];
    cr_assert_eq(parse(text, err, sizeof err), 0, "%s", err);
    free(text);
    free(s);
}

Test(theme, comments_blanks_bom_and_case)
{
    char *s = theme_text("");
    char *text = malloc(strlen(s) + 256);
    sprintf(
        text,
        "\xEF\xBB\xBF# a comment\n; another\n\n%sdescription = no blank; before "
        "this\n  ; an indented comment\nvalue2 = x ; typo'd role after an inline comment test\n",
        s);
    char err[1024];
    /* the last line is an unknown role: the rest is fine */
    cr_assert_eq(parse(text, err, sizeof err), SR_EINVAL);
    cr_assert_str_eq(err, "t.ini:22: unknown role 'value2', did you mean 'value'?");
    free(text);
    free(s);
    s = with_role("ok", "ok = FG=#5FD75F Bg=Default BOLD ; inline comment");
    cr_assert_eq(parse(s, err, sizeof err), 0, "%s", err);
    free(s);
}

Test(theme, many_errors_are_counted_when_they_do_not_fit)
{
    char extra[4096] = "";
    for (int i = 0; i < 40; i++)
        strcat(extra, "zzzzzzzzzzzzzzzzzzzz = bold\n");
    char *s = theme_text(extra);
    char err[256];
    cr_assert_eq(parse(s, err, sizeof err), SR_EINVAL);
    const char *first = "t.ini:17: unknown role 'zzzzzzzzzzzzzzzzzzzz', expected";
    cr_assert(strncmp(err, first, strlen(first)) == 0, "%s", err);
    cr_assert_not_null(strstr(err, " more errors)"), "%s", err);
    cr_assert_lt(strlen(err), sizeof err);
    free(s);
}

/* ---- colour mapping ---- */

Test(theme, nearest_of_256)
{
    cr_assert_eq(sr_color_nearest_256(0xff0000), 196);
    cr_assert_eq(sr_color_nearest_256(0x000000), 16, "the cube's black before the greys");
    cr_assert_eq(sr_color_nearest_256(0x808080), 244, "grey 8 + 10 * 12");
    cr_assert_eq(sr_color_nearest_256(0xffffff), 231);
    cr_assert_eq(sr_color_nearest_256(0x5fd75f), 77, "a cube colour is itself");
    cr_assert_eq(sr_color_nearest_256(0x767676), 243);
    cr_assert_eq(sr_color_nearest_256(0x7f7f7f), 244, "127 is nearer grey 128 than cube 135");
    cr_assert_eq(sr_color_nearest_256(0xe69f00), 178, "e6 -> d7, 9f -> af, 00 -> 00");
    cr_assert_eq(sr_color_nearest_256(0x010203), 16);
}

Test(theme, nearest_of_8_and_16_keeps_the_hue)
{
    cr_assert_eq(sr_color_nearest_basic(0xff8700, 8), COLOR_YELLOW, "orange");
    cr_assert_eq(sr_color_nearest_basic(0xff5f00, 8), COLOR_RED);
    cr_assert_eq(sr_color_nearest_basic(0x005f00, 8), COLOR_GREEN, "dark green is not black");
    cr_assert_eq(sr_color_nearest_basic(0x000080, 8), COLOR_BLUE);
    cr_assert_eq(sr_color_nearest_basic(0xaa3377, 8), COLOR_MAGENTA);
    cr_assert_eq(sr_color_nearest_basic(0x56b4e9, 8), COLOR_CYAN);
    cr_assert_eq(sr_color_nearest_basic(0x808080, 8), COLOR_WHITE);
    cr_assert_eq(sr_color_nearest_basic(0x303030, 8), COLOR_BLACK);
    cr_assert_eq(sr_color_nearest_basic(0x200000, 8), COLOR_BLACK, "too dark for a hue");
    cr_assert_eq(sr_color_nearest_basic(0xff5f5f, 16), COLOR_RED + 8);
    cr_assert_eq(sr_color_nearest_basic(0xd70000, 16), COLOR_RED);
    cr_assert_eq(sr_color_nearest_basic(0x56b4e9, 16), COLOR_CYAN + 8);
    cr_assert_eq(sr_color_nearest_basic(0x808080, 16), COLOR_BLACK + 8);
    cr_assert_eq(sr_color_nearest_basic(0xe5e5e5, 16), COLOR_WHITE);
    cr_assert_eq(sr_color_nearest_basic(0xffffff, 16), COLOR_WHITE + 8);
    cr_assert_eq(sr_color_nearest_basic(0x000000, 16), COLOR_BLACK);
}

/* ---- applying ---- */

static sr_theme *load(const char *name)
{
    sr_theme *t = NULL;
    char err[1024];
    cr_assert_eq(sr_theme_load(name, shipped, &t, err, sizeof err), 0, "%s", err);
    return t;
}

static sr_theme *from_text(const char *text)
{
    sr_theme *t = NULL;
    char err[1024];
    cr_assert_eq(sr_theme_parse("t.ini", text, strlen(text), &t, err, sizeof err), 0, "%s", err);
    return t;
}

/* The colours of a role's pair as ncurses holds them. */
static void role_colours(sr_role r, int *fg, int *bg)
{
    int pair = (int)PAIR_NUMBER(sr_role_attr(r));
    cr_assert_eq(pair, r + 1, "role %s has pair %d", sr_theme_role_name(r), pair);
    cr_assert_eq(extended_pair_content(pair, fg, bg), OK);
}

/* ok, warn and crit differ in their colours. */
static void expect_status_distinct(const char *theme, int colors)
{
    int fg[3], bg[3];
    sr_role st[3] = {SR_ROLE_OK, SR_ROLE_WARN, SR_ROLE_CRIT};
    for (int i = 0; i < 3; i++)
        role_colours(st[i], &fg[i], &bg[i]);
    for (int i = 0; i < 3; i++)
        for (int k = i + 1; k < 3; k++)
            cr_assert(fg[i] != fg[k] || bg[i] != bg[k],
                      "%s with %d colours: %s and %s look the same (%d on %d)", theme, colors,
                      sr_theme_role_name(st[i]), sr_theme_role_name(st[k]), fg[i], bg[i]);
}

Test(theme, default_gives_status_distinct_pairs)
{
    th_term term;
    th_term_open(&term);
    sr_theme *t = load("default");
    int fg, bg;

    sr_theme_apply(t, 256, false, false);
    expect_status_distinct("default", 256);
    role_colours(SR_ROLE_OK, &fg, &bg);
    cr_assert_eq(fg, 77, "#5fd75f");
    cr_assert_eq(bg, -1, "bg=default is the terminal's own");
    role_colours(SR_ROLE_WARN, &fg, &bg);
    cr_assert_eq(fg, 214, "#ffaf00");
    role_colours(SR_ROLE_CRIT, &fg, &bg);
    cr_assert_eq(fg, 203, "#ff5f5f");
    role_colours(SR_ROLE_STATUSBAR, &fg, &bg);
    cr_assert_eq(bg, 74, "#5fafd7");
    cr_assert(sr_role_attr(SR_ROLE_CRIT) & A_BOLD);
    cr_assert_not(sr_role_attr(SR_ROLE_OK) & A_BOLD);
    cr_assert(sr_role_attr(SR_ROLE_STALE) & A_ITALIC);

    sr_theme_apply(t, 16, false, false);
    expect_status_distinct("default", 16);

    sr_theme_apply(t, 8, false, false);
    expect_status_distinct("default", 8);
    role_colours(SR_ROLE_OK, &fg, &bg);
    cr_assert_eq(fg, COLOR_GREEN);
    role_colours(SR_ROLE_WARN, &fg, &bg);
    cr_assert_eq(fg, COLOR_YELLOW);
    role_colours(SR_ROLE_CRIT, &fg, &bg);
    cr_assert_eq(fg, COLOR_RED);

    sr_theme_destroy(t);
    th_term_close(&term);
}

Test(theme, coloured_themes_keep_status_apart_at_every_depth)
{
    static const char *const names[] = {"default", "light", "high-contrast", "colour-blind-safe"};
    static const int depths[] = {256, 16, 8};
    th_term term;
    th_term_open(&term);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        sr_theme *t = load(names[i]);
        for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
            sr_theme_apply(t, depths[d], false, false);
            expect_status_distinct(names[i], depths[d]);
        }
        sr_theme_apply(t, 256, true, false);
        expect_status_distinct(names[i], 256);
        sr_theme_destroy(t);
    }
    th_term_close(&term);
}

Test(theme, no_color_gives_attributes_only)
{
    th_term term;
    th_term_open(&term);
    sr_theme *t = load("default");
    sr_theme_apply(t, 256, true, true);
    for (int r = 0; r < SR_ROLE_COUNT; r++)
        cr_assert_eq(PAIR_NUMBER(sr_role_attr(r)), 0, "%s has a colour pair",
                     sr_theme_role_name(r));
    cr_assert_eq(sr_role_attr(SR_ROLE_CRIT), A_BOLD);
    cr_assert_eq(sr_role_attr(SR_ROLE_OK), A_NORMAL);
    cr_assert_eq(sr_role_attr(SR_ROLE_STATUSBAR), A_REVERSE,
                 "a role with its own background is reversed");
    cr_assert_eq(sr_role_attr(SR_ROLE_SELECTED), A_REVERSE);
    sr_theme_destroy(t);

    /* a terminal with fewer than 8 colours is treated the same */
    t = load("high-contrast");
    sr_theme_apply(t, 2, false, false);
    cr_assert_eq(PAIR_NUMBER(sr_role_attr(SR_ROLE_WARN)), 0);
    cr_assert_eq(sr_role_attr(SR_ROLE_WARN), A_BOLD | A_REVERSE);
    cr_assert_eq(sr_role_attr(SR_ROLE_OK), A_BOLD);
    sr_theme_destroy(t);

    t = load("mono");
    sr_theme_apply(t, 256, false, true);
    cr_assert_eq(sr_role_attr(SR_ROLE_OK), A_NORMAL);
    cr_assert_eq(sr_role_attr(SR_ROLE_WARN), A_BOLD);
    cr_assert_eq(sr_role_attr(SR_ROLE_CRIT), A_BOLD | A_REVERSE);
    cr_assert_eq(sr_role_attr(SR_ROLE_STALE), A_DIM);
    sr_theme_destroy(t);
    th_term_close(&term);
}

Test(theme, a_background_like_normals_is_not_reversed)
{
    th_term term;
    th_term_open(&term);
    char *s = with_role("normal", "normal = fg=black bg=white");
    char *s2 = malloc(strlen(s) + 64);
    char *at = strstr(s, "\nok = fg=default\n");
    cr_assert_not_null(at);
    sprintf(s2, "%.*s\nok = fg=green bg=white\nwarn = fg=black bg=yellow\n%s", (int)(at - s), s,
            at + strlen("\nok = fg=default\nwarn = fg=default\n"));
    sr_theme *t = from_text(s2);
    sr_theme_apply(t, 256, false, true);
    cr_assert_eq(sr_role_attr(SR_ROLE_NORMAL), A_NORMAL);
    cr_assert_eq(sr_role_attr(SR_ROLE_OK), A_NORMAL);
    cr_assert_eq(sr_role_attr(SR_ROLE_WARN), A_REVERSE);
    sr_theme_destroy(t);
    free(s2);
    free(s);
    th_term_close(&term);
}

Test(theme, truecolor_redefines_free_palette_slots)
{
    th_term term;
    th_term_open(&term);
    cr_assert(can_change_color(), "xterm-256color can change colours");
    char *s = theme_text("");
    char *a = strstr(s, "\nok = fg=default\nwarn = fg=default\ncrit = fg=default\n");
    cr_assert_not_null(a);
    char *s2 = malloc(strlen(s) + 128);
    sprintf(s2, "%.*s\nok = fg=#123456\nwarn = fg=#5fd75f bg=color255\ncrit = fg=#123457\n%s",
            (int)(a - s), s,
            a + strlen("\nok = fg=default\nwarn = fg=default\ncrit = fg=default\n"));
    sr_theme *t = from_text(s2);
    sr_theme_apply(t, -1, can_change_color(), false); /* -1: the terminal's COLORS */
    cr_assert_eq(COLORS, 256);
    int fg, bg, r, g, b;
    role_colours(SR_ROLE_OK, &fg, &bg);
    cr_assert_geq(fg, 16);
    cr_assert_neq(fg, 255, "color255 is used by the theme itself");
    cr_assert_eq(extended_color_content(fg, &r, &g, &b), OK);
    cr_assert(r == 71 && g == 204 && b == 337, "slot %d holds %d %d %d", fg, r, g, b);
    int ok_slot = fg;
    role_colours(SR_ROLE_WARN, &fg, &bg);
    cr_assert_eq(fg, 77, "a palette colour is used as it is");
    cr_assert_eq(bg, 255);
    role_colours(SR_ROLE_CRIT, &fg, &bg);
    cr_assert_neq(fg, ok_slot, "two colours, two slots");
    cr_assert_eq(extended_color_content(fg, &r, &g, &b), OK);
    cr_assert(r == 71 && g == 204 && b == 341, "slot %d holds %d %d %d", fg, r, g, b);

    /* the same colours without changing the palette: the nearest */
    sr_theme_apply(t, 256, false, false);
    role_colours(SR_ROLE_OK, &fg, &bg);
    cr_assert_eq(fg, sr_color_nearest_256(0x123456));
    /* more colours than the terminal has: capped at COLORS */
    sr_theme_apply(t, 1 << 24, false, false);
    role_colours(SR_ROLE_OK, &fg, &bg);
    cr_assert_eq(fg, sr_color_nearest_256(0x123456));
    sr_theme_destroy(t);
    free(s2);
    free(s);
    th_term_close(&term);
}

Test(theme, names_and_indexes_at_each_depth)
{
    th_term term;
    th_term_open(&term);
    char *s = with_role("ok", "ok = fg=bright-green bg=color17");
    sr_theme *t = from_text(s);
    int fg, bg;
    sr_theme_apply(t, 256, false, false);
    role_colours(SR_ROLE_OK, &fg, &bg);
    cr_assert(fg == 10 && bg == 17, "%d %d", fg, bg);
    sr_theme_apply(t, 16, false, false);
    role_colours(SR_ROLE_OK, &fg, &bg);
    cr_assert(fg == 10 && bg == COLOR_BLUE, "%d %d", fg, bg);
    sr_theme_apply(t, 8, false, false);
    role_colours(SR_ROLE_OK, &fg, &bg);
    cr_assert(fg == COLOR_GREEN && bg == COLOR_BLUE, "%d %d", fg, bg);
    sr_theme_destroy(t);
    free(s);
    th_term_close(&term);
}

Test(theme, builtin_roles_still_work)
{
    th_term term;
    th_term_open(&term);
    sr_theme_init_default(true);
    int fg, bg;
    role_colours(SR_ROLE_OK, &fg, &bg);
    cr_assert(fg == COLOR_GREEN && bg == -1);
    cr_assert_eq(sr_status_role(SR_STATUS_CRIT), SR_ROLE_CRIT);
    cr_assert_eq(sr_status_role(SR_STATUS_NONE), SR_ROLE_DIM);
    sr_theme_init_default(false);
    cr_assert_eq(PAIR_NUMBER(sr_role_attr(SR_ROLE_OK)), 0);
    cr_assert(sr_role_attr(SR_ROLE_STATUSBAR) & A_REVERSE);
    sr_theme_apply(NULL, 256, false, false);
    role_colours(SR_ROLE_CRIT, &fg, &bg);
    cr_assert_eq(fg, COLOR_RED, "no theme: the built-in roles");
    th_term_close(&term);
}
