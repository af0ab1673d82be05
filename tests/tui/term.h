/*
 * term.h - a real curses screen for the tui tests: newterm on /dev/null as
 * xterm-256color (80x24, 256 colours, can change colours), ended with
 * endwin() and delscreen() so that nothing leaks under ASan.
 */
#ifndef SR_TEST_TERM_H
#define SR_TEST_TERM_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

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

static inline void th_term_close(th_term *t)
{
    endwin();
    delscreen(t->scr);
    fclose(t->out);
    fclose(t->in);
}

#endif
