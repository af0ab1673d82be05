/*
 * alertview.h - the dashboard's alerts view (key a), drawn into the window
 * screen.c gives it. Internal to tui/: screen.c owns the state (the list,
 * the selection, the note being typed) and the keys; these functions only
 * format and draw.
 */
#ifndef SR_TUI_ALERTVIEW_H
#define SR_TUI_ALERTVIEW_H

#include "screen.h"
#include "tui.h"

/* What the alerts view shows (all borrowed for the call). */
typedef struct {
    const sr_alert *v; /* the open alerts, crit first */
    size_t n;
    int selected; /* index into v */
    int scroll;   /* first row shown, a hint (wkit_list_first) */
    sr_ms now;
    const sr_tui_layout *lay; /* panel titles, the metrics' units, the time zone */
    bool may_act;             /* the role may acknowledge: the hint says how */
    const char *withheld;     /* "" or NULL, or the line counting the alerts withheld */
} alertview;

/* One alert as the table shows it: every cell's text (sanitised). */
typedef struct {
    char severity[32];                /* "✖ crit", "◆ warn" (ASCII: "X crit") */
    char panel[160];                  /* the panel's title, else its name */
    char entity[SR_ALERT_ENTITY_MAX]; /* "(all)" for the whole */
    char value[64];                   /* with the metric's unit, as the tile shows it */
    char threshold[64];
    char state[128]; /* "active", "acked by ann", "silenced until 14:30" */
    char raised[96]; /* "14:03 (12m ago)"; another day: "26 Nov 14:03 (1d ago)" */
    char note[SR_ALERT_NOTE_MAX];
} alertview_row;

/* Formats alert i of v into *out. */
void alertview_format(const alertview *v, size_t i, alertview_row *out);

/*
 * Draws the alerts table into w (one row per alert: severity as symbol and
 * word, panel, entity, value, threshold, state, raised at, the note when
 * there is room) and, below it when the window is tall enough, the
 * selected alert in full. Returns the table rows visible (for paging).
 */
int alertview_draw(WINDOW *w, const alertview *v);

#endif
