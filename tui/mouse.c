/*
 * mouse.c - SGR mouse reports with button-event tracking (see mouse.h).
 *
 * Set-up goes through ncurses first (mousemask with the buttons the
 * screen uses, never REPORT_MOUSE_POSITION): ncurses then turns its own
 * mode off at endwin() and on again after a suspend, and terminals end
 * every tracking mode when any one of them is reset. On top of that the
 * terminal is asked for modes 1002 and 1006, and ESC [ < is bound to a key
 * code of our own, so that ncurses never parses a report in a format it
 * did not ask for: the parser below reads the rest of it key by key, on
 * the loop thread, without waiting for bytes that have not come.
 */
#include "mouse.h"

#include <curses.h>
#include <stdio.h>

/* DEC private modes: 1002 button-event tracking, 1006 SGR coordinates. */
#define MOUSE_ON "\033[?1002h\033[?1006h"
#define MOUSE_OFF "\033[?1006l\033[?1002l"

/* SGR button byte: the low two bits name the button, 32 marks motion,
 * 64 the wheel; 4, 8 and 16 are modifiers. */
#define SGR_BUTTON 3
#define SGR_MOTION 32
#define SGR_WHEEL 64

/* Fields longer than this are no coordinates a terminal would send. */
#define FIELD_DIGITS 5

static sr_mouse_feed_result drop(sr_mouse_parser *p)
{
    p->field = 0;
    return SR_MOUSE_NOT_MINE;
}

/* Fills ev from a finished report; false when it is none the screen uses
 * (a wheel sideways, buttons past the third, bare motion). */
static bool decode(sr_mouse_parser *p, bool release, sr_ms now_ms, sr_mouse_event *ev)
{
    int b = p->v[0];
    *ev = (sr_mouse_event){.button = b & SGR_BUTTON, .y = p->v[2] - 1, .x = p->v[1] - 1};
    if (ev->y < 0 || ev->x < 0 || b >= 128)
        return false;
    if (b & SGR_WHEEL) {
        if (release || (b & SGR_BUTTON) > 1)
            return false;
        ev->kind = (b & SGR_BUTTON) ? SR_MOUSE_WHEEL_DOWN : SR_MOUSE_WHEEL_UP;
        return true;
    }
    if (ev->button == SGR_BUTTON)
        return false; /* motion with no button: only any-event tracking sends it */
    ev->kind = release ? SR_MOUSE_RELEASE : (b & SGR_MOTION) ? SR_MOUSE_DRAG : SR_MOUSE_PRESS;
    if (ev->kind == SR_MOUSE_PRESS && ev->button == 0) {
        ev->double_click = p->last_press_ms > 0 &&
                           now_ms - p->last_press_ms <= SR_MOUSE_DOUBLE_MS && ev->y == p->last_y &&
                           ev->x == p->last_x;
        /* a third press starts again rather than making a second double */
        p->last_press_ms = ev->double_click ? 0 : now_ms;
        p->last_y = ev->y;
        p->last_x = ev->x;
    }
    return true;
}

sr_mouse_feed_result sr_mouse_feed(sr_mouse_parser *p, int key, sr_ms now_ms, sr_mouse_event *ev)
{
    if (key == SR_KEY_MOUSE_SGR) {
        p->field = 1;
        p->v[0] = p->v[1] = p->v[2] = 0;
        p->digits = 0;
        return SR_MOUSE_MORE;
    }
    if (p->field == 0)
        return SR_MOUSE_NOT_MINE;
    if (key >= '0' && key <= '9') {
        if (++p->digits > FIELD_DIGITS)
            return drop(p);
        p->v[p->field - 1] = p->v[p->field - 1] * 10 + (key - '0');
        return SR_MOUSE_MORE;
    }
    if (p->digits == 0)
        return drop(p);
    if (key == ';' && p->field < 3) {
        p->field++;
        p->digits = 0;
        return SR_MOUSE_MORE;
    }
    if ((key == 'M' || key == 'm') && p->field == 3) {
        p->field = 0;
        /* a report the screen does not use is still a whole report, taken */
        return decode(p, key == 'm', now_ms, ev) ? SR_MOUSE_EVENT : SR_MOUSE_MORE;
    }
    return drop(p);
}

void sr_mouse_enable(FILE *out)
{
    mousemask(BUTTON1_PRESSED | BUTTON1_RELEASED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
                  | BUTTON5_PRESSED
#endif
              ,
              NULL);
    /* after ncurses's own mode, which it has written out by now */
    fputs(MOUSE_ON, out);
    fflush(out);
    /* xterm's kmous is ESC [ < itself: it stops meaning KEY_MOUSE */
    define_key("\033[<", 0);
    define_key("\033[<", SR_KEY_MOUSE_SGR);
}

void sr_mouse_disable(FILE *out)
{
    fputs(MOUSE_OFF, out);
    fflush(out);
    mousemask(0, NULL);
}
