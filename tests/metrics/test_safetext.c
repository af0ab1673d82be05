/*
 * test_safetext.c - metrics/safetext.c, the one sanitiser: what plain text
 * drops (controls, bidi, escape sequences), what a log writes escaped, and
 * the widths both give. Runs under C.UTF-8 (widths come from wcwidth).
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "../../metrics/safetext.h"

static void utf8_locale(void)
{
    cr_assert_not_null(setlocale(LC_ALL, "C.UTF-8"), "the C.UTF-8 locale is needed");
}

TestSuite(safetext, .init = utf8_locale);

/* ---- sanitising ---- */

static void expect_clean(const char *in, const char *want)
{
    char out[256];
    sr_text_clean(in, out, sizeof out);
    cr_assert_str_eq(out, want, "sanitising gave '%s', expected '%s'", out, want);
}

Test(safetext, sanitize_drops_control_characters)
{
    expect_clean("a\x01"
                 "b\x1f"
                 "c\x7f"
                 "d\te\nf\rg\x08h",
                 "abcdefgh");
    /* C1 controls arrive as UTF-8 (U+0080-U+009F): NEL, and the 8-bit CSI
     * whose parameters are left as harmless text */
    expect_clean("x\xc2\x85y\xc2\x9b"
                 "2Jz",
                 "xy2Jz");
    /* bidi overrides and isolates would reorder what follows */
    expect_clean("abc\xe2\x80\xae"
                 "def\xe2\x81\xa6"
                 "g",
                 "abcdefg");
}

Test(safetext, sanitize_drops_escape_sequences)
{
    expect_clean("\x1b[2Jclear", "clear");
    expect_clean("\x1b[31mred\x1b[0m", "red");
    expect_clean("\x1b[?1049h\x1b[1;31r", "");
    /* OSC ended by BEL or by ST (ESC \), and one that never ends */
    expect_clean("\x1b]0;title\x07text", "text");
    expect_clean("\x1b]8;;http://example.org/\x1b\\link\x1b]8;;\x1b\\", "link");
    expect_clean("a\x1b]0;never ends", "a");
    /* DCS, and the character-set selection that tput sgr0 writes */
    expect_clean("\x1bPq#0;2\x1b\\ok", "ok");
    expect_clean("\x1b[1mbold\x1b(B\x1b[m", "bold");
    expect_clean("\x1b"
                 "creset",
                 "reset");
    /* an ESC before a character that cannot continue it goes alone */
    expect_clean("\x1b\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
}

Test(safetext, sanitize_keeps_utf8_and_replaces_invalid)
{
    expect_clean("Z\xc3\xbcrich \xe4\xb8\xad\xe6\x96\x87 \xe2\x9c\x93",
                 "Z\xc3\xbcrich \xe4\xb8\xad\xe6\x96\x87 \xe2\x9c\x93");
    expect_clean("a\xff"
                 "b",
                 "a?b");
    expect_clean("\xc0\xaf", "??");       /* overlong '/' */
    expect_clean("\xed\xa0\x80", "???");  /* a UTF-16 surrogate */
    expect_clean("end\xe4\xb8", "end??"); /* cut short */
    expect_clean("\xcc\x81"
                 "a",
                 "a");                      /* a combining mark with nothing to combine with */
    expect_clean("e\xcc\x81", "e\xcc\x81"); /* ... and one with */
}

Test(safetext, sanitize_stops_at_the_first_character_that_does_not_fit)
{
    char out[5];
    sr_text_clean("ab\xe4\xb8\xad"
                  "d",
                  out, sizeof out);
    cr_assert_str_eq(out, "ab", "a later character must not take the place of one left out");
    char one[1] = {'x'};
    sr_text_clean("abc", one, sizeof one);
    cr_assert_eq(one[0], '\0');
    char buf[8];
    cr_assert_str_eq(sr_text_clean(NULL, buf, sizeof buf), "");
}

/* ---- classification ---- */

Test(safetext, controls_are_c0_del_c1_and_bidi)
{
    static const uint32_t yes[] = {0x00, 0x07, 0x1b,   0x1f,   0x7f,   0x80,  0x85,
                                   0x9b, 0x9f, 0x202a, 0x202e, 0x2066, 0x2069};
    static const uint32_t no[] = {0x20, 'a', 0x7e, 0xa0, 0xe9, 0x2029, 0x202f, 0x2065, 0x206a};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        cr_assert(sr_text_is_control(yes[i]), "U+%04X is a control", (unsigned)yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        cr_assert_not(sr_text_is_control(no[i]), "U+%04X is not a control", (unsigned)no[i]);
}

Test(safetext, escape_sequences_are_measured_whole)
{
    const char *osc52 = "\x1b]52;c;UkVK\x07rest";
    cr_assert_eq(sr_text_escape_len((const unsigned char *)osc52, strlen(osc52)), 12);
    const char *csi = "\x1b[2Jx";
    cr_assert_eq(sr_text_escape_len((const unsigned char *)csi, strlen(csi)), 4);
    const char *lone = "\x1b";
    cr_assert_eq(sr_text_escape_len((const unsigned char *)lone, 1), 1);
}

/* ---- the payloads of issue 13 ---- */

static const char *const payloads[] = {
    "force/\x1b]52;c;UkVK\x07x", /* OSC 52: writes the clipboard */
    "force/\x1b]0;owned\x07x",   /* OSC 0: the window title */
    "force/\x1b[2Jx",            /* CSI 2J: clears the screen */
    "force/\xc2\x9b"
    "2Jx", /* C1 CSI as U+009B */
    "force/\xe2\x80\xae"
    "x", /* U+202E RIGHT-TO-LEFT OVERRIDE */
    "force/\x9b"
    "2Jx", /* C1 CSI as a raw byte (not UTF-8) */
};

Test(safetext, plain_text_holds_no_control_byte)
{
    for (size_t i = 0; i < sizeof payloads / sizeof *payloads; i++) {
        char out[128];
        sr_text_clean(payloads[i], out, sizeof out);
        cr_assert_null(strchr(out, 0x1b), "ESC left in '%s'", out);
        cr_assert_null(strchr(out, 0x07), "BEL left in '%s'", out);
        cr_assert_null(strstr(out, "\xc2\x9b"), "U+009B left in '%s'", out);
        cr_assert_null(strchr(out, (char)0x9b), "0x9b left in '%s'", out);
        cr_assert_null(strstr(out, "\xe2\x80\xae"), "U+202E left in '%s'", out);
        cr_assert_eq(strncmp(out, "force/", 6), 0, "'%s' lost its start", out);
        cr_assert_eq(out[strlen(out) - 1], 'x', "'%s' lost its end", out);
    }
}

static void expect_escaped(const char *in, const char *want)
{
    char out[256];
    sr_text_escape(in, out, sizeof out);
    cr_assert_str_eq(out, want, "escaping gave '%s', expected '%s'", out, want);
}

Test(safetext, a_log_line_shows_what_came)
{
    expect_escaped(payloads[0], "force/\\x1b]52;c;UkVK\\x07x");
    expect_escaped(payloads[2], "force/\\x1b[2Jx");
    expect_escaped(payloads[3], "force/\\u009b2Jx");
    expect_escaped(payloads[4], "force/\\u202ex");
    expect_escaped(payloads[5], "force/\\x9b2Jx");
    expect_escaped("one\ntwo\tthree", "one\\x0atwo\\x09three");
    expect_escaped("Z\xc3\xbcrich \xe4\xb8\xad", "Z\xc3\xbcrich \xe4\xb8\xad");
}

Test(safetext, a_cut_log_line_ends_at_a_whole_escape)
{
    char out[9];
    sr_text_escape("ab\x1b[2J", out, sizeof out);
    cr_assert_str_eq(out, "ab\\x1b[2", "got '%s'", out);
    char two[4];
    sr_text_escape("a\x1b", two, sizeof two);
    cr_assert_str_eq(two, "a", "got '%s'", two);
}

Test(safetext, fit_cuts_with_the_ellipsis_given)
{
    char out[64];
    cr_assert_str_eq(sr_text_fit("abcdefgh", 5, "...", out, sizeof out), "ab...");
    cr_assert_str_eq(sr_text_fit("abc\x1b[2Jde", 5, "...", out, sizeof out), "abcde");
    cr_assert_str_eq(sr_text_fit("abcdef", -1, "...", out, sizeof out), "abcdef");
    cr_assert_eq(sr_text_width("a\x1b]0;t\x07\xe4\xb8\xad"), 3);
}

/* The quote of a config or theme message: escaped, cut after SR_QUOTE_MAX
 * characters (not bytes) with "...". */
Test(safetext, a_quote_is_escaped_and_cut_by_characters)
{
    char q[SR_QUOTE_SIZE];
    cr_assert_str_eq(sr_text_quote("a\x1b[31mb\xe2\x80\xae", q, sizeof q), "a\\x1b[31mb\\u202e");
    cr_assert_str_eq(sr_text_quote(NULL, q, sizeof q), "");
    char long_text[4 * SR_QUOTE_MAX + 8] = "";
    for (int i = 0; i < SR_QUOTE_MAX + 1; i++)
        strcat(long_text, "\xc3\xa9"); /* é: 2 bytes, 1 character */
    sr_text_quote(long_text, q, sizeof q);
    cr_assert_eq(strlen(q), 2 * SR_QUOTE_MAX + 3, "%s", q);
    cr_assert_str_eq(q + 2 * SR_QUOTE_MAX, "...");
    char small[8];
    cr_assert_str_eq(sr_text_quote("abcdefghij", small, sizeof small), "abcd...");
}
