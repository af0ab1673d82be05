/*
 * wall.h - wall mode's decisions, kept pure so that they are tested without
 * a terminal or a clock: which page an unattended wall shows (rotation, and
 * pinning on CRIT alerts), what its status bar says, and the exit chord.
 *
 * The app owns the state (sr_wall_state) and calls sr_wall_step() with the
 * time and the open alerts whenever either moves; the screen only shows the
 * page and the text it is handed.
 */
#ifndef SR_WALL_H
#define SR_WALL_H

#include <stdbool.h>
#include <stddef.h>

#include "../metrics/alerts.h"
#include "screen.h"

/* What the wall showed last; zero it before the first step. */
typedef struct {
    size_t page;    /* index into the layout's pages */
    sr_ms since_ms; /* when that page was put up; 0: nothing shown yet */
    bool held;      /* the last step held the page for a CRIT alert */
} sr_wall_state;

/* The outcome of one step. */
typedef struct {
    size_t page;         /* the page to show (index into the layout's pages) */
    bool changed;        /* it differs from the page shown before the step */
    bool held;           /* an active CRIT alert holds it (rotation paused) */
    const char *held_by; /* the title of the panel whose alert holds it (borrowed from
                            the layout); NULL when not held */
    size_t n_crit_pages; /* pages holding a panel with an active CRIT alert */
    size_t pos, n;       /* the page is number pos of n rotating (pos 0: not one of them) */
    sr_ms next_in_ms;    /* until the next page; -1 when nothing rotates */
} sr_wall_view;

/*
 * Decides the page at now. rot (n_rot indices into lay->pages, in order)
 * are the pages that rotate, each shown for rotate_ms. An alert in a that
 * is active (neither acknowledged nor silenced) with severity CRIT pins
 * the wall to the first page (in layout order) holding its panel, found by
 * panel name among every page of the layout; with several such pages the
 * wall rotates among them only. When the last such alert goes (cleared or
 * acknowledged), rotation resumes from the page shown, for a whole period.
 * An empty rot rotates through every page. Updates w; never fails.
 */
void sr_wall_step(sr_wall_state *w, const sr_tui_layout *lay, const size_t *rot, size_t n_rot,
                  const sr_alert *a, size_t n_alerts, sr_ms rotate_ms, sr_ms now,
                  sr_wall_view *out);

/*
 * The wall's status line for v: "WALL  page 2/4, next in 12s",
 * "WALL  held: CRIT Emergency response" (with ", 2 pages in CRIT, next in
 * 5s" when several pages take turns), or "WALL  page 1/1". The panel
 * title is copied as it is; the screen makes it safe when drawing.
 */
void sr_wall_status_text(const sr_wall_view *v, char *buf, size_t len);

/*
 * Feeds one key to the exit chord (chord: n key codes, as
 * sr_cfg_key_chord() gives them); *pos is how many keys of it came in a
 * row so far (start at 0). Returns true when this key completes it. Any
 * other key starts over (counting as the chord's first key when it is
 * one); '\r' counts as '\n'.
 */
bool sr_wall_chord_key(const int *chord, size_t n, size_t *pos, int key);

#endif
