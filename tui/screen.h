/*
 * screen.h - the dashboard screen: pages of panels on a grid, focus,
 * drill-down, time navigation, the status bar and the help overlay.
 *
 * The screen is a view of the cache: it never polls a source. app/ owns the
 * event loop and tells the screen about keys, resizes, new data and the
 * clock; the screen recomputes only what is dirty and draws with
 * wnoutrefresh + one doupdate per render.
 *
 * The same code renders without a terminal for `sitrep snapshot --format
 * text` (sr_screen_render_text): a curses screen on /dev/null of the asked
 * size, drawn by the same widgets, read back cell by cell.
 */
#ifndef SR_SCREEN_H
#define SR_SCREEN_H

#include <stdbool.h>
#include <stdio.h>

#include "../metrics/panel.h"
#include "../metrics/privacy.h"
#include "../metrics/sources.h"
#include "../metrics/store.h"

/* One panel as configured (all strings borrowed for the screen's life). */
typedef struct {
    const char *name;
    const char *title;
    const char *short_title; /* where title does not fit; NULL or "" = none */
    const char *widget;      /* "tile", "bars", ... */
    sr_panel_spec spec;
} sr_tui_panel;

typedef struct {
    const char *name;
    const char *title;
    int columns;
    const size_t *panels; /* indices into sr_tui_layout.panels */
    size_t n_panels;
} sr_tui_page;

/* The screen's audit hook (metrics/privacy.h): the screen never writes the
 * cache itself. */
typedef sr_audit_fn sr_tui_audit_fn;

/* Everything the screen shows, as configured (borrowed). */
typedef struct {
    const char *title;    /* "Demo Police" */
    const char *timezone; /* for the clock */
    const sr_catalog *cat;
    const sr_tui_panel *panels;
    size_t n_panels;
    const sr_tui_page *pages;
    size_t n_pages;
    const sr_source_conf *sources; /* the configured sources, in config order */
    size_t n_sources;
    /* What the role may see (metrics/privacy.h), applied to every model the
     * screen computes, drill-down and snapshot text included; NULL: no
     * policy. The hook (may be NULL) audits views of personal data. */
    const sr_privacy *privacy;
    sr_tui_audit_fn audit;
    void *audit_ctx;
} sr_tui_layout;

/* Source state for the status bar and the panels' staleness. */
typedef struct {
    int live, total;
    int failing;             /* of total, how many failed their last poll */
    const char *role;        /* "collector", "viewer" */
    const char *const *late; /* names of the sources that are late or failing */
    size_t n_late;
} sr_tui_sources;

typedef struct sr_screen sr_screen;
typedef struct sr_theme sr_theme;

/*
 * Reads a colour theme (a name looked up as NAME.ini in dirs, or a path);
 * no curses needed, so the app can refuse a bad theme before the screen
 * takes the terminal. Same contract as sr_theme_load() in tui.h.
 */
int sr_screen_theme_load(const char *name_or_path, const char *const *dirs, sr_theme **out,
                         char *err, size_t errlen);
void sr_screen_theme_destroy(sr_theme *t);

enum {
    SR_SCREEN_COLOR = 1 << 0, /* use colour when the terminal has it */
    SR_SCREEN_UTF8 = 1 << 1,  /* line drawing, blocks, braille */
    SR_SCREEN_MOUSE = 1 << 2,
    SR_SCREEN_WALL = 1 << 3, /* wall mode: raw input (Ctrl-C is a key, not a signal), no
                                focus, large numerals, the hint line left to
                                sr_screen_set_wall_text() */
};

/*
 * Sets up curses on the terminal (initscr-like, via newterm on stdin and
 * stdout) and the screen state, in theme's colours (NULL: the built-in
 * ones; without SR_SCREEN_COLOR, attributes only). lay, st and theme are
 * borrowed and must outlive the screen. Caller owns *out; free with sr_screen_destroy(), which
 * restores the terminal.
 */
int sr_screen_create(sr_store *st, const sr_tui_layout *lay, unsigned flags, const sr_theme *theme,
                     sr_screen **out);
void sr_screen_destroy(sr_screen *s);

/* Restores the terminal (endwin); safe from a fatal path and twice. */
void sr_screen_restore_terminal(void);

/* What a key did; the order is the precedence when several keys come at
 * once. SR_KEY_REPORT: the user asked for the shift report (key e); the
 * app writes it and tells the screen with sr_screen_set_message().
 * SR_KEY_ALERT: the user confirmed an acknowledgement or a silence in the
 * alerts view; the app takes it with sr_screen_take_alert_request(),
 * writes it and tells the screen the outcome. */
typedef enum {
    SR_KEY_NONE = 0,
    SR_KEY_HANDLED,
    SR_KEY_REPORT,
    SR_KEY_ALERT,
    SR_KEY_QUIT
} sr_key_result;

/* Handles one key or mouse event (from wgetch). */
sr_key_result sr_screen_key(sr_screen *s, int key);

/* Reads every pending key from the terminal (non-blocking) and handles it;
 * SR_KEY_QUIT when one of them asked to quit, else SR_KEY_REPORT when one
 * asked for the report. */
sr_key_result sr_screen_input(sr_screen *s);

/*
 * Wall mode's input: reads every pending key and ignores it, except a
 * resize and the exit chord (chord: n key codes; *pos carries how much of
 * it came, see sr_wall_chord_key() in wall.h). SR_KEY_QUIT when the chord
 * was completed, else SR_KEY_NONE.
 */
sr_key_result sr_screen_input_locked(sr_screen *s, const int *chord, size_t n, size_t *pos);

/* Shows page (an index into the layout's pages) from the grid, as the
 * keys 1-9 do; a no-op when it is already shown or out of range. */
void sr_screen_set_page(sr_screen *s, size_t page);

/* Wall mode: the bottom line's text instead of the key hints (copied,
 * made safe when drawn), such as "WALL  page 2/4, next in 12s". */
void sr_screen_set_wall_text(sr_screen *s, const char *text);

/* Shows text (copied, made safe) in the hint line until until_ms. */
void sr_screen_set_message(sr_screen *s, const char *text, sr_ms until_ms);

/* Where the windows end at now: now, or earlier after [ ] or --at. */
sr_ms sr_screen_window_end(const sr_screen *s, sr_ms now);

/* The terminal changed size (after SIGWINCH): rows x cols, or 0 x 0 to
 * keep curses' own idea of the size. */
void sr_screen_resize(sr_screen *s);
void sr_screen_resize_to(sr_screen *s, int rows, int cols);

/*
 * A backfill is under way, pct of it done (0..100; -1 = none): panels
 * without data say "loading history N %" instead of "no data", and their
 * frames show no age, until it is set back to -1. Redraws only when the
 * text changes.
 */
void sr_screen_set_loading(sr_screen *s, int pct);

/* The cache has new data: every panel is recomputed at the next render. */
void sr_screen_data_changed(sr_screen *s);

/* The samples of metric changed (sr_store_changes): the panels that read
 * it, as their own metric or a ratio's numerator or denominator, and the
 * drill-down of one of them, are recomputed at the next render; no other. */
void sr_screen_metric_changed(sr_screen *s, const char *metric);

/* The cache changed (a commit of any kind): the sources and rejects views
 * read it again; no panel is recomputed. */
void sr_screen_sources_changed(sr_screen *s);

/* Whether the next render may read the cache (a model to compute, a view
 * that reads it); false when it only redraws the clock. */
bool sr_screen_reads_cache(const sr_screen *s);

/* How many times the screen has computed the model of panel (an index
 * into the layout's panels) since it was created, the drill-down's apart:
 * what the tests count a refresh by. */
size_t sr_screen_computes(const sr_screen *s, size_t panel);

void sr_screen_set_sources(sr_screen *s, const sr_tui_sources *src);

/*
 * The sources as the cache has them now (l is copied): the sources view
 * (key s) shows them, and the status bar's count and the panels' staleness
 * follow them (sr_screen_set_sources() with the configured sources: live
 * ones counted, the others late). role is "collector" or "viewer" (or NULL).
 */
void sr_screen_set_source_list(sr_screen *s, const sr_source_list *l, const char *role);

/*
 * The open alerts (raised: active, acknowledged or silenced) as the cache
 * has them, crit first (a is copied; n may be 0). The status bar counts
 * them by severity; the alerts view lists them.
 */
void sr_screen_set_alerts(sr_screen *s, const sr_alert *a, size_t n);

/* The open alerts the role may see, as sr_screen_set_alerts() filtered
 * them (borrowed; valid until the next sr_screen_set_alerts()); *n their
 * number. Wall mode's CRIT hold judges these, so the policy runs once. */
const sr_alert *sr_screen_alerts(const sr_screen *s, size_t *n);

/*
 * Whether this user's role may acknowledge and silence alerts (role: its
 * name, copied, for the refusal). A role that may not is told so when it
 * presses Enter or m in the alerts view, before any note is asked for; the
 * app checks again when it writes. The default: may.
 */
void sr_screen_set_alert_rights(sr_screen *s, bool may, const char *role);

/* What the user asked to be done to an alert (the screen never writes). */
typedef struct {
    bool silence;                 /* false: acknowledge */
    char key[SR_ALERT_KEY_MAX];   /* the alert's key */
    char note[SR_ALERT_NOTE_MAX]; /* acknowledge: printable text as typed, may be "" */
    sr_ms for_ms;                 /* silence: how long, from now */
} sr_screen_alert_request;

/* Takes the oldest request not yet taken into *out; false when none. */
bool sr_screen_take_alert_request(sr_screen *s, sr_screen_alert_request *out);

/*
 * Panel computes off the loop thread. By default the screen computes a
 * dirty panel's model inside sr_screen_render(), with its own handle: what
 * `sitrep snapshot` and the benches want. After sr_screen_set_async() it
 * never does: for each panel (and the drill view) it needs, it makes a job
 * holding a copy of everything the compute needs and hands it to
 * submit(ctx, job) (on the loop thread, from the render). Meanwhile the
 * panel draws its last model with a quiet `updating` mark (a panel never
 * computed yet says so, or "loading history N %"). The app runs
 * sr_screen_job_run(job, st) on a worker thread with a store handle that no
 * other thread uses meanwhile, then, back on the loop thread,
 * sr_screen_job_done(s, job), which swaps the model in and redraws the
 * panel, or drops it when what the panel shows has changed since the job
 * was made (window, shift, drill-down, re-rooting, size) and makes a new
 * one at the next render. One job per panel at a time: a panel marked
 * dirty again while its job runs is computed once more after it lands.
 * Audit rows of personal views are written on the loop thread, in
 * sr_screen_job_done(). A job that will never run (the app is shutting
 * down) is handed to sr_screen_job_done() unrun, which frees it.
 */
typedef struct sr_screen_job sr_screen_job;
typedef void (*sr_screen_submit_fn)(void *ctx, sr_screen_job *job); /* consumes job */
void sr_screen_set_async(sr_screen *s, sr_screen_submit_fn submit, void *ctx);
/* Any thread; st is used by this thread only until it returns (borrowed). */
void sr_screen_job_run(sr_screen_job *job, sr_store *st);
/* Loop thread; consumes job (run or not). */
void sr_screen_job_done(sr_screen *s, sr_screen_job *job);
/* How many jobs were handed to submit and have not come back. */
size_t sr_screen_jobs(const sr_screen *s);

/* Recomputes what is dirty and draws; at most one doupdate. */
void sr_screen_render(sr_screen *s, sr_ms now);

/* Fixes where the windows end at end_ms (0 = now, live), as the [ ] keys
 * do; `sitrep --at` starts there. A fixed end stays where it is as time
 * passes: the status bar says HISTORY and that end, with its date, and the
 * panels' ages and staleness are measured from it. */
void sr_screen_set_end(sr_screen *s, sr_ms end_ms);

/* Whether something needs drawing (a key, data, the clock's second). */
bool sr_screen_dirty(const sr_screen *s, sr_ms now);

/*
 * Renders one frame of page (NULL = the first) at width x height into out
 * as plain text (UTF-8 when utf8), through the same widgets, with the
 * windows ending at now; a now more than a minute before the clock (`sitrep
 * snapshot --at`) is a view of the past, and the status bar says HISTORY.
 * Returns 0, SR_ENOENT for an unknown page, or SR_ECORRUPT (the text
 * written, its damaged panels without a figure) when a panel's read met a
 * damaged cache.
 */
int sr_screen_render_text(sr_store *st, const sr_tui_layout *lay, const char *page, int width,
                          int height, bool utf8, sr_ms now, FILE *out);

/*
 * A screen like sr_screen_create()'s on no terminal: curses on /dev/null as
 * xterm-256color, width x height (no mouse). What `snapshot --format text`
 * draws on, and what the tests drive with sr_screen_key() and read back
 * with sr_screen_write_text(). Free with sr_screen_destroy().
 */
int sr_screen_create_headless(sr_store *st, const sr_tui_layout *lay, unsigned flags, int width,
                              int height, sr_screen **out);
/* Writes what the screen shows now (after sr_screen_render()) to out as
 * plain text, a line a row, trailing blanks cut; the hint line too when
 * hints. */
void sr_screen_write_text(sr_screen *s, bool hints, FILE *out);
/*
 * Text from data made safe for a terminal outside curses (`sitrep
 * sources`): control characters and escape sequences dropped as the screen
 * drops them, cut to max_cols columns (< 0: no limit) ending with the
 * ellipsis of the UTF-8 or ASCII glyph set. Returns out.
 */
char *sr_screen_text(const char *text, int max_cols, bool utf8, char *out, size_t outlen);

/* The key bindings, for `sitrep --help` and the help overlay. */
typedef struct {
    const char *keys;
    const char *what;
} sr_key_help;

const sr_key_help *sr_screen_key_help(size_t *n);

#endif
