/*
 * kpi.c - metric definitions and aggregate names. Pure functions over
 * values; the table of kinds and the aggregate grammar live here so that
 * config.c, query.c and the screen agree on them.
 */
#include "kpi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char *const kind_names[] = {
    [SR_KIND_EVENT] = "event",
    [SR_KIND_GAUGE] = "gauge",
    [SR_KIND_COUNTER] = "counter",
    [SR_KIND_RATIO] = "ratio",
};

static const char *const agg_names[] = {
    [SR_AGG_COUNT] = "count", [SR_AGG_SUM] = "sum",       [SR_AGG_AVG] = "avg",
    [SR_AGG_MIN] = "min",     [SR_AGG_MAX] = "max",       [SR_AGG_LAST] = "last",
    [SR_AGG_PCT] = "p",       [SR_AGG_WITHIN] = "within", [SR_AGG_VALUE] = "value",
};

void sr_metric_def_init(sr_metric_def *d, const char *name)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->label, sizeof d->label, "%s", name);
    d->kind = SR_KIND_EVENT;
    d->agg = sr_kind_default_agg(SR_KIND_EVENT);
    d->target = NAN;
    d->warn = NAN;
    d->crit = NAN;
    d->better = SR_BETTER_LOWER;
    d->percentile = SR_PCT_NEAREST_RANK;
    d->scale = 1.0;
    d->baseline_weeks = SR_BASELINE_WEEKS_DEFAULT;
    d->unusual_slices = SR_UNUSUAL_SLICES_DEFAULT;
    d->forecast_max_error = SR_FORECAST_MAX_ERROR_DEFAULT;
}

const sr_metric_def *sr_catalog_find(const sr_catalog *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].name, name) == 0)
            return &c->v[i];
    }
    return NULL;
}

int sr_agg_parse(const char *text, sr_agg *out)
{
    if (!text)
        return SR_EINVAL;
    for (size_t i = 0; i < sizeof agg_names / sizeof agg_names[0]; i++) {
        if (i != SR_AGG_PCT && strcmp(text, agg_names[i]) == 0) {
            out->kind = (sr_agg_kind)i;
            out->p = 0;
            return 0;
        }
    }
    if ((text[0] == 'p' || text[0] == 'P') && text[1]) {
        double p;
        if (sr_parse_double(text + 1, &p) || !(p > 0 && p <= 100) || text[1] == '-' ||
            text[1] == '+' || text[1] == ' ')
            return SR_EINVAL;
        out->kind = SR_AGG_PCT;
        out->p = p;
        return 0;
    }
    return SR_EINVAL;
}

void sr_agg_format(sr_agg agg, char *buf, size_t len)
{
    if (agg.kind == SR_AGG_PCT)
        snprintf(buf, len, "p%g", agg.p);
    else if ((size_t)agg.kind < sizeof agg_names / sizeof agg_names[0])
        snprintf(buf, len, "%s", agg_names[agg.kind]);
    else
        snprintf(buf, len, "?");
}

bool sr_agg_valid_for(sr_agg agg, sr_kind kind)
{
    switch (kind) {
    case SR_KIND_EVENT:
        return true;
    case SR_KIND_GAUGE:
        /* a level: its latest value, and the spread of its samples */
        return agg.kind != SR_AGG_WITHIN && agg.kind != SR_AGG_PCT;
    case SR_KIND_COUNTER:
        return agg.kind != SR_AGG_WITHIN && agg.kind != SR_AGG_PCT;
    case SR_KIND_RATIO:
        return agg.kind == SR_AGG_VALUE;
    }
    return false;
}

sr_agg sr_kind_default_agg(sr_kind kind)
{
    switch (kind) {
    case SR_KIND_EVENT:
        return (sr_agg){SR_AGG_PCT, 90};
    case SR_KIND_GAUGE:
        return (sr_agg){SR_AGG_LAST, 0};
    case SR_KIND_COUNTER:
        return (sr_agg){SR_AGG_SUM, 0};
    case SR_KIND_RATIO:
        break;
    }
    return (sr_agg){SR_AGG_VALUE, 0};
}

const char *sr_kind_name(sr_kind k)
{
    return (size_t)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

int sr_kind_parse(const char *text, sr_kind *out)
{
    for (size_t i = 0; text && i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (strcmp(text, kind_names[i]) == 0) {
            *out = (sr_kind)i;
            return 0;
        }
    }
    return SR_EINVAL;
}

sr_status sr_kpi_status(const sr_metric_def *d, double v)
{
    if (isnan(v) || (isnan(d->warn) && isnan(d->crit)))
        return SR_STATUS_NONE;
    if (d->better == SR_BETTER_LOWER) {
        if (!isnan(d->crit) && v >= d->crit)
            return SR_STATUS_CRIT;
        if (!isnan(d->warn) && v >= d->warn)
            return SR_STATUS_WARN;
    } else {
        if (!isnan(d->crit) && v <= d->crit)
            return SR_STATUS_CRIT;
        if (!isnan(d->warn) && v <= d->warn)
            return SR_STATUS_WARN;
    }
    return SR_STATUS_OK;
}

sr_agg sr_kpi_own_agg(const sr_metric_def *d)
{
    return d->agg.kind == SR_AGG_VALUE ? sr_kind_default_agg(d->kind) : d->agg;
}

bool sr_kpi_higher_is_better(const sr_metric_def *d, sr_agg agg)
{
    if (agg.kind == SR_AGG_WITHIN)
        return true;
    return d && d->better == SR_BETTER_HIGHER;
}

bool sr_kpi_agg_is_own(const sr_metric_def *d, sr_agg agg)
{
    sr_agg own = d->agg;
    if (agg.kind == SR_AGG_VALUE || d->kind == SR_KIND_RATIO)
        agg = own;
    if (own.kind == SR_AGG_VALUE)
        own = sr_kpi_own_agg(d);
    if (agg.kind == SR_AGG_VALUE)
        agg = own;
    return agg.kind == own.kind && (agg.kind != SR_AGG_PCT || agg.p == own.p);
}

sr_status sr_kpi_status_for(const sr_metric_def *d, sr_agg agg, double v)
{
    return sr_kpi_agg_is_own(d, agg) ? sr_kpi_status(d, v) : SR_STATUS_NONE;
}

const char *sr_status_name(sr_status s)
{
    switch (s) {
    case SR_STATUS_OK:
        return "OK";
    case SR_STATUS_WARN:
        return "WARN";
    case SR_STATUS_CRIT:
        return "CRIT";
    case SR_STATUS_NONE:
        break;
    }
    return "-";
}
