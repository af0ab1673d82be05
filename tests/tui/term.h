/*
 * term.h - a real curses screen for the tui tests: newterm on /dev/null as
 * xterm-256color (80x24, 256 colours, can change colours), ended with
 * endwin() and delscreen() so that nothing leaks under ASan.
 */
#ifndef SR_TEST_TERM_H
#define SR_TEST_TERM_H

#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../../tui/tui.h"

typedef struct {
    SCREEN *scr;
    FILE *out, *in;
} th_term;

static inline void th_term_open(th_term *t)
{
    setenv("TERM", "xterm-256color", 1);
    t->out = fopen("/dev/null", "w");
    t->in = fopen("/dev/null", "r");
    cr_assert(t->out && t->in, "cannot open /dev/null");
    t->scr = newterm("xterm-256color", t->out, t->in);
    cr_assert_not_null(t->scr, "newterm failed");
}

/* The tui tests' usual set-up: the C.UTF-8 locale, the screen open, the
 * Unicode glyphs and the default theme in colour. */
static inline void th_term_setup(th_term *t)
{
    setlocale(LC_ALL, "C.UTF-8");
    th_term_open(t);
    sr_glyphs_select(true);
    sr_theme_init_default(true);
}

static inline void th_term_close(th_term *t)
{
    endwin();
    delscreen(t->scr);
    fclose(t->out);
    fclose(t->in);
}

/* Row y of w as UTF-8 (a wide character once), trailing blanks cut;
 * asserts that it holds no control character. Borrowed; valid until the
 * next call. */
static inline const char *th_row_text(WINDOW *w, int y)
{
    static char buf[2048];
    size_t used = 0;
    for (int x = 0; x < getmaxx(w) && used + 8 < sizeof buf; x++) {
        cchar_t c;
        wchar_t wc[CCHARW_MAX + 1] = {0};
        attr_t at;
        short p;
        if (mvwin_wch(w, y, x, &c) == ERR)
            break;
        getcchar(&c, wc, &at, &p, NULL);
        if (wc[0] == 0)
            continue;
        cr_assert(wc[0] >= 0x20 && wc[0] != 0x7f, "a control character at (%d, %d)", y, x);
        mbstate_t st = {0};
        size_t n = wcrtomb(buf + used, wc[0], &st);
        if (n != (size_t)-1)
            used += n;
    }
    while (used > 0 && buf[used - 1] == ' ')
        used--;
    buf[used] = 0;
    return buf;
}

/* The first row of w that contains text, or -1. */
static inline int th_find_row(WINDOW *w, const char *text)
{
    for (int y = 0; y < getmaxy(w); y++)
        if (strstr(th_row_text(w, y), text))
            return y;
    return -1;
}

#endif
