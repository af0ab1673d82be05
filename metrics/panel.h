/*
 * panel.h - the model of one panel: everything a widget draws, computed from
 * the cache in one place so that the screen, `sitrep snapshot` and the tests
 * see the same figures. Pure computation over the store; no curses.
 */
#ifndef SR_PANEL_H
#define SR_PANEL_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "kpi.h"
#include "query.h"
#include "store.h"

#define SR_SERIES_MAX 256
#define SR_ROW_SERIES 24
#define SR_HIST_MAX 64

/* What a panel asks for (borrowed strings). */
typedef struct {
    const char *metric;
    const char *entity; /* "" = the whole tree */
    sr_agg agg;         /* SR_AGG_VALUE = the metric's own */
    sr_ms window_ms;
} sr_panel_spec;

/* One child entity in a breakdown. */
typedef struct {
    char entity[256]; /* its path */
    sr_result r;
    sr_status status;
    double series[SR_ROW_SERIES]; /* NAN where empty; only with SR_PANEL_ROW_SERIES */
    size_t n_series;
    int leaf; /* it has no children */
} sr_panel_row;

/* One raw observation (for the leaf view). */
typedef struct {
    sr_ms ts_ms;
    char entity[256];
    double value;
    char key[64]; /* the source key, "" when none */
} sr_panel_event;

enum {
    SR_PANEL_SERIES = 1 << 0,     /* series[]: the aggregate in n_series slices */
    SR_PANEL_ROWS = 1 << 1,       /* rows[]: one per child, worst first */
    SR_PANEL_ROW_SERIES = 1 << 2, /* with a short series per row */
    SR_PANEL_HIST = 1 << 3,       /* hist[]: distribution of an event metric */
    SR_PANEL_EVENTS = 1 << 4,     /* events[]: the newest raw observations */
};

typedef struct {
    const sr_metric_def *def; /* borrowed from the catalog */
    sr_agg agg;               /* resolved: never SR_AGG_VALUE except for ratios */
    char agg_name[16];        /* "p90", "last", "value" */
    sr_ms from_ms, to_ms;
    sr_compare c;       /* now, the previous window, a week earlier */
    sr_status status;   /* of c.now.value (sr_kpi_status_for) */
    double change_pct;  /* c.now against c.prev in %, NAN when either is missing or 0 */
    sr_ms newest_ms;    /* newest sample of the metric (both parts of a ratio: the older)
                           in the subtree at or before to_ms; 0 = none */

    double series[SR_SERIES_MAX];
    size_t n_series;

    sr_panel_row *rows; /* caller owns via sr_panel_model_fini */
    size_t n_rows;

    uint64_t hist[SR_HIST_MAX]; /* counts per bin; bin i = [lo + i*w, lo + (i+1)*w) */
    size_t n_hist;
    double hist_lo, hist_hi; /* the last bin also takes values >= hist_hi */

    sr_panel_event *events; /* newest first; caller owns via sr_panel_model_fini */
    size_t n_events;
} sr_panel_model;

/*
 * Computes the model of spec for the window [now - window, now): always the
 * value, comparisons, status and freshness; the rest as `what` asks
 * (n_series slices, up to max_rows rows, n_hist bins, up to max_events
 * events). Returns 0, SR_ENOENT for an unknown metric or entity (the model
 * then holds no values but is safe to draw and to fini), or another error.
 */
int sr_panel_compute(sr_store *st, const sr_catalog *cat, const sr_panel_spec *spec, sr_ms now,
                     unsigned what, size_t n_series, size_t n_hist, size_t max_events,
                     sr_panel_model *out);

void sr_panel_model_fini(sr_panel_model *m);

/*
 * Orders rows worst first: CRIT before WARN before OK before no status,
 * then by value in the metric's bad direction, rows without a value last.
 */
void sr_panel_sort_rows(const sr_metric_def *def, sr_panel_row *rows, size_t n);

#endif
