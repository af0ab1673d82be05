/*
 * Tests of the SGR mouse report parser (tui/mouse.c), key by key as wgetch
 * hands them over: columns past 223, presses, releases, drags, the wheel,
 * double clicks in time and on one cell, and broken reports that must give
 * their keys back.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../tui/mouse.h"

/* Feeds SR_KEY_MOUSE_SGR then the characters of rest; the last result. */
static sr_mouse_feed_result feed(sr_mouse_parser *p, const char *rest, sr_ms now,
                                 sr_mouse_event *ev)
{
    sr_mouse_feed_result r = sr_mouse_feed(p, SR_KEY_MOUSE_SGR, now, ev);
    for (const char *c = rest; *c; c++) {
        cr_assert_eq(r, SR_MOUSE_MORE, "ended before '%s'", c);
        r = sr_mouse_feed(p, (unsigned char)*c, now, ev);
    }
    return r;
}

Test(mouse, a_press_past_column_223_keeps_its_column)
{
    sr_mouse_parser p = {0};
    sr_mouse_event ev;
    cr_assert_eq(feed(&p, "0;250;10M", 1000, &ev), SR_MOUSE_EVENT);
    cr_expect_eq(ev.kind, SR_MOUSE_PRESS);
    cr_expect_eq(ev.button, 0);
    cr_expect_eq(ev.x, 249);
    cr_expect_eq(ev.y, 9);
    cr_expect_not(ev.double_click);
    cr_assert_eq(feed(&p, "0;250;10m", 1000, &ev), SR_MOUSE_EVENT);
    cr_expect_eq(ev.kind, SR_MOUSE_RELEASE);
    cr_expect_eq(ev.x, 249);
    cr_assert_eq(feed(&p, "2;1200;300M", 1000, &ev), SR_MOUSE_EVENT);
    cr_expect_eq(ev.button, 2, "right button, with modifiers kept apart");
    cr_expect_eq(ev.x, 1199);
    cr_expect_eq(ev.y, 299);
}

Test(mouse, drags_and_the_wheel)
{
    sr_mouse_parser p = {0};
    sr_mouse_event ev;
    cr_assert_eq(feed(&p, "32;5;6M", 0, &ev), SR_MOUSE_EVENT);
    cr_expect_eq(ev.kind, SR_MOUSE_DRAG);
    cr_assert_eq(feed(&p, "64;5;6M", 0, &ev), SR_MOUSE_EVENT);
    cr_expect_eq(ev.kind, SR_MOUSE_WHEEL_UP);
    cr_assert_eq(feed(&p, "65;5;6M", 0, &ev), SR_MOUSE_EVENT);
    cr_expect_eq(ev.kind, SR_MOUSE_WHEEL_DOWN);
    cr_assert_eq(feed(&p, "80;5;6M", 0, &ev), SR_MOUSE_EVENT, "wheel up with Ctrl");
    cr_expect_eq(ev.kind, SR_MOUSE_WHEEL_UP);
    /* taken, but nothing the screen uses: a sideways wheel, bare motion */
    cr_expect_eq(feed(&p, "66;5;6M", 0, &ev), SR_MOUSE_MORE);
    cr_expect_eq(feed(&p, "35;5;6M", 0, &ev), SR_MOUSE_MORE);
    cr_expect_eq(sr_mouse_feed(&p, 'x', 0, &ev), SR_MOUSE_NOT_MINE, "the report had ended");
}

Test(mouse, a_double_click_is_two_presses_on_one_cell_in_time)
{
    sr_mouse_parser p = {0};
    sr_mouse_event ev;
    feed(&p, "0;7;3M", 5000, &ev);
    feed(&p, "0;7;3m", 5050, &ev);
    feed(&p, "0;7;3M", 5000 + SR_MOUSE_DOUBLE_MS, &ev);
    cr_expect(ev.double_click);
    feed(&p, "0;7;3M", 5000 + SR_MOUSE_DOUBLE_MS + 10, &ev);
    cr_expect_not(ev.double_click, "a third press starts again");
    feed(&p, "0;8;3M", 5000 + SR_MOUSE_DOUBLE_MS + 20, &ev);
    cr_expect_not(ev.double_click, "another cell");
    feed(&p, "0;8;3M", 5000 + 3 * SR_MOUSE_DOUBLE_MS, &ev);
    cr_expect_not(ev.double_click, "too late");
}

Test(mouse, a_broken_report_gives_its_key_back)
{
    sr_mouse_parser p = {0};
    sr_mouse_event ev;
    cr_expect_eq(sr_mouse_feed(&p, 'q', 0, &ev), SR_MOUSE_NOT_MINE, "no report: a key");
    const char *broken[] = {"0;250q", "0;;10M", "0;250M", "0;1;2;3M", "0;1234567;1M", "M"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        sr_mouse_feed_result r = sr_mouse_feed(&p, SR_KEY_MOUSE_SGR, 0, &ev);
        const char *c = broken[i];
        while (*c && r == SR_MOUSE_MORE)
            r = sr_mouse_feed(&p, (unsigned char)*c++, 0, &ev);
        cr_expect_eq(r, SR_MOUSE_NOT_MINE, "%s", broken[i]);
        cr_expect_eq(sr_mouse_feed(&p, 'q', 0, &ev), SR_MOUSE_NOT_MINE, "%s: then keys", broken[i]);
    }
    cr_assert_eq(feed(&p, "0;0;10M", 0, &ev), SR_MOUSE_MORE, "column 0 does not exist");
}
