/*
 * kpi.h - metric definitions: what a KPI is (kind, unit, target, thresholds,
 * which direction is better) and the aggregates that can be asked of it.
 * Pure values; no I/O.
 */
#ifndef SR_KPI_H
#define SR_KPI_H

#include <stdbool.h>
#include <stddef.h>

#define SR_NAME_MAX 64
#define SR_LABEL_MAX 96
#define SR_UNIT_MAX 24

typedef enum {
    SR_KIND_EVENT = 0, /* each sample is one observation */
    SR_KIND_GAUGE,     /* a level at a time; parent = sum of children's latest */
    SR_KIND_COUNTER,   /* an amount accrued; summed over the window */
    SR_KIND_RATIO,     /* numerator / denominator, computed at query time */
} sr_kind;

typedef enum { SR_BETTER_LOWER = 0, SR_BETTER_HIGHER } sr_better;

typedef enum { SR_PCT_NEAREST_RANK = 0, SR_PCT_LINEAR } sr_pct_method;

typedef enum {
    SR_AGG_COUNT = 0,
    SR_AGG_SUM,
    SR_AGG_AVG,
    SR_AGG_MIN,
    SR_AGG_MAX,
    SR_AGG_LAST,
    SR_AGG_PCT,    /* pNN: the p-th percentile */
    SR_AGG_WITHIN, /* % of events at or better than the target */
    SR_AGG_VALUE,  /* the kind's natural value: gauge latest, counter sum, ratio */
} sr_agg_kind;

typedef struct {
    sr_agg_kind kind;
    double p; /* percentile in (0, 100], for SR_AGG_PCT only */
} sr_agg;

typedef enum { SR_STATUS_NONE = 0, SR_STATUS_OK, SR_STATUS_WARN, SR_STATUS_CRIT } sr_status;

/* A figure against its own normal, the verdict of a run of slices
 * (sr_baseline_unusual, baseline.h; here so that an alert can hold one). */
typedef enum {
    SR_UNUSUAL_NONE = 0, /* within the band in at least one slice of the run */
    SR_UNUSUAL_HIGH,     /* above the band in every slice of the run */
    SR_UNUSUAL_LOW,      /* below the band in every slice of the run */
    SR_UNUSUAL_UNKNOWN,  /* a slice of the run has no band or no figure */
} sr_unusual;

typedef struct sr_metric_def {
    char name[SR_NAME_MAX];
    char label[SR_LABEL_MAX];
    char unit[SR_UNIT_MAX]; /* "s", "h", "EUR", "%", "cases", ... */
    sr_kind kind;
    sr_agg agg;    /* default aggregate */
    double target; /* NAN when unset */
    double warn;   /* NAN when unset */
    double crit;   /* NAN when unset */
    sr_better better;
    sr_pct_method percentile;
    char numerator[SR_NAME_MAX];   /* ratio only */
    char denominator[SR_NAME_MAX]; /* ratio only */
    double scale;                  /* ratio only: result multiplied by this (100 for %) */
    double baseline_weeks; /* weeks a baseline looks back: whole, 4 to 52 (metrics/baseline.h) */
    double unusual_slices; /* slices running outside the band that are unusual: whole, 1 to 12 */
    double forecast_max_error; /* percent: a forecast whose backtest error is above is withheld */
} sr_metric_def;

/* The defaults of baseline_weeks and unusual_slices (the config tables'
 * too, through SR_XSTR). */
#define SR_BASELINE_WEEKS_DEFAULT 8
#define SR_UNUSUAL_SLICES_DEFAULT 2
#define SR_FORECAST_MAX_ERROR_DEFAULT 25 /* percent (metrics/forecast.h) */
#define SR_STR(x) #x
#define SR_XSTR(x) SR_STR(x)

/* A set of metric definitions; the array is owned by whoever filled it. */
typedef struct {
    sr_metric_def *v;
    size_t n;
} sr_catalog;

/* Fills d with defaults for a metric called name (kind event, agg p90...). */
void sr_metric_def_init(sr_metric_def *d, const char *name);

/* Borrowed; valid while the catalog lives. NULL when unknown. */
const sr_metric_def *sr_catalog_find(const sr_catalog *c, const char *name);

/*
 * Parses "count sum avg min max last pNN within value" (pNN: p50, p90,
 * p99.9). Returns 0 or SR_EINVAL.
 */
int sr_agg_parse(const char *text, sr_agg *out);

/* Writes the canonical name of an aggregate ("p90", "avg"). */
void sr_agg_format(sr_agg agg, char *buf, size_t len);

/* Whether agg makes sense for a metric of this kind. */
bool sr_agg_valid_for(sr_agg agg, sr_kind kind);

/* The default aggregate of a kind when the config names none. */
sr_agg sr_kind_default_agg(sr_kind kind);

const char *sr_kind_name(sr_kind k);
int sr_kind_parse(const char *text, sr_kind *out);

/*
 * Status of value v (of the metric's default aggregate) against its warn
 * and crit thresholds in the metric's better direction: with better =
 * lower, v >= crit is CRIT, v >= warn is WARN, else OK (mirrored for
 * higher). SR_STATUS_NONE when v is NaN or the metric has no thresholds.
 */
sr_status sr_kpi_status(const sr_metric_def *d, double v);

/*
 * Status of v when it is the aggregate agg of metric d: the thresholds speak
 * of the metric's own aggregate, so any other aggregate has no status.
 */
sr_status sr_kpi_status_for(const sr_metric_def *d, sr_agg agg, double v);

/* Whether agg is the metric's own aggregate, the one its thresholds speak of
 * ("value" and a ratio's every aggregate count as its own). */
bool sr_kpi_agg_is_own(const sr_metric_def *d, sr_agg agg);

/* The metric's own aggregate, the one its thresholds speak of (never
 * SR_AGG_VALUE but for a ratio's value). */
sr_agg sr_kpi_own_agg(const sr_metric_def *d);

/*
 * Whether a higher value of aggregate agg of metric d is better: the
 * metric's better direction, except for the share within target, which is
 * better higher whatever the metric (more calls answered in time). d NULL
 * counts as better = lower.
 */
bool sr_kpi_higher_is_better(const sr_metric_def *d, sr_agg agg);

const char *sr_status_name(sr_status s); /* "OK", "WARN", "CRIT", "-" */

#endif
