/*
 * mouse.h - the mouse as sitrep asks for it: button-event tracking (DEC
 * mode 1002: presses, releases and drags, never bare motion) reported in
 * SGR form (DEC mode 1006: ESC [ < b ; x ; y M|m, decimal coordinates, so
 * columns past 223 arrive intact), whatever the terminfo entry says.
 *
 * ncurses picks its mouse protocol from terminfo: xterm-256color announces
 * SGR (kmous \E[<, XM with 1006) but tmux-256color, screen and linux only
 * X10 reports (kmous \E[M), which cannot carry a column past 223, and in
 * every case ncurses asks for mode 1000. So the screen asks for 1002 and
 * 1006 itself, binds ESC [ < to SR_KEY_MOUSE_SGR, and reads the rest of a
 * report from the following keys with sr_mouse_feed(), a pure parser.
 */
#ifndef SR_MOUSE_H
#define SR_MOUSE_H

#include <stdbool.h>
#include <stdio.h>

#include "../metrics/common.h"

/* The key code wgetch returns for ESC [ < once sr_mouse_enable() ran:
 * far above KEY_MAX (0777) and the codes ncurses gives the terminfo
 * entry's extended keys (from KEY_MAX + 1, one per key). */
#define SR_KEY_MOUSE_SGR 0x11ff

/* Two presses of the left button on one cell this close are a double click. */
#define SR_MOUSE_DOUBLE_MS 400

typedef enum {
    SR_MOUSE_PRESS = 1,
    SR_MOUSE_RELEASE,
    SR_MOUSE_DRAG, /* motion with a button held (mode 1002) */
    SR_MOUSE_WHEEL_UP,
    SR_MOUSE_WHEEL_DOWN,
} sr_mouse_kind;

typedef struct {
    sr_mouse_kind kind;
    int button;        /* 0 left, 1 middle, 2 right (presses, releases and drags) */
    int y, x;          /* the cell, 0-based */
    bool double_click; /* a left press on the cell of the previous one, in time */
} sr_mouse_event;

/* A report on its way in, key by key; zero it before the first key. */
typedef struct {
    int field;           /* 0: no report; 1-3: reading b, x, y */
    int v[3];            /* the fields read so far */
    int digits;          /* in the current field */
    int last_y, last_x;  /* the last left press, for double clicks */
    sr_ms last_press_ms; /* 0: none */
} sr_mouse_parser;

typedef enum {
    SR_MOUSE_NOT_MINE = 0, /* key is not part of a report (a broken one is dropped) */
    SR_MOUSE_MORE,         /* key taken: the report goes on, or ended as one the screen
                              does not use (a sideways wheel, bare motion) */
    SR_MOUSE_EVENT,        /* key ended a report: *ev is filled */
} sr_mouse_feed_result;

/*
 * Feeds one key from wgetch: SR_KEY_MOUSE_SGR starts a report, digits and
 * ';' go on with it, 'M' (press, drag, wheel) or 'm' (release) ends it.
 * now_ms is a monotonic clock, for double clicks. A key that cannot belong
 * to the report drops it and is SR_MOUSE_NOT_MINE: the caller handles it
 * as a key.
 */
sr_mouse_feed_result sr_mouse_feed(sr_mouse_parser *p, int key, sr_ms now_ms, sr_mouse_event *ev);

/* Asks the current curses screen's terminal (writing to out, the
 * screen's output) for button-event tracking with SGR reports and binds
 * ESC [ < to SR_KEY_MOUSE_SGR. */
void sr_mouse_enable(FILE *out);

/* Ends the tracking sr_mouse_enable() asked for; before endwin(). */
void sr_mouse_disable(FILE *out);

#endif
