/*
 * privacy.h - what a role may see of a panel model: which entities are
 * hidden, which values are suppressed, and what to show instead.
 *
 * The policy is a plain value (sr_privacy) built by app/ from [sitrep]
 * levels, personal and min_cell and the role's drill and personal; the
 * functions that decide are pure, so every path a value leaves the program
 * by (the screen, `sitrep snapshot` in every format, `sitrep query`) asks
 * the same questions and gets the same answers.
 *
 * The rules (README "Roles and privacy" says the same for users):
 *   - An entity's level is the number of parts of its path (force = 1,
 *     force/north = 2, ...). An entity is personal when its level, or a
 *     level above it, is marked personal.
 *   - Hidden entities: those deeper than the role's drill depth, and
 *     personal ones for a role without `personal`. A hidden entity is never
 *     shown: not as a row, not in the events, not as a query's answer.
 *   - A metric is personal when it is recorded at a personal level (each
 *     observation belongs to one person; sr_privacy_metric_personal asks
 *     the cache). For a role without `personal`, a value of a personal
 *     metric that pools fewer than min_cell observations is shown as "<5"
 *     (min_cell 5): fewer observations than that means fewer people, so
 *     such a value could single someone out; a count of them is exactly a
 *     count of people. Its min and max (and last, but for gauges) are each
 *     one person's value and are shown as "hidden".
 *   - No percentile over fewer than min_pct_n (10) observations, for every
 *     role: shown as "n<10". Only the percentile (and what derives from
 *     it) goes: the observations of a metric that is not personal (the
 *     events of a leaf, the histogram) are shown whatever their number.
 *   - Windows on a grid (differencing): for a role without `personal`, a
 *     figure of a personal metric is computed over its window aligned to
 *     grid_ms ([sitrep] cell_grid: the start snapped down, the end snapped
 *     down, so only whole slices that are over count), and it is shown
 *     only when every cell in it that holds observations holds at least
 *     min_cell; a cell is one grid slice of one entity at the cell level
 *     (the deepest level the role may open that is not personal). Any
 *     figure the role can obtain is then a sum of whole cells, so no
 *     difference of two of them (two windows, nested or not; a parent and
 *     its visible children) isolates fewer than min_cell observations.
 *   - Rejected rows are input that failed to parse: their raw text and
 *     reason cannot be shown to hold no personal data, so for a role
 *     without `personal` (when a level is personal) they are withheld, and
 *     counted.
 *   - Alerts: an alert whose entity is hidden, or whose metric is personal
 *     (its value pools an unknown number of observations), is withheld
 *     from a role without `personal`, and counted. A figure no role is
 *     shown ("n<10") never raises, clears or is written in an alert
 *     (app/alerting.c computes its panels through sr_privacy_panel_compute).
 *   - A suppressed value does not leak by another path of the same model:
 *     with the headline suppressed, its status, change, share within target,
 *     series, histogram and events go too (but the histogram and events of
 *     a metric that is not personal under "n<10"); the previous and week-ago values
 *     follow the same rules on their own counts (and the change goes with
 *     either); series slices and rows are judged on their own counts.
 */
#ifndef SR_PRIVACY_H
#define SR_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi.h"
#include "panel.h"
#include "sources.h"
#include "store.h"

#define SR_PRIV_MAX_LEVELS 16
#define SR_PRIV_ANY 1000     /* a drill depth without limit */
#define SR_PRIV_MIN_PCT_N 10 /* the fewest observations a percentile is shown over */
#define SR_PRIV_MASK_MAX 16

/*
 * Called when a view that shows personal-level values opens (a breakdown
 * whose rows are personal entities, the events of a personal entity, a
 * report's panel): once per view, not per frame. action is
 * "view-personal", detail names the panel, metric and entity. Whoever
 * shows the view calls it; the app writes the audit row.
 */
typedef void (*sr_audit_fn)(void *ctx, const char *action, const char *detail);

typedef struct {
    bool personal[SR_PRIV_MAX_LEVELS + 1]; /* by level, index 1 = level 1 */
    bool see_personal;                     /* the role may see personal-level data */
    int drill;                             /* deepest level shown; SR_PRIV_ANY */
    int min_cell;                          /* >= 1; values of fewer observations show as <N */
    int min_pct_n;                         /* SR_PRIV_MIN_PCT_N */
    int64_t grid_ms;                       /* the slice of the differencing grid; 0: no grid */
    /* For messages only. */
    char role[SR_NAME_MAX];
    char levels[SR_PRIV_MAX_LEVELS][SR_NAME_MAX]; /* level names, level 1 first */
    size_t n_levels;
} sr_privacy;

/* A policy that hides nothing and suppresses only percentiles over fewer
 * than SR_PRIV_MIN_PCT_N observations. */
void sr_privacy_init(sr_privacy *p);

typedef enum { SR_PRIV_SHOWN = 0, SR_PRIV_TOO_DEEP, SR_PRIV_PERSONAL } sr_priv_hide;

/* Number of parts of path ("" and NULL: 0). */
int sr_privacy_level(const char *path);

/* Whether the entity at path is personal (its level or one above it). */
bool sr_privacy_is_personal(const sr_privacy *p, const char *path);

/* Whether the role may see the entity at path, and why not. */
sr_priv_hide sr_privacy_entity(const sr_privacy *p, const char *path);

/*
 * What to show instead of a value of aggregate agg over n observations of a
 * metric of kind (personal or not): NULL when the value may be shown, else
 * a static text ("<5", "n<10", "hidden"). A value without observations
 * (n == 0) is shown as it is (no data). The last of a gauge is not one
 * person's value (a parent sums its children's latest); of other kinds it
 * is, as min and max are.
 */
const char *sr_privacy_value(const sr_privacy *p, bool metric_personal, sr_kind kind, sr_agg agg,
                             int64_t n);

/* What sr_privacy_apply did. */
typedef struct {
    bool entity_hidden;   /* the model's own entity: every value cleared */
    sr_priv_hide why;     /* of entity_hidden */
    size_t rows_deep;     /* rows with data in the window removed: deeper than the drill depth */
    size_t rows_personal; /* rows with data in the window removed: personal (rows without any,
                             e.g. officers under a unit-level metric, are removed uncounted) */
    size_t events_hidden; /* events removed (of hidden entities, or all with the headline) */
    bool personal_shown;  /* personal-level values are left in the model (audit the view) */
} sr_privacy_report;

/*
 * Applies p to m, the model of entity (NULL or "" = the whole tree) of a
 * metric that is personal or not: removes hidden rows and events, replaces
 * suppressed values by NAN and sets m->mask / row->mask to the text to show
 * instead, clears what would give a suppressed value away (see the file
 * comment). Series slices and row series are judged by m->series_n and
 * row->series_n (SR_PANEL_SERIES_N): without them, a percentile's or a
 * personal metric's series is cleared. Slices that held a value and were
 * cleared are counted in m->series_hidden and row->series_hidden, so a
 * widget can tell a suppressed series from an empty one. out may be NULL.
 * Never fails.
 */
void sr_privacy_apply(const sr_privacy *p, const char *entity, bool metric_personal,
                      sr_panel_model *m, sr_privacy_report *out);

/*
 * Applies p to one figure res of entity, a metric of kind that is personal
 * or not, aggregated by agg (a query's answer, a table's row): the one
 * rule for a row. Returns false when the entity is hidden (counted in
 * rep->rows_deep or rows_personal when it has data: n > 0 or a value).
 * Else true, with *mask NULL or the text to show instead of the value (the
 * value is then NAN), and rep->personal_shown set when a personal entity's
 * value is shown. rep may be NULL.
 */
bool sr_privacy_figure(const sr_privacy *p, bool metric_personal, sr_kind kind, sr_agg agg,
                       const char *entity, sr_result *res, const char **mask,
                       sr_privacy_report *rep);

/*
 * Writes one line saying how many rows were hidden and why ("12 rows
 * hidden: officer is personal data, which role manager may not see"), or ""
 * when none were.
 */
void sr_privacy_hidden_text(const sr_privacy *p, const sr_privacy_report *r, char *buf, size_t len);

/*
 * Writes why entity may not be shown or opened ("officer is personal data,
 * which role manager may not see"; "role manager may drill down to district
 * (level 3)").
 */
void sr_privacy_why_text(const sr_privacy *p, sr_priv_hide why, int level, char *buf, size_t len);

/*
 * Whether a metric is personal: its newest sample (either part's, for a
 * ratio) is at a personal level. Not pure: one index seek per metric in
 * the cache. *out is false for a metric without samples. Returns 0 or the
 * store's error.
 */
int sr_privacy_metric_personal(sr_store *st, const sr_catalog *cat, const sr_privacy *p,
                               const char *metric, bool *out);

/* ---- the differencing grid ---- */

/*
 * Whether the window [*from_ms, *to_ms) of a metric that is personal or
 * not is aligned to p's grid (a role without `personal`, a grid): then
 * both ends are snapped down to a multiple of grid_ms since the epoch (the
 * window may become empty) and true is returned. Pure.
 */
bool sr_privacy_grid_window(const sr_privacy *p, bool metric_personal, sr_ms *from_ms,
                            sr_ms *to_ms);

/*
 * The cell level of p: the deepest level its role may open that is not
 * personal (0: the whole tree only).
 */
int sr_privacy_cell_level(const sr_privacy *p);

/* The mask of a figure the grid rule withholds ("<5"). */
const char *sr_privacy_grid_mask(const sr_privacy *p);

/*
 * The window of a panel of window_ms ending at now, for a metric that is
 * personal or not: [now - window_ms, now), or under p's grid (as
 * sr_privacy_grid_window) both ends snapped down, and at least the last
 * whole slice (a window shorter than a slice would be empty). Returns
 * whether the grid applies. Pure.
 */
bool sr_privacy_grid_span(const sr_privacy *p, bool metric_personal, sr_ms now, sr_ms window_ms,
                          sr_ms *from_ms, sr_ms *to_ms);

/*
 * How many points a series over the aligned window [from_ms, to_ms) may
 * have under p's grid so that each is whole slices: the largest n <= want
 * that divides the window's slices (1 at the least); want without a grid.
 * Pure.
 */
size_t sr_privacy_grid_points(const sr_privacy *p, sr_ms from_ms, sr_ms to_ms, size_t want);

/*
 * The thin cells of a metric (a ratio: of either part) over [from_ms,
 * to_ms): the cells that hold observations, but fewer than min_cell. One
 * scan of the raw samples; then any number of figures are judged against
 * it. Caller owns *out; free with sr_privacy_cells_destroy(). p and st are
 * borrowed until then. Returns 0 or the store's error (*out NULL).
 */
typedef struct sr_privacy_cells sr_privacy_cells;
int sr_privacy_cells_read(sr_store *st, const sr_catalog *cat, const sr_privacy *p,
                          const char *metric, sr_ms from_ms, sr_ms to_ms, sr_privacy_cells **out);
void sr_privacy_cells_destroy(sr_privacy_cells *cs);

/*
 * Whether a figure of entity ("" or NULL: the whole tree) over [from_ms,
 * to_ms) may be shown under the grid: the window is whole slices inside
 * the range read, the entity is not deeper than the cell level, and no
 * thin cell lies under it in the window. An empty window: true.
 */
bool sr_privacy_cells_whole(const sr_privacy_cells *cs, const char *entity, sr_ms from_ms,
                            sr_ms to_ms);

/*
 * Applies the grid to m, the model of entity of a metric that is personal
 * or not, already through sr_privacy_apply() (with out its report), and
 * computed over a window from sr_privacy_grid_span() with series of
 * sr_privacy_grid_points(): masks the headline (and what derives from it),
 * the previous and week-ago values, each series point (a pooled run as a
 * whole), each row and each point of the rows' series that is not whole
 * good cells (sr_privacy_cells_whole). Nothing without the grid. Not pure:
 * one sr_privacy_cells_read() over the week before the window to its end.
 * On a store error everything of the metric is masked and the error
 * returned.
 */
int sr_privacy_grid_model(sr_store *st, const sr_catalog *cat, const sr_privacy *p,
                          const char *entity, bool metric_personal, sr_panel_model *m,
                          sr_privacy_report *out);

/* ---- the one path ---- */

/*
 * The model of spec as p lets its role see it: the one path by which every
 * output (the screen, `sitrep snapshot` in every format, the report of key
 * e) gets a panel's figures, so that they agree. Asks the cache whether the
 * metric is personal; under the grid (sr_privacy_grid_span) computes over
 * the aligned window ending at or before now, with series of
 * sr_privacy_grid_points(); pools percentile series to p->min_pct_n and
 * asks for the counts per slice (SR_PANEL_SERIES_N) where slices are
 * judged; then sr_panel_compute(), sr_privacy_apply() and
 * sr_privacy_grid_model() (applied also when the compute failed, so that a
 * hidden entity says so). *rep tells what was hidden and whether
 * personal-level values are shown: the caller audits that view (it knows
 * when a view is new) and shows nothing of it when the audit row cannot be
 * written. p NULL: sr_panel_compute() alone, *rep zeroed.
 *
 * Returns sr_panel_compute()'s error, else the store's error of the
 * personal question (the metric is then judged personal: nothing it could
 * single out is shown) or of the grid (everything of the metric masked).
 * The model is always safe to draw and to fini.
 */
int sr_privacy_panel_compute(sr_store *st, const sr_catalog *cat, const sr_privacy *p,
                             const sr_panel_spec *spec, sr_ms now, unsigned what, size_t n_series,
                             size_t n_hist, size_t max_events, sr_panel_model *out,
                             sr_privacy_report *rep);

/* ---- rejected rows, alerts ---- */

/* Whether p shows the raw text and reason of rejected rows (see the file
 * comment). Pure. */
bool sr_privacy_raw_shown(const sr_privacy *p);

/* What a source's last error shows instead for such a role. */
#define SR_PRIV_ERROR_WITHHELD                                                                     \
    "failed (the error is withheld: it may quote input data, which may be personal)"

/*
 * Replaces the last error of each of the n sources in v by
 * SR_PRIV_ERROR_WITHHELD when p does not show rejected rows'
 * raw text (sr_privacy_raw_shown): an adapter's error may quote the input
 * that failed (a row, a field, a name). p NULL: nothing. Returns how many
 * were replaced. Pure.
 */
size_t sr_privacy_sources(const sr_privacy *p, sr_source_info *v, size_t n);

/*
 * Whether an alert on entity of a metric that is personal or not may be
 * listed for p, and why not. Pure.
 */
sr_priv_hide sr_privacy_alert(const sr_privacy *p, const char *entity, bool metric_personal);

/*
 * Removes from v (*n alerts) those p withholds (sr_privacy_alert; whether
 * the metric is personal asked of the cache), keeping the order; *n
 * becomes the number kept, *withheld the number removed and *why the
 * reason (SR_PRIV_PERSONAL when any was personal).
 * Returns 0 or the store's error (then v is unchanged but for the alerts
 * judged so far, which are kept only when shown).
 */
int sr_privacy_alerts(sr_store *st, const sr_catalog *cat, const sr_privacy *p, sr_alert *v,
                      size_t *n, size_t *withheld, sr_priv_hide *why);

/*
 * Writes one line saying that n things (what: "alert", "rejected row") were
 * withheld or left without their text, and why ("2 alerts withheld: officer
 * is personal data, which role default may not see"); "" when n is 0.
 * verb: "withheld" or a longer phrase ("shown without their text").
 */
void sr_privacy_withheld_text(const sr_privacy *p, sr_priv_hide why, size_t n, const char *what,
                              const char *verb, char *buf, size_t len);

#endif
