/*
 * cmd_forecast.c - `sitrep query METRIC --agg forecast[:AGG] [--horizon
 * 8h]`: each row's forecast of the next hours with its band, and the
 * backtest error it rests on, or why it is withheld (metrics/forecast.h).
 *
 * Privacy goes through query_row_mask as for every query row: the forecast
 * and its backtest are made of the entity's hourly figures from the oldest
 * week its baselines look at up to the origin, so the figure of that whole
 * stretch is judged, under the differencing grid with the grid's cells
 * over it (a thin cell in any hour of the stretch masks it). A row the
 * role may not see is not printed; a figure it may not see shows its mask
 * in place of the forecast, the band and the error. A grid whose slice
 * does not divide an hour gives no forecast.
 */
#include "cmd.h"

#include "../metrics/forecast.h"

/* One row: an entity's forecast and what the role may see of it. */
typedef struct {
    const char *entity; /* borrowed from the store or the query */
    sr_forecast f;
    const char *mask; /* NULL: shown */
} frow;

static void print_text(const query_ctx *c, const frow *rows, size_t n, const char *aggname)
{
    char f[40], t[40], dur[32];
    for (size_t i = 0; i < n; i++) {
        const sr_forecast *fc = &rows[i].f;
        sr_format_time_utc(fc->now.from_ms, f, sizeof f);
        sr_format_time_utc(fc->now.to_ms, t, sizeof t);
        sr_format_duration(fc->now.to_ms - fc->now.from_ms, dur, sizeof dur);
        char *e = xclean(*rows[i].entity ? rows[i].entity : "(all)"); /* from data */
        printf("%s  %s  %s to %s  ", e, aggname, f, t);
        free(e);
        if (rows[i].mask) {
            printf("next %s: %s\n", dur, rows[i].mask);
            continue;
        }
        if (!fc->shown) {
            printf("no forecast: %s\n", fc->why);
            continue;
        }
        char v[64], lo[64], hi[64], band[140];
        sr_format_estimate(fc->now.value, c->d, c->shown, v, sizeof v);
        sr_format_estimate(fc->now.low, c->d, c->shown, lo, sizeof lo);
        sr_format_estimate(fc->now.high, c->d, c->shown, hi, sizeof hi);
        sr_format_range(lo, hi, "–", band, sizeof band);
        printf("next %s: %s (expected %s) · backtest error %.0f %% (%d wk, %d origins)\n", dur,
               band, v, fc->error * 100.0, SR_FORECAST_BACKTEST_WEEKS, fc->used);
    }
}

static void print_csv(const frow *rows, size_t n, const char *aggname)
{
    static const char *const header[] = {
        "entity",  "agg",          "from",  "to",     "value",
        "low",     "high",         "level", "error",  "backtest_weeks",
        "origins", "origins_used", "shown", "reason", NULL};
    sr_csv_out csv;
    sr_csv_init(&csv, stdout);
    sr_csv_header(&csv, header);
    char f[40], t[40];
    for (size_t i = 0; i < n; i++) {
        const sr_forecast *fc = &rows[i].f;
        const char *m = rows[i].mask;
        bool on = fc->shown || m;
        sr_format_time_utc(fc->now.from_ms, f, sizeof f);
        sr_format_time_utc(fc->now.to_ms, t, sizeof t);
        sr_csv_field(&csv, rows[i].entity);
        sr_csv_field(&csv, aggname);
        sr_csv_field(&csv, f);
        sr_csv_field(&csv, t);
        sr_csv_figure(&csv, on ? fc->now.value : NAN, m);
        sr_csv_figure(&csv, on ? fc->now.low : NAN, m);
        sr_csv_figure(&csv, on ? fc->now.high : NAN, m);
        sr_csv_figure(&csv, on ? fc->now.level : NAN, m);
        sr_csv_figure(&csv, fc->error, m);
        sr_csv_integer(&csv, SR_FORECAST_BACKTEST_WEEKS);
        sr_csv_integer(&csv, fc->origins);
        if (m)
            sr_csv_field(&csv, "");
        else
            sr_csv_integer(&csv, fc->used);
        sr_csv_field(&csv, m ? "" : fc->shown ? "yes" : "no");
        sr_csv_field(&csv, m ? "" : fc->why);
        sr_csv_end_row(&csv);
    }
}

static void print_json(const query_ctx *c, const frow *rows, size_t n, const char *aggname)
{
    sr_ms from = n ? rows[0].f.now.from_ms : c->q.to_ms, to = from + c->horizon_ms;
    json_t *root = query_json_head(c->d, aggname, from, to), *arr = json_array();
    json_object_set_new(root, "backtest_weeks", json_integer(SR_FORECAST_BACKTEST_WEEKS));
    json_object_set_new(root, "level_slices", json_integer(SR_FORECAST_LEVEL_SLICES));
    json_object_set_new(root, "max_error", sr_json_number(c->d->forecast_max_error / 100.0));
    for (size_t i = 0; i < n; i++) {
        const sr_forecast *fc = &rows[i].f;
        const char *m = rows[i].mask;
        bool on = fc->shown && !m;
        json_t *o = json_object();
        /* every row has the same members: what is withheld or suppressed is null */
        json_object_set_new(o, "entity", json_string(rows[i].entity));
        json_object_set_new(o, "value", on ? sr_json_number(fc->now.value) : json_null());
        json_object_set_new(o, "low", on ? sr_json_number(fc->now.low) : json_null());
        json_object_set_new(o, "high", on ? sr_json_number(fc->now.high) : json_null());
        json_object_set_new(o, "level", on ? sr_json_number(fc->now.level) : json_null());
        json_object_set_new(o, "error", m ? json_null() : sr_json_number(fc->error));
        json_object_set_new(o, "origins", json_integer(fc->origins));
        json_object_set_new(o, "origins_used", m ? json_null() : json_integer(fc->used));
        json_object_set_new(o, "shown", json_boolean(on));
        json_object_set_new(o, "reason", on || m ? json_null() : json_string(fc->why));
        if (m)
            json_object_set_new(o, "suppressed", json_string(m));
        json_array_append_new(arr, o);
    }
    query_json_print(root, arr);
}

int query_forecast(const query_ctx *c)
{
    const sr_catalog *cat = &c->cfg->metrics;
    sr_query q = c->q;
    if (c->gridded && SR_FORECAST_SLICE_MS % c->who->priv.grid_ms) {
        fprintf(stderr,
                "sitrep query: %s is personal data: for role %s the forecast's hourly slices "
                "are not whole slices of the grid, so it has no forecast\n",
                c->d->name, c->who->role->name);
        return SR_EXIT_FAIL;
    }
    if (!sr_forecast_suits(c->d->kind, q.agg)) {
        fprintf(stderr,
                "sitrep query: a forecast is of a count, a sum or a level (count sum avg min max "
                "last), not of a percentile, a share or a ratio\n");
        return SR_EXIT_USAGE;
    }
    sr_forecast_opts o = {.base = {.weeks = (int)c->d->baseline_weeks,
                                   .tz = c->cfg->timezone,
                                   .exclude = c->cfg->baseline_exclude,
                                   .n_exclude = c->cfg->n_baseline_exclude},
                          .horizon_ms = c->horizon_ms,
                          .additive = sr_forecast_additive(c->shown),
                          .max_error = c->d->forecast_max_error / 100.0};
    int status = SR_EXIT_FAIL, rc = 0;
    sr_child_result *kids = NULL;
    frow *rows = NULL;
    sr_privacy_cells *cells = NULL; /* under the grid: its thin cells over the stretch */
    size_t n = 1;
    if (c->by && (rc = sr_query_children(c->st, cat, &q, &kids, &n))) {
        n = 0;
        goto out;
    }
    rows = xcalloc(n ? n : 1, sizeof *rows);
    size_t kept = 0;
    sr_privacy_report pr = {0};
    for (size_t i = 0; i < n; i++) {
        frow *r = &rows[kept];
        r->entity = c->by ? kids[i].entity : q.entity ? q.entity : "";
        sr_query rq = q;
        rq.entity = r->entity;
        if ((rc = sr_forecast_compute(c->st, cat, &rq, &o, &r->f)))
            goto out;
        /* what the forecast is made of: the figures from its oldest week on */
        rq.to_ms = r->f.now.from_ms;
        rq.from_ms = sr_forecast_data_from(&r->f, &o);
        sr_result all;
        if ((rc = sr_query_run(c->st, cat, &rq, &all)))
            goto out;
        if (c->gridded && !cells &&
            (rc = sr_privacy_cells_read(c->st, cat, &c->who->priv, c->d->name, rq.from_ms, rq.to_ms,
                                        &cells)))
            goto out;
        if (!query_row_mask(c->who, c->personal, c->d->kind, c->shown, cells, r->entity, rq.from_ms,
                            rq.to_ms, &all, &r->mask, &pr))
            continue; /* a hidden entity: no row */
        kept++;
    }
    n = kept;
    if (!query_privacy_said(c, &pr, "forecast"))
        goto out;
    char aggname[32];
    sr_agg_format(c->shown, aggname, sizeof aggname);
    if (strcmp(c->fmt, "csv") == 0)
        print_csv(rows, n, aggname);
    else if (strcmp(c->fmt, "json") == 0)
        print_json(c, rows, n, aggname);
    else
        print_text(c, rows, n, aggname);
    status = SR_EXIT_OK;
out:
    free(rows);
    sr_privacy_cells_destroy(cells);
    query_failed(c, rc);
    free(kids);
    return status;
}
