/*
 * panel.h - the model of one panel: everything a widget draws, computed from
 * the cache in one place so that the screen, `sitrep snapshot` and the tests
 * see the same figures. Pure computation over the store; no curses.
 */
#ifndef SR_PANEL_H
#define SR_PANEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "baseline.h"
#include "forecast.h"
#include "common.h"
#include "kpi.h"
#include "query.h"
#include "store.h"

#define SR_SERIES_MAX 256
#define SR_ROW_SERIES 24
#define SR_HIST_MAX 64
/* Histograms are exact (from raw samples) when the window holds at most this
 * many raw samples of the metric in the whole tree (what the raw scan reads,
 * whatever the subtree), from the hourly sketches beyond. The raw scan runs
 * at every refresh: 250,000 made a 10 M-sample force's page cost 38 ms a
 * refresh against 2 ms on the sketches (make bench, 2026-12). */
#define SR_PANEL_HIST_EXACT_N 20000

/* What a panel asks for (borrowed strings). */
typedef struct {
    const char *metric;
    const char *entity; /* NULL or "" = the whole tree */
    sr_agg agg;         /* SR_AGG_VALUE = the metric's own */
    sr_ms window_ms;    /* > 0 */
    /* Histograms are exact up to this many raw samples in the window (whole
     * tree); 0 = the default (SR_PANEL_HIST_EXACT_N). Tests lower it to reach
     * the sketch path. */
    int64_t hist_exact_max;
    /* Percentile series (the panel's and the rows'): adjacent slices are
     * pooled until most of them hold at least this many observations (the
     * privacy policy's min_pct_n); 0 = never pooled. See sr_panel_compute. */
    int64_t pool_min_n;
    /* The figure against its seasonal baseline (metrics/baseline.h): with
     * baseline, the model's base_run (see sr_panel_compute). baseline_opts
     * gives the time zone and the excluded dates (borrowed); its weeks, when
     * 0, are the metric's baseline_weeks. */
    bool baseline;
    sr_baseline_opts baseline_opts;
    /* With SR_PANEL_ROWS: the denominator of each row's load (a spread,
     * metrics/spread.h), its rows' denom; NULL or "": none (denom 1). */
    const char *per;
    /* The next hours' forecast and its backtest (metrics/forecast.h): with
     * forecast, the model's forecast (see sr_panel_compute), over
     * forecast_horizon_ms (whole hours; 0: SR_FORECAST_HORIZON_DEFAULT),
     * with baseline_opts's zone, dates and weeks. */
    bool forecast;
    sr_ms forecast_horizon_ms;
} sr_panel_spec;

/* One child entity in a breakdown. */
typedef struct {
    char entity[256]; /* its path (cut at 255 bytes: paths may be longer; use id to drill down) */
    int64_t id;       /* its entity id in the store */
    sr_result r;
    sr_status status;
    double series[SR_ROW_SERIES];   /* NAN where empty; only with SR_PANEL_ROW_SERIES */
    size_t n_series;                /* SR_ROW_SERIES with SR_PANEL_ROW_SERIES, else 0 */
    int leaf;                       /* it has no children */
    double series_n[SR_ROW_SERIES]; /* observations per slice of series; only with
                                       SR_PANEL_SERIES_N, else NAN */
    char mask[16];                  /* "" or what to show instead of r.value ("<5", "n<10"): set by
                                       sr_privacy_apply() (metrics/privacy.h), which also made r.value NAN */
    size_t series_pool;             /* slices pooled per point of series (>= 1; 0 without series) */
    size_t series_hidden; /* slices of series that held a value sr_privacy_apply() cleared */
    sr_result prev;       /* the same aggregate over the previous window (as long, just before) */
    double change_pct;    /* (r.value - prev.value) / |prev.value| in %; NAN when either is
                             missing (or masked: sr_privacy_apply()) or prev is 0 */
    /* Only with spec->baseline and SR_PANEL_ROWS (else SR_UNUSUAL_UNKNOWN, NAN, 0): */
    sr_unusual unusual;  /* the verdict of the row's run (sr_baseline_unusual) */
    double outside;      /* how far the row's figure is outside its band, in band widths (a band
                            of no width counts as 1 wide): (value - high) / width above it,
                            -(low - value) / width below it, 0 within; NAN without a band or
                            figure, or when sr_privacy_apply() hides any of the run */
    int64_t base_min_n;  /* the fewest observations (> 0) of any figure of the run or of a used
                            week: what sr_privacy_apply() judges the row's baseline by; 0: none */
    sr_result denom;     /* spec->per over the window (sr_spread_denom_agg) for this child;
                            NAN when it has none; 1 without spec->per */
    char denom_mask[16]; /* "" or what to show instead of denom: set by
                            sr_privacy_panel_compute(), which also made it NAN */
} sr_panel_row;

/* One raw observation (for the leaf view). */
typedef struct {
    sr_ms ts_ms;
    char entity[256]; /* its path (cut at 255 bytes) */
    int64_t id;       /* its entity id in the store */
    double value;
    char key[64]; /* the source key (cut at 63 bytes), "" when none */
} sr_panel_event;

enum {
    SR_PANEL_SERIES = 1 << 0,     /* series[]: the aggregate in n_series slices */
    SR_PANEL_ROWS = 1 << 1,       /* rows[]: one per child, worst first, with the change
                                     against the previous window; a row's status is of the
                                     metric's own aggregate (a table of the share within
                                     target shows the p90's status of each child) */
    SR_PANEL_ROW_SERIES = 1 << 2, /* with a short series per row (needs SR_PANEL_ROWS) */
    SR_PANEL_HIST = 1 << 3,       /* hist[]: distribution of an event metric */
    SR_PANEL_EVENTS = 1 << 4,     /* events[]: the newest raw observations */
    SR_PANEL_SERIES_N = 1 << 5,   /* series_n[] (and rows' with row series): the count of
                                     observations per slice, for sr_privacy_apply() */
    SR_PANEL_VALUE_ONLY = 1 << 6, /* only c.now and status (and with spec->baseline the
                                     baseline): no comparisons, share within, sources or
                                     freshness, and nothing else asked (the alerts, which
                                     step every panel and need no more) */
};

typedef struct {
    const sr_metric_def *def;     /* borrowed from the catalog; NULL for an unknown metric */
    const sr_metric_def *per_def; /* spec->per's, likewise; NULL without one */
    sr_agg agg;                   /* resolved: never SR_AGG_VALUE except for ratios */
    char agg_name[16];            /* "p90", "last", "value" */
    sr_ms from_ms, to_ms;         /* the window [from, to) */
    sr_compare c;                 /* now, the previous window, a week earlier */
    sr_status status;             /* of c.now.value (sr_kpi_status_for) */
    double change_pct;            /* (now - prev) / |prev| in %; NAN when either is missing,
                                     prev is 0 or prev_partial */
    bool prev_partial;            /* the metric has data in the previous window but none at or
                                     before its start: prev covers only part of it */
    char sources[4][SR_NAME_MAX]; /* the sources that have written the metric (a ratio:
                                     either part), so the screen can tell when they are late */
    size_t n_sources;
    double within_pct; /* events with a target: the share (%) at or better than it,
                          beside another aggregate; NAN otherwise */
    sr_ms newest_ms;   /* newest sample of the metric (both parts of a ratio: the
                          older) in the subtree at or before to_ms; 0 = none */

    double series[SR_SERIES_MAX]; /* NAN where a slice is empty, and beyond n_series */
    size_t n_series;
    double series_n[SR_SERIES_MAX]; /* observations per slice; only with SR_PANEL_SERIES_N
                                       (and a kind that counts them), else NAN */
    char mask[16];         /* "" or what to show instead of c.now.value ("<5", "n<10", "hidden"):
                              set by sr_privacy_apply() (metrics/privacy.h), which also made it NAN */
    sr_ms series_slice_ms; /* the length of one slice of series; 0 without series */
    size_t series_pool;    /* slices pooled per point (>= 1; 0 without series): each point of
                              series covers series_pool * series_slice_ms */
    size_t series_hidden;  /* slices of series that held a value sr_privacy_apply() cleared:
                              an empty series with series_hidden > 0 is suppressed, not empty */
    sr_ms row_slice_ms;    /* the length of one slice of the rows' series; 0 without them */

    sr_panel_row *rows; /* caller owns; freed by sr_panel_model_fini() */
    size_t n_rows;

    uint64_t hist[SR_HIST_MAX]; /* counts per bin; bin i = [lo + i*w, lo + (i+1)*w),
                                   w = (hi - lo) / n_hist; they add up to the window's count */
    size_t n_hist;              /* 0 when not asked, not an event metric, or no data */
    double hist_lo, hist_hi;    /* the last bin also takes values >= hist_hi; NAN when none */
    bool hist_exact;            /* false when the bins came from the hourly sketches */

    sr_panel_event *events; /* newest first; caller owns; freed by sr_panel_model_fini() */
    size_t n_events;

    /* The figure against its baseline (only with spec->baseline): */
    sr_baseline_slice *base_run; /* n_base_run slices of the window's length, oldest first, the
                                    window's own last (sr_baseline_run); caller owns; freed by
                                    sr_panel_model_fini(); NULL when not asked or on error */
    size_t n_base_run;           /* the metric's unusual_slices, or 0 */
    sr_unusual unusual;          /* the verdict of base_run; SR_UNUSUAL_UNKNOWN without one, or
                                    when sr_privacy_apply() hides a figure or band of the run */
    char base_mask[16];  /* "" or what to show instead of the window's band (a used week's figure
                            the role may not see): set by sr_privacy_apply(), which also made the
                            band, the median and the weeks' figures NAN */
    char base_label[32]; /* the window's place in the week: "Fri 22-23h" (sr_baseline_label) */

    /* The next hours (only with spec->forecast, for an aggregate that
     * sr_forecast_suits): */
    bool has_forecast;     /* forecast was made (it may still be withheld: !forecast.shown) */
    sr_forecast forecast;  /* from the window's end rounded down to the hour */
    sr_ms fc_data_from_ms; /* the oldest figure it rests on (sr_forecast_data_from) */
    int64_t fc_n;          /* observations from fc_data_from_ms to forecast.now.from_ms: what
                              sr_privacy_apply() judges the forecast by */
    char fc_mask[16];      /* "" or what to show instead of the forecast: set by sr_privacy_apply(),
                              which also made its figures NAN, its reason "" and shown false */
} sr_panel_model;

/*
 * Computes the model of spec for the window [now - window, now): always the
 * value, comparisons, status and freshness; the rest as `what` asks:
 * n_series slices (at most SR_SERIES_MAX), one row per direct child of the
 * entity (all of them, worst first), n_hist bins (at most SR_HIST_MAX;
 * event metrics only), up to max_events events (metrics with raw samples).
 *
 * out need not be initialised and is overwritten without being freed: fini
 * a model before computing into it again. Returns 0; SR_ENOENT for an
 * unknown metric or entity; SR_EINVAL for a window <= 0 or an aggregate the
 * metric's kind does not support; or an error of the store. On every error
 * the model holds no values (NAN, zero counts, no rows or events) but is
 * safe to draw and to fini.
 *
 * Pooled percentiles: with spec->pool_min_n > 0 and a percentile aggregate,
 * a series (the panel's, and each row's on its own) whose slices hold too
 * few observations is pooled: the smallest k of 1, 2, 3, 4, 6, 8, 12, 16,
 * 24, ... (then all of them) such that at least 80% of the non-empty runs
 * of k adjacent slices hold pool_min_n observations. Runs are counted back
 * from the newest slice (the newest point always pools k slices; the
 * oldest run may be shorter). Each run's percentile is computed over the
 * run's observations (exactly or from the sketches, as one slice's is) and
 * written into every slice it covers, as is its count into series_n, so a
 * series keeps its length; a run still under pool_min_n is left for
 * sr_privacy_apply() to mask. The counts per slice decide k in one pass.
 *
 * Baseline: with spec->baseline, base_run holds the metric's
 * unusual_slices slices of the window's length ending with the window, each
 * with its figure and its baseline (sr_baseline_run), and unusual their
 * verdict (sr_baseline_unusual); base_label names the window's slice of
 * the week. A window longer than SR_BASELINE_SLICE_MAX has no baseline
 * (base_run NULL, not an error). Cost: (weeks + 1) queries per slice.
 *
 * Forecast: with spec->forecast and an aggregate sr_forecast_suits, the
 * forecast of the panel's figure (sr_forecast_compute with the metric's
 * forecast_max_error) from the window's end over the horizon, and the
 * count of the observations it rests on. Cost: (weeks + 1) queries per
 * hour from the oldest backtest origin to the horizon's end (about 9,000
 * for 8 weeks and 8 h), and one count.
 *
 * Cost: a few queries for the value and comparisons, a few index seeks
 * for newest_ms (one per entity of the subtree for gauges), n_series
 * queries (pooled percentiles: n_series counts, then one percentile per
 * run), one query per child (plus SR_ROW_SERIES per child with row
 * series, up to twice that when pooled); a histogram reads the window's
 * raw samples when the whole tree has at most hist_exact_max of them, else the node's hourly cells
 * plus at most two partial hours of raw samples; events read raw samples of the whole tree newest
 * first until max_events of the subtree are found.
 */
int sr_panel_compute(sr_store *st, const sr_catalog *cat, const sr_panel_spec *spec, sr_ms now,
                     unsigned what, size_t n_series, size_t n_hist, size_t max_events,
                     sr_panel_model *out);

/*
 * Frees the rows and events of m and empties them. Safe on a zeroed model,
 * on a model whose compute failed, and twice; NULL is a no-op.
 */
void sr_panel_model_fini(sr_panel_model *m);

/*
 * Orders rows worst first: CRIT before WARN before OK before no status,
 * then by value in the bad direction of aggregate agg of the metric
 * (sr_kpi_higher_is_better(): lower values first when higher is better,
 * higher values first otherwise), rows without a value last, ties by
 * entity path, then id, so the order is stable. def NULL counts as
 * better = lower.
 */
void sr_panel_sort_rows(const sr_metric_def *def, sr_agg agg, sr_panel_row *rows, size_t n);

/*
 * Orders rows most unusual first: rows whose run is unusual (high or low)
 * before the others, then by |outside| (farthest from the band first), rows
 * without a measure last, ties as sr_panel_sort_rows() (worst first).
 */
void sr_panel_sort_rows_unusual(const sr_metric_def *def, sr_agg agg, sr_panel_row *rows, size_t n);

#endif
