/*
 * srcview.h - the dashboard's sources view (key s) and a source's rejected
 * rows (Enter on a source), drawn into the window screen.c gives them.
 * Internal to tui/: screen.c owns the state (the list, the selection, the
 * rejects read from the cache) and the keys; these functions only draw.
 */
#ifndef SR_TUI_SRCVIEW_H
#define SR_TUI_SRCVIEW_H

#include "../metrics/privacy.h"
#include "../metrics/sources.h"
#include "tui.h"

/* What the sources view shows (all borrowed for the call). */
typedef struct {
    const sr_source_list *l;
    int selected; /* index into l->v */
    int scroll;   /* first row shown, a hint (wkit_list_first) */
    sr_ms now;
    const char *timezone; /* for absolute times; NULL = UTC */
} srcview_sources;

/*
 * Draws the sources table into w (one row per source: name, type, state as
 * symbol and word, last success, next poll, rows accepted, duplicate and
 * rejected, and the last error when there is room) and, below it when the
 * window is tall enough, the selected source in full: absolute times, the
 * counts, its whole last error. Every text from the cache goes through
 * sr_tui_put(). Returns the table rows visible (for paging keys).
 */
int srcview_draw_sources(WINDOW *w, const srcview_sources *v);

/* One rejected row (strings owned by whoever fills it). */
typedef struct {
    sr_ms ts_ms;
    char *where, *raw, *reason;
} srcview_reject;

typedef struct {
    const char *source;
    const srcview_reject *v; /* newest first */
    size_t n;
    int64_t total; /* rejected rows of the source in the cache */
    int selected, scroll;
    const char *timezone;
    /* the role's policy (NULL: none): without sr_privacy_raw_shown(), each
     * row's reason and raw text are withheld and a line says why */
    const sr_privacy *privacy;
} srcview_rejects;

/*
 * Draws the rejected rows into w, two lines each: when, where and the
 * reason; then the raw input, sanitised and cut to the width. Returns the
 * entries visible.
 */
int srcview_draw_rejects(WINDOW *w, const srcview_rejects *v);

#endif
