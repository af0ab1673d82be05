/*
 * cmd_spread.c - `sitrep query METRIC --agg spread[:AGG] [--per DENOM]`:
 * each direct child's value, its denominator (DENOM over the same window,
 * a gauge's mean level), its load (value / denominator) and whether it is
 * an outlier, then the spread over the children with a load: the median,
 * max/median, the busiest quarter's share and the outliers named
 * (metrics/spread.h has the definitions).
 *
 * Privacy goes through metrics/privacy.h as for every query row, before
 * the spread is computed: a child the role may not see (a person, for a
 * role without personal = yes) is no row, is not in the median and is
 * never named as an outlier; a figure it may not see (the value or the
 * denominator) shows its mask and the row has no load. A personal row
 * shown writes the audit row of any personal view.
 */
#include "cmd.h"

#include "../metrics/spread.h"

/* A load ("0.93 calls/h"), or "-" for none. */
static void format_load(const query_ctx *c, double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else
        sr_spread_format_load(v, c->d, c->per, false, buf, len);
}

static void summary_text(const query_ctx *c, const sr_spread_row *rows, const sr_spread *s)
{
    if (s->why) {
        printf("no spread: %s\n", s->why);
        return;
    }
    char med[64], ratio[32], share[32];
    format_load(c, s->median, med, sizeof med);
    if (isnan(s->max_median))
        snprintf(ratio, sizeof ratio, "-");
    else
        snprintf(ratio, sizeof ratio, "%.1f×", s->max_median);
    if (isnan(s->top_share))
        snprintf(share, sizeof share, "-");
    else
        snprintf(share, sizeof share, "%.0f %%", 100 * s->top_share);
    printf("median %s · max/median %s · busiest quarter (%zu of %zu) %s · outliers: ", med, ratio,
           s->top_n, s->n, share);
    if (!s->outliers)
        printf("none");
    for (size_t i = 0, k = 0; i < s->n; i++) {
        if (!rows[i].outlier)
            continue;
        char *e = xclean(rows[i].entity); /* from data */
        printf("%s%s", k++ ? ", " : "", e);
        free(e);
    }
    putchar('\n');
}

static void print_text(const query_ctx *c, const sr_spread_row *rows, size_t n, const sr_spread *s,
                       const char *aggname)
{
    printf("%-32s %-8s %14s %14s %12s %s\n", "ENTITY", "AGG", "VALUE", "PER", "LOAD", "OUTLIER");
    for (size_t i = 0; i < n; i++) {
        const sr_spread_row *r = &rows[i];
        char v[64], d[64], l[64];
        sr_format_masked(r->mask, r->value.value, c->d, c->shown, false, v, sizeof v);
        if (!c->per)
            snprintf(d, sizeof d, "-");
        else
            sr_format_masked(r->mask, r->denom.value, c->per, sr_spread_denom_agg(c->per->kind),
                             false, d, sizeof d);
        format_load(c, r->load, l, sizeof l);
        char *e = xclean(*r->entity ? r->entity : "(all)"); /* from data */
        printf("%-32s %-8s %14s %14s %12s %s", e, aggname, *v ? v : "-", *d ? d : "-", l,
               isnan(r->load) ? "-"
               : r->outlier   ? "yes ▲"
                              : "no");
        if (r->why && !r->mask)
            printf("  (%s)", r->why);
        putchar('\n');
        free(e);
    }
    summary_text(c, rows, s);
}

static void print_csv(const sr_spread_row *rows, size_t n, const sr_spread *s, const char *aggname)
{
    static const char *const header[] = {"entity", "agg",     "value",  "per",
                                         "load",   "outlier", "reason", NULL};
    sr_csv_out csv;
    sr_csv_init(&csv, stdout);
    sr_csv_header(&csv, header);
    for (size_t i = 0; i < n; i++) {
        const sr_spread_row *r = &rows[i];
        sr_csv_field(&csv, r->entity);
        sr_csv_field(&csv, aggname);
        sr_csv_figure(&csv, r->value.value, r->mask);
        sr_csv_figure(&csv, r->denom.value, r->mask);
        sr_csv_number(&csv, r->load);
        sr_csv_field(&csv, isnan(r->load) ? "" : r->outlier ? "yes" : "no");
        sr_csv_field(&csv, r->mask ? "" : r->why ? r->why : "");
        sr_csv_end_row(&csv);
    }
    /* the summary: one row named (spread), its figures in the same columns
     * (value: the median load, per: max/median, load: the busiest quarter's
     * share 0..1), the outliers counted */
    sr_csv_field(&csv, "(spread)");
    sr_csv_field(&csv, aggname);
    sr_csv_number(&csv, s->median);
    sr_csv_number(&csv, s->max_median);
    sr_csv_number(&csv, s->top_share);
    sr_csv_integer(&csv, (long long)s->outliers);
    sr_csv_field(&csv, s->why ? s->why : "");
    sr_csv_end_row(&csv);
}

static void print_json(const query_ctx *c, const sr_spread_row *rows, size_t n, const sr_spread *s,
                       const char *aggname)
{
    json_t *root = query_json_head(c->d, aggname, c->q.from_ms, c->q.to_ms), *arr = json_array();
    json_object_set_new(root, "per", c->per ? json_string(c->per->name) : json_null());
    json_t *sum = json_object(), *out = json_array();
    json_object_set_new(sum, "children", json_integer((json_int_t)s->n));
    json_object_set_new(sum, "median", sr_json_number(s->median));
    json_object_set_new(sum, "max", sr_json_number(s->max));
    json_object_set_new(sum, "max_median", sr_json_number(s->max_median));
    json_object_set_new(sum, "busiest_quarter", json_integer((json_int_t)s->top_n));
    json_object_set_new(sum, "busiest_quarter_share", sr_json_number(s->top_share));
    for (size_t i = 0; i < s->n; i++)
        if (rows[i].outlier)
            json_array_append_new(out, json_string(rows[i].entity));
    json_object_set_new(sum, "outliers", out);
    json_object_set_new(sum, "reason", s->why ? json_string(s->why) : json_null());
    json_object_set_new(root, "spread", sum);
    for (size_t i = 0; i < n; i++) {
        const sr_spread_row *r = &rows[i];
        json_t *o = json_object();
        json_object_set_new(o, "entity", json_string(r->entity));
        json_object_set_new(o, "value", sr_json_number(r->value.value));
        json_object_set_new(o, "per", sr_json_number(r->denom.value));
        json_object_set_new(o, "load", sr_json_number(r->load));
        json_object_set_new(o, "outlier", isnan(r->load) ? json_null() : json_boolean(r->outlier));
        if (r->mask)
            json_object_set_new(o, "suppressed", json_string(r->mask));
        json_object_set_new(o, "reason", r->why && !r->mask ? json_string(r->why) : json_null());
        json_array_append_new(arr, o);
    }
    query_json_print(root, arr);
}

int query_spread(const query_ctx *c)
{
    const sr_catalog *cat = &c->cfg->metrics;
    sr_query q = c->q, den = c->q;
    if (c->per) {
        den.metric = c->per->name;
        den.agg = sr_spread_denom_agg(c->per->kind);
    }
    int status = SR_EXIT_FAIL, rc = 0;
    sr_spread_row *rows = NULL;
    sr_privacy_cells *cells = NULL, *dcells = NULL;
    size_t n = 0;
    if (q.from_ms >= q.to_ms) {
        fprintf(stderr,
                "sitrep query: personal data: for role %s the window holds no whole slice of the "
                "grid, so it has no spread\n",
                c->who->role->name);
        return SR_EXIT_FAIL;
    }
    if ((rc = sr_spread_query(c->st, cat, &q, c->per ? &den : NULL, &rows, &n)))
        goto out;
    if (c->gridded && c->personal &&
        (rc = sr_privacy_cells_read(c->st, cat, &c->who->priv, c->d->name, q.from_ms, q.to_ms,
                                    &cells)))
        goto out;
    if (c->gridded && c->per && c->per_personal &&
        (rc = sr_privacy_cells_read(c->st, cat, &c->who->priv, c->per->name, q.from_ms, q.to_ms,
                                    &dcells)))
        goto out;
    size_t kept = 0;
    sr_privacy_report pr = {0};
    for (size_t i = 0; i < n; i++) {
        sr_spread_row *r = &rows[i];
        const char *mask = NULL, *dmask = NULL;
        if (!query_row_mask(c->who, c->personal, c->d->kind, c->shown, cells, r->entity, q.from_ms,
                            q.to_ms, &r->value, &mask, &pr))
            continue; /* a hidden entity: no row, not in the spread */
        if (c->per && !query_row_mask(c->who, c->per_personal, c->per->kind, den.agg, dcells,
                                      r->entity, q.from_ms, q.to_ms, &r->denom, &dmask, &pr))
            continue;
        r->mask = mask ? mask : dmask;
        if (r->mask) { /* what is printed of a masked row: no number */
            r->value.value = NAN;
            r->denom.value = NAN;
        }
        rows[kept++] = *r;
    }
    n = kept;
    if (!query_privacy_said(c, &pr, "spread"))
        goto out;
    sr_spread s;
    sr_spread_compute(rows, n, &s);
    char aggname[32];
    sr_agg_format(c->shown, aggname, sizeof aggname);
    if (strcmp(c->fmt, "csv") == 0)
        print_csv(rows, n, &s, aggname);
    else if (strcmp(c->fmt, "json") == 0)
        print_json(c, rows, n, &s, aggname);
    else
        print_text(c, rows, n, &s, aggname);
    status = SR_EXIT_OK;
out:
    sr_privacy_cells_destroy(cells);
    sr_privacy_cells_destroy(dcells);
    query_failed(c, rc);
    free(rows);
    return status;
}
