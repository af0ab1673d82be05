/*
 * test_ini.c - metrics/ini.c: the INI grammar of config and theme files.
 *
 * Each test reads a text and compares what the reader handed over, one
 * line per call written as "LINE KIND name|value|rest", with what the
 * grammar (ini.h, sitrep.conf(5)) says.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/common.h"
#include "../../metrics/ini.h"

struct seen {
    char *out;
    size_t len, cap;
    int stop_at; /* a line at which to return 7 (0: never) */
};

static int record(void *ctx, const sr_ini_line *l)
{
    static const char *const kinds[] = {"SECTION", "KEY", "CONT", "BADSEC", "BADKEY", "NUL"};
    struct seen *s = ctx;
    size_t need = strlen(l->name) + strlen(l->value) + strlen(l->rest) + strlen(l->text) + 64;
    if (s->len + need > s->cap) {
        s->cap = (s->len + need) * 2;
        s->out = realloc(s->out, s->cap);
        cr_assert_not_null(s->out);
    }
    const char *shown = l->kind == SR_INI_BAD_KEY || l->kind == SR_INI_BAD_SECTION ? l->text : "";
    s->len += (size_t)snprintf(s->out + s->len, s->cap - s->len, "%d %s %s|%s|%s%s\n", l->line,
                               kinds[l->kind], l->name, l->value, l->rest, shown);
    return l->line == s->stop_at ? 7 : 0;
}

/* Reads text (len bytes) and returns what was handed over; caller frees. */
static char *read_all(const char *text, size_t len, int *rc)
{
    struct seen s = {.out = calloc(1, 1), .cap = 1};
    cr_assert_not_null(s.out);
    *rc = sr_ini_read(text, len, record, &s);
    return s.out;
}

static void expect(const char *text, const char *expected)
{
    int rc;
    char *got = read_all(text, strlen(text), &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(got, expected, "\n--- text:\n%s\n--- got:\n%s--- expected:\n%s", text, got,
                     expected);
    free(got);
}

Test(ini, sections_keys_comments_and_line_numbers)
{
    expect("\xEF\xBB\xBF; comment\r\n"
           "[a.b]   ; after a header\r\n"
           "\n"
           "k = v\r\n"
           "  # an indented comment\n"
           "x: 1 = 2\n"
           "q = \"quoted\" ; comment\n"
           "c = a;b #c\n"
           "e =\n"
           "[s] # hash\n",
           "2 SECTION a.b||\n"
           "4 KEY k|v|\n"
           "6 KEY x|1 = 2|\n"
           "7 KEY q|\"quoted\"|\n"
           "8 KEY c|a;b #c|\n"
           "9 KEY e||\n"
           "10 SECTION s||\n");
}

Test(ini, malformed_lines_are_handed_over_with_their_text)
{
    expect("[open\n"
           "just words\n"
           "a ;= b\n"
           "[x] y\n"
           "[x ;]\n"
           "= v\n",
           "1 BADSEC ||[open\n"
           "2 BADKEY ||just words\n"
           "3 BADKEY ||a ;= b\n"
           "4 SECTION x||y\n"
           "5 BADSEC ||[x ;]\n"
           "6 KEY |v|\n");
}

Test(ini, indented_lines_after_a_key_continue_it)
{
    expect("[s]\n"
           "  first = 1\n" /* right after a header: a key */
           "q = SELECT a\n"
           "    FROM t ; comment\n"
           "\n"
           "; comment\n"
           "\tWHERE x = 1\n"
           "[t]\n"
           "  k = v\n" /* after a header again: a key */
           "= v\n"
           "  not continued\n", /* an empty key takes no continuation */
           "1 SECTION s||\n"
           "2 KEY first|1|\n"
           "3 KEY q|SELECT a|\n"
           "4 CONT q|FROM t|\n"
           "7 CONT q|WHERE x = 1|\n"
           "8 SECTION t||\n"
           "9 KEY k|v|\n"
           "10 KEY |v|\n"
           "11 BADKEY ||not continued\n");
}

Test(ini, a_line_of_5000_bytes_is_read_whole)
{
    size_t n = 5000;
    char *text = malloc(n + 32);
    cr_assert_not_null(text);
    strcpy(text, "[s]\nk = ");
    size_t at = strlen(text);
    memset(text + at, 'x', n);
    strcpy(text + at + n, "y\nz = 1\n");
    int rc;
    char *got = read_all(text, strlen(text), &rc);
    cr_assert_eq(rc, 0);
    char *expected = malloc(n + 64);
    cr_assert_not_null(expected);
    snprintf(expected, n + 64, "1 SECTION s||\n2 KEY k|%.*sy|\n3 KEY z|1|\n", (int)n, text + at);
    cr_assert_str_eq(got, expected);
    free(expected);
    free(got);
    free(text);
}

Test(ini, a_nul_byte_ends_the_text_at_its_line)
{
    static const char text[] = "[s]\nk = a\0b\nz = 1\n";
    int rc;
    char *got = read_all(text, sizeof text - 1, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(got, "1 SECTION s||\n2 NUL ||\n");
    free(got);
}

Test(ini, the_callback_stops_the_reading)
{
    struct seen s = {.out = calloc(1, 1), .cap = 1, .stop_at = 2};
    cr_assert_eq(sr_ini_read("a = 1\nb = 2\nc = 3\n", 18, record, &s), 7);
    cr_assert_str_eq(s.out, "1 KEY a|1|\n2 KEY b|2|\n");
    free(s.out);
    int rc;
    char *got = read_all("", 0, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(got, "");
    free(got);
}
