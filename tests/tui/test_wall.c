/*
 * test_wall.c - tui/wall.c: which page an unattended wall shows (rotation,
 * CRIT pinning, release on acknowledgement or clear), its status text, and
 * the exit chord. Pure functions: a layout built here, alerts made here,
 * the time passed in.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../tui/wall.h"

/* Four pages of two panels each: page i holds panels 2i and 2i+1. */
static sr_tui_panel panels[8];
static sr_tui_page pages[4];
static size_t page_panels[4][2];
static sr_tui_layout lay;
static char names[8][16], titles[8][32];

static void setup(void)
{
    static const char *const page_names[] = {"overview", "response", "cases", "fleet"};
    for (size_t i = 0; i < 8; i++) {
        snprintf(names[i], sizeof names[i], "p%zu", i);
        snprintf(titles[i], sizeof titles[i], "Panel %zu", i);
        panels[i] = (sr_tui_panel){.name = names[i], .title = titles[i], .widget = "tile"};
    }
    for (size_t i = 0; i < 4; i++) {
        page_panels[i][0] = 2 * i;
        page_panels[i][1] = 2 * i + 1;
        pages[i] = (sr_tui_page){page_names[i], page_names[i], 2, page_panels[i], 2};
    }
    lay = (sr_tui_layout){
        .title = "t", .panels = panels, .n_panels = 8, .pages = pages, .n_pages = 4};
}

TestSuite(wall, .init = setup);

static sr_alert alert(const char *panel, sr_status sev, sr_alert_state state)
{
    sr_alert a;
    memset(&a, 0, sizeof a);
    snprintf(a.panel, sizeof a.panel, "%s", panel);
    a.severity = sev;
    a.state = state;
    return a;
}

#define T0 ((sr_ms)1700000000000LL)
#define ROT ((sr_ms)30 * SR_MS_SEC)

static size_t step(sr_wall_state *w, const size_t *rot, size_t n_rot, const sr_alert *a, size_t n,
                   sr_ms now, sr_wall_view *v)
{
    sr_wall_step(w, &lay, rot, n_rot, a, n, ROT, now, v);
    return v->page;
}

Test(wall, rotates_every_period_through_every_page_and_wraps)
{
    sr_wall_state w = {0};
    sr_wall_view v;
    cr_assert_eq(step(&w, NULL, 0, NULL, 0, T0, &v), 0);
    cr_assert(v.changed);
    cr_assert_eq(v.pos, 1);
    cr_assert_eq(v.n, 4);
    cr_assert_eq(v.next_in_ms, ROT);
    cr_assert_eq(step(&w, NULL, 0, NULL, 0, T0 + ROT - 1, &v), 0);
    cr_assert_not(v.changed);
    cr_assert_eq(v.next_in_ms, 1);
    cr_assert_eq(step(&w, NULL, 0, NULL, 0, T0 + ROT, &v), 1);
    cr_assert(v.changed);
    cr_assert_eq(v.pos, 2);
    /* each page a whole period from when it was put up (a late tick counts from then) */
    cr_assert_eq(step(&w, NULL, 0, NULL, 0, T0 + 2 * ROT + 400, &v), 2);
    cr_assert_eq(step(&w, NULL, 0, NULL, 0, T0 + 3 * ROT + 399, &v), 2);
    cr_assert_eq(step(&w, NULL, 0, NULL, 0, T0 + 3 * ROT + 400, &v), 3);
    cr_assert_eq(step(&w, NULL, 0, NULL, 0, T0 + 4 * ROT + 400, &v), 0, "wraps to the first");
}

Test(wall, rotates_only_through_the_chosen_pages)
{
    size_t rot[] = {3, 1};
    sr_wall_state w = {0};
    sr_wall_view v;
    cr_assert_eq(step(&w, rot, 2, NULL, 0, T0, &v), 3, "starts at the first listed");
    cr_assert_eq(v.pos, 1);
    cr_assert_eq(v.n, 2);
    cr_assert_eq(step(&w, rot, 2, NULL, 0, T0 + ROT, &v), 1);
    cr_assert_eq(v.pos, 2);
    cr_assert_eq(step(&w, rot, 2, NULL, 0, T0 + 2 * ROT, &v), 3);
}

Test(wall, one_page_never_turns)
{
    size_t rot[] = {2};
    sr_wall_state w = {0};
    sr_wall_view v;
    cr_assert_eq(step(&w, rot, 1, NULL, 0, T0, &v), 2);
    cr_assert_eq(step(&w, rot, 1, NULL, 0, T0 + 10 * ROT, &v), 2);
    cr_assert_eq(v.next_in_ms, -1);
    char text[128];
    sr_wall_status_text(&v, text, sizeof text);
    cr_assert_str_eq(text, "WALL  page 1/1");
}

Test(wall, an_active_crit_alert_jumps_to_its_page_and_holds_it)
{
    sr_wall_state w = {0};
    sr_wall_view v;
    step(&w, NULL, 0, NULL, 0, T0, &v);
    sr_alert a = alert("p5", SR_STATUS_CRIT, SR_ALERT_ACTIVE);
    cr_assert_eq(step(&w, NULL, 0, &a, 1, T0 + 1000, &v), 2, "p5 is on page 2");
    cr_assert(v.changed);
    cr_assert(v.held);
    cr_assert_str_eq(v.held_by, "Panel 5");
    cr_assert_eq(v.next_in_ms, -1);
    for (int k = 1; k <= 10; k++)
        cr_assert_eq(step(&w, NULL, 0, &a, 1, T0 + 1000 + k * ROT, &v), 2, "held");
    char text[128];
    sr_wall_status_text(&v, text, sizeof text);
    cr_assert_str_eq(text, "WALL  held: CRIT Panel 5");
}

Test(wall, a_crit_alert_on_a_page_outside_the_rotation_still_takes_the_wall)
{
    size_t rot[] = {0, 1};
    sr_wall_state w = {0};
    sr_wall_view v;
    step(&w, rot, 2, NULL, 0, T0, &v);
    sr_alert a = alert("p7", SR_STATUS_CRIT, SR_ALERT_ACTIVE);
    cr_assert_eq(step(&w, rot, 2, &a, 1, T0 + 5, &v), 3);
    cr_assert(v.held);
    /* cleared: back into the rotation at once */
    cr_assert_eq(step(&w, rot, 2, NULL, 0, T0 + 6, &v), 0);
    cr_assert_not(v.held);
    cr_assert_eq(v.next_in_ms, ROT);
}

Test(wall, warn_acked_and_silenced_alerts_do_not_hold)
{
    sr_alert a[] = {alert("p3", SR_STATUS_WARN, SR_ALERT_ACTIVE),
                    alert("p5", SR_STATUS_CRIT, SR_ALERT_ACKED),
                    alert("p7", SR_STATUS_CRIT, SR_ALERT_SILENCED),
                    alert("p1", SR_STATUS_CRIT, SR_ALERT_CLEARED),
                    alert("nowhere", SR_STATUS_CRIT, SR_ALERT_ACTIVE)};
    sr_wall_state w = {0};
    sr_wall_view v;
    cr_assert_eq(step(&w, NULL, 0, a, 5, T0, &v), 0);
    cr_assert_not(v.held);
    cr_assert_eq(step(&w, NULL, 0, a, 5, T0 + ROT, &v), 1, "rotation goes on");
}

Test(wall, acknowledgement_releases_and_rotation_resumes_after_a_whole_period)
{
    sr_wall_state w = {0};
    sr_wall_view v;
    sr_alert a = alert("p2", SR_STATUS_CRIT, SR_ALERT_ACTIVE);
    cr_assert_eq(step(&w, NULL, 0, &a, 1, T0, &v), 1);
    cr_assert_eq(step(&w, NULL, 0, &a, 1, T0 + 5 * ROT, &v), 1);
    a.state = SR_ALERT_ACKED; /* another viewer acknowledged it, through the cache */
    cr_assert_eq(step(&w, NULL, 0, &a, 1, T0 + 5 * ROT + 10, &v), 1, "stays for a period");
    cr_assert_not(v.held);
    cr_assert_eq(v.next_in_ms, ROT);
    char text[128];
    sr_wall_status_text(&v, text, sizeof text);
    cr_assert_str_eq(text, "WALL  page 2/4, next in 30s");
    cr_assert_eq(step(&w, NULL, 0, &a, 1, T0 + 6 * ROT + 10, &v), 2, "then rotates again");
}

Test(wall, several_crit_pages_take_turns_among_themselves_only)
{
    sr_wall_state w = {0};
    sr_wall_view v;
    step(&w, NULL, 0, NULL, 0, T0, &v);
    sr_alert a[] = {alert("p7", SR_STATUS_CRIT, SR_ALERT_ACTIVE),
                    alert("p3", SR_STATUS_CRIT, SR_ALERT_ACTIVE)};
    cr_assert_eq(step(&w, NULL, 0, a, 2, T0 + 1, &v), 1, "the first in page order");
    cr_assert_str_eq(v.held_by, "Panel 3");
    cr_assert_eq(v.n_crit_pages, 2);
    cr_assert_eq(v.next_in_ms, ROT);
    char text[128];
    sr_wall_status_text(&v, text, sizeof text);
    cr_assert_str_eq(text, "WALL  held: CRIT Panel 3, 2 pages in CRIT, next in 30s");
    cr_assert_eq(step(&w, NULL, 0, a, 2, T0 + 1 + ROT, &v), 3);
    cr_assert_str_eq(v.held_by, "Panel 7");
    cr_assert_eq(step(&w, NULL, 0, a, 2, T0 + 1 + 2 * ROT, &v), 1, "never pages 0 or 2");
    cr_assert_eq(step(&w, NULL, 0, a, 2, T0 + 1 + 3 * ROT, &v), 3);
}

Test(wall, status_text_counts_whole_seconds_up)
{
    sr_wall_view v = {.page = 1, .pos = 2, .n = 4, .next_in_ms = 11001};
    char text[128];
    sr_wall_status_text(&v, text, sizeof text);
    cr_assert_str_eq(text, "WALL  page 2/4, next in 12s");
}

Test(wall, chord_completes_only_in_order)
{
    const int chord[] = {24, 'q'}; /* ctrl-x q */
    size_t pos = 0;
    cr_assert_not(sr_wall_chord_key(chord, 2, &pos, 'q'), "q alone does nothing");
    cr_assert_not(sr_wall_chord_key(chord, 2, &pos, 24));
    cr_assert_not(sr_wall_chord_key(chord, 2, &pos, 'x'), "a wrong key starts over");
    cr_assert_not(sr_wall_chord_key(chord, 2, &pos, 'q'));
    cr_assert_not(sr_wall_chord_key(chord, 2, &pos, 24));
    cr_assert_not(sr_wall_chord_key(chord, 2, &pos, 24), "ctrl-x again is a first key");
    cr_assert(sr_wall_chord_key(chord, 2, &pos, 'q'));
    cr_assert_eq(pos, 0);
    const int enter[] = {'\n'};
    cr_assert(sr_wall_chord_key(enter, 1, &pos, '\r'), "Return counts as Enter");
}
