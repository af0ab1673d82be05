/*
 * spread.c - the load of each child of an entity and how evenly it is
 * spread (see spread.h for the definitions shown to a commander).
 *
 * The figures come from the one aggregator, sr_query_children, run once
 * for the metric and once for the denominator; everything after is pure
 * arithmetic on those rows, so privacy (the caller's, via metrics/privacy)
 * is applied to the rows before sr_spread_compute sees them: a hidden row
 * is never in the median, and a masked one has no load.
 */
#include "spread.h"

#include "format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sr_agg sr_spread_denom_agg(sr_kind kind)
{
    if (kind == SR_KIND_GAUGE)
        return (sr_agg){SR_AGG_AVG, 0};
    return (sr_agg){SR_AGG_VALUE, 0};
}

int sr_spread_query(sr_store *st, const sr_catalog *cat, const sr_query *q, const sr_query *den,
                    sr_spread_row **out, size_t *n)
{
    sr_child_result *kids = NULL, *dkids = NULL;
    size_t nk = 0, nd = 0;
    *out = NULL;
    *n = 0;
    int rc = sr_query_children(st, cat, q, &kids, &nk);
    if (!rc && den)
        rc = sr_query_children(st, cat, den, &dkids, &nd);
    sr_spread_row *rows = NULL;
    if (!rc && !(rows = calloc(nk ? nk : 1, sizeof *rows)))
        rc = SR_ENOMEM;
    for (size_t i = 0; !rc && i < nk; i++) {
        rows[i].entity = kids[i].entity;
        rows[i].value = kids[i].r;
        rows[i].denom = (sr_result){.value = den ? NAN : 1.0, .n = 0, .exact = true};
        rows[i].load = NAN;
        for (size_t k = 0; den && k < nd; k++)
            if (strcmp(dkids[k].entity, kids[i].entity) == 0)
                rows[i].denom = dkids[k].r;
    }
    free(kids);
    free(dkids);
    if (rc) {
        free(rows);
        return rc;
    }
    *out = rows;
    *n = nk;
    return 0;
}

/* Highest load first; rows without a load last, in their order. */
static int by_load(const void *a, const void *b)
{
    const sr_spread_row *x = a, *y = b;
    bool hx = !isnan(x->load), hy = !isnan(y->load);
    if (hx != hy)
        return hx ? -1 : 1;
    if (!hx)
        return 0;
    return (x->load < y->load) - (x->load > y->load);
}

static int ascending(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sets r's load, or its why. */
static void row_load(sr_spread_row *r)
{
    r->load = NAN;
    r->outlier = false;
    r->why = NULL;
    if (r->mask)
        r->why = r->mask;
    else if (isnan(r->value.value))
        r->why = "no data";
    else if (isnan(r->denom.value))
        r->why = "no denominator";
    else if (r->denom.value == 0)
        r->why = "denominator is 0";
    else if (!isfinite(r->value.value) || !isfinite(r->denom.value))
        r->why = "overflow";
    else
        r->load = r->value.value / r->denom.value;
}

void sr_spread_compute(sr_spread_row *rows, size_t n, sr_spread *out)
{
    *out = (sr_spread){.median = NAN, .max = NAN, .max_median = NAN, .top_share = NAN};
    for (size_t i = 0; i < n; i++) {
        row_load(&rows[i]);
        out->n += !isnan(rows[i].load);
    }
    /* insertion sort: stable (rows without a load keep their order) and
     * cheap for the children of one entity */
    for (size_t i = 1; i < n; i++) {
        sr_spread_row r = rows[i];
        size_t k = i;
        for (; k > 0 && by_load(&rows[k - 1], &r) > 0; k--)
            rows[k] = rows[k - 1];
        rows[k] = r;
    }
    if (out->n < SR_SPREAD_MIN) {
        out->why = out->n == 0 ? "no child has a load" : "fewer than 4 children have a load";
        return;
    }
    double *v = malloc(out->n * sizeof *v);
    if (!v) {
        out->why = "out of memory";
        return;
    }
    double total = 0, top = 0;
    out->top_n = (out->n + 3) / 4;
    for (size_t i = 0; i < out->n; i++) {
        v[i] = rows[i].load;
        total += rows[i].load;
        if (i < out->top_n)
            top += rows[i].load;
    }
    qsort(v, out->n, sizeof *v, ascending);
    out->median = sr_percentile_sorted(v, out->n, 50, SR_PCT_LINEAR);
    free(v);
    out->max = rows[0].load;
    if (out->median > 0)
        out->max_median = out->max / out->median;
    if (total > 0)
        out->top_share = top / total;
    for (size_t i = 0; i < out->n; i++) {
        rows[i].outlier = rows[i].load > SR_SPREAD_OUTLIER_FACTOR * out->median;
        out->outliers += rows[i].outlier;
    }
}

void sr_spread_format_load(double load, const sr_metric_def *d, const sr_metric_def *per,
                           bool compact, char *buf, size_t len)
{
    sr_metric_def ld = *d;
    if (per) {
        const char *a = *d->unit ? d->unit : d->name, *b = *per->unit ? per->unit : per->name;
        int w = snprintf(ld.unit, sizeof ld.unit, "%s/%s", a, b);
        if (w < 0 || (size_t)w >= sizeof ld.unit)
            ld.unit[0] = '\0'; /* too long for a unit: a bare number, never half of one */
    }
    sr_agg avg = {SR_AGG_AVG, 0};
    if (compact)
        sr_format_estimate_compact(load, &ld, avg, buf, len);
    else
        sr_format_estimate(load, &ld, avg, buf, len);
}
