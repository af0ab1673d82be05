/*
 * cmd_query.c - `sitrep query`
 */
#include "cmd.h"

#include "../metrics/forecast.h"

const opt_spec query_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--entity", "PATH", "the node to aggregate (default: everything)"},
    {"--agg", "AGG",
     "count sum avg min max last pNN within (default: the metric's own); baseline or "
     "baseline:AGG for the figure against the same slice of the last weeks; forecast or "
     "forecast:AGG for the next hours and the forecast's backtest error; spread or spread:AGG for "
     "the load across the entity's children"},
    {"--per", "METRIC",
     "with --agg spread: the denominator of each child's load, over the same window (a "
     "gauge's mean level)"},
    {"--horizon", "DUR", "with --agg forecast: how far ahead, whole hours up to 48h (default 8h)"},
    {"--window", "DUR", "the window ending now, e.g. 15m 8h 7d (default 8h)"},
    {"--from", "TIME", "window start: ISO-8601 or epoch seconds"},
    {"--to", "TIME", "window end, exclusive (default now)"},
    {"--at", "TIME", "the window ends at TIME instead of now (ISO-8601, epoch seconds, latest)"},
    {"--by", "children", "one row per child of the entity"},
    {"--format", "FMT", "text, csv or json (default text)"},
    {NULL, NULL, NULL},
};

bool query_row_mask(const viewer *who, bool personal, sr_kind kind, sr_agg agg,
                    const sr_privacy_cells *cells, const char *entity, sr_ms from, sr_ms to,
                    sr_result *r, const char **mask, sr_privacy_report *rep)
{
    if (!sr_privacy_figure(&who->priv, personal, kind, agg, entity, r, mask, rep))
        return false;
    if (cells && !*mask && r->n > 0 && !sr_privacy_cells_whole(cells, entity, from, to)) {
        *mask = sr_privacy_grid_mask(&who->priv);
        r->value = NAN;
    }
    return true;
}

json_t *query_json_head(const sr_metric_def *d, const char *aggname, sr_ms from, sr_ms to)
{
    json_t *root = json_object();
    char f[40], t[40];
    sr_format_time_utc(from, f, sizeof f);
    sr_format_time_utc(to, t, sizeof t);
    json_object_set_new(root, "metric", json_string(d->name));
    json_object_set_new(root, "unit", json_string(d->unit));
    json_object_set_new(root, "agg", json_string(aggname));
    json_object_set_new(root, "from", json_string(f));
    json_object_set_new(root, "to", json_string(t));
    return root;
}

bool query_privacy_said(const query_ctx *c, const sr_privacy_report *pr, const char *what)
{
    char hidden[512];
    sr_privacy_hidden_text(&c->who->priv, pr, hidden, sizeof hidden);
    if (hidden[0])
        fprintf(stderr, "sitrep query: %s\n", hidden);
    if (!pr->personal_shown)
        return true;
    char detail[512];
    snprintf(detail, sizeof detail, "query: metric %s, entity %s, %s%s", c->d->name,
             c->q.entity && *c->q.entity ? c->q.entity : "(all)", what,
             c->by ? ", by children" : "");
    sr_audit_sink_hook(&c->who->audit, "view-personal", detail);
    return !c->who->audit.rc; /* no figure about a person without its audit row */
}

void query_json_print(json_t *root, json_t *rows)
{
    json_object_set_new(root, "rows", rows);
    sr_json_write(root, JSON_INDENT(2), stdout);
    json_decref(root);
}

void query_failed(const query_ctx *c, int rc)
{
    if (rc == SR_ENOENT)
        fprintf(stderr, "sitrep query: no entity '%s' in the cache\n",
                c->q.entity ? c->q.entity : "");
    else if (rc)
        cache_failed("query", c->cfg, c->st, rc);
}

int cmd_query(int argc, char **argv)
{
    const command *self = find_command("query");
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    if (p.npos != 1)
        die_usage(self, "which metric? e.g. sitrep query response_p1 --agg p90");
    static const char *const formats[] = {"text", "csv", "json", NULL};
    const char *fmt = format_opt(self, &p, formats);
    const char *by = opt(self, &p, "--by");
    if (by && strcmp(by, "children") != 0)
        die_usage(self, "--by: expected 'children', got '%s'", by);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    int status = SR_EXIT_USAGE;
    sr_store *st = NULL;
    sr_child_result *rows = NULL;
    const char **masks = NULL;      /* per row: NULL, or what to show instead of the value */
    sr_privacy_cells *cells = NULL; /* the thin cells of the grid, when it applies */
    viewer who;
    viewer_init(&who, cfg);
    const sr_metric_def *d = sr_catalog_find(&cfg->metrics, p.pos[0]);
    if (!d) {
        fprintf(stderr, "sitrep query: unknown metric '%s'", p.pos[0]);
        sr_suggest sg;
        sr_suggest_init(&sg, p.pos[0]);
        for (size_t i = 0; i < cfg->metrics.n; i++)
            sr_suggest_try(&sg, cfg->metrics.v[i].name);
        const char *best = sr_suggest_best(&sg);
        if (best)
            fprintf(stderr, "; did you mean '%s'?", best);
        fprintf(stderr, " (metrics are defined in %s)\n", cfg->path);
        goto done;
    }
    sr_query q = {.metric = d->name, .entity = opt(self, &p, "--entity")};
    if (q.entity && strcmp(q.entity, "/") == 0)
        q.entity = "";
    q.agg.kind = SR_AGG_VALUE;
    const char *agg = opt(self, &p, "--agg");
    /* baseline, or baseline:AGG: the baseline of the metric's own or of AGG */
    bool baseline = agg && strncmp(agg, "baseline", 8) == 0 && (!agg[8] || agg[8] == ':');
    if (baseline)
        agg = agg[8] ? agg + 9 : NULL;
    /* forecast, or forecast:AGG: the same with the forecast (cmd_forecast.c) */
    bool forecast = agg && strncmp(agg, "forecast", 8) == 0 && (!agg[8] || agg[8] == ':');
    if (forecast)
        agg = agg[8] ? agg + 9 : NULL;
    /* spread, or spread:AGG: the load across the children (cmd_spread.c) */
    bool spread = agg && strncmp(agg, "spread", 6) == 0 && (!agg[6] || agg[6] == ':');
    if (spread)
        agg = agg[6] ? agg + 7 : NULL;
    const char *per_name = opt(self, &p, "--per");
    const sr_metric_def *per = NULL;
    if (per_name && !spread) {
        usage_error(self, "--per goes with --agg spread");
        goto done;
    }
    if (per_name && !(per = sr_catalog_find(&cfg->metrics, per_name))) {
        fprintf(stderr, "sitrep query: --per: unknown metric '%s' (metrics are defined in %s)\n",
                per_name, cfg->path);
        goto done;
    }
    sr_ms horizon = SR_FORECAST_HORIZON_DEFAULT;
    const char *hz = opt(self, &p, "--horizon");
    if (hz && !forecast) {
        usage_error(self, "--horizon goes with --agg forecast");
        goto done;
    }
    if (hz && (sr_parse_duration(hz, &horizon) || horizon < SR_FORECAST_SLICE_MS ||
               horizon > SR_FORECAST_HORIZON_MAX || horizon % SR_FORECAST_SLICE_MS)) {
        usage_error(self, "--horizon: expected whole hours from 1h to 48h, such as 8h, got '%s'",
                    hz);
        goto done;
    }
    if (agg && sr_agg_parse(agg, &q.agg)) {
        usage_error(self,
                    "--agg: expected count sum avg min max last pNN within, baseline[:AGG], "
                    "forecast[:AGG] or spread[:AGG], got '%s'",
                    opt(self, &p, "--agg"));
        goto done;
    }
    if (!sr_agg_valid_for(q.agg, d->kind)) {
        fprintf(stderr, "sitrep query: %s is a %s metric; '%s' does not apply to it\n", d->name,
                sr_kind_name(d->kind), opt(self, &p, "--agg"));
        goto done;
    }
    if (q.agg.kind == SR_AGG_WITHIN && isnan(d->target)) {
        /* the share within target of no target is not "no data" */
        fprintf(stderr, "sitrep query: %s has no target, so 'within' does not apply to it (%s)\n",
                d->name, cfg->path);
        goto done;
    }
    sr_ms now = sr_now_ms(), window = 8 * SR_MS_HOUR;
    const char *w = opt(self, &p, "--window"), *from = opt(self, &p, "--from"),
               *to = opt(self, &p, "--to");
    const char *at = opt(self, &p, "--at");
    if (w && (from || to)) {
        usage_error(self, "give either --window or --from/--to, not both");
        goto done;
    }
    if (at && (from || to)) {
        usage_error(self, "give either --at or --from/--to, not both");
        goto done;
    }
    if (w && sr_parse_duration(w, &window)) {
        usage_error(self, "--window: expected a duration such as 15m, 8h, 7d, got '%s'", w);
        goto done;
    }
    q.to_ms = now;
    if (at) { /* the dashboard's and snapshot's --at: "latest" needs the cache */
        st = open_cache(cfg, SR_STORE_READONLY);
        q.to_ms = at_opt(self, &p, cfg, st, now);
    }
    if (to && sr_parse_time(to, cfg->timezone, &q.to_ms)) {
        usage_error(
            self, "--to: expected ISO-8601 (2024-01-31T08:00:00Z) or epoch seconds, got '%s'", to);
        goto done;
    }
    q.from_ms = q.to_ms - window;
    if (from && sr_parse_time(from, cfg->timezone, &q.from_ms)) {
        usage_error(self,
                    "--from: expected ISO-8601 (2024-01-31T08:00:00Z) or epoch seconds, got '%s'",
                    from);
        goto done;
    }
    if (q.from_ms >= q.to_ms) {
        usage_error(self, "the window is empty: --from must be before --to");
        goto done;
    }
    status = SR_EXIT_FAIL;

    sr_priv_hide hide = sr_privacy_entity(&who.priv, q.entity ? q.entity : "");
    if (hide != SR_PRIV_SHOWN) {
        char why[256];
        sr_privacy_why_text(&who.priv, hide, sr_privacy_level(q.entity), why, sizeof why);
        fprintf(stderr, "sitrep query: refused: %s: %s\n", q.entity, why);
        status = SR_EXIT_FAIL;
        goto done;
    }
    if (!st)
        st = open_cache(cfg, SR_STORE_READONLY);
    bool personal = false;
    int rc;
    /* not known: nothing is printed, as for any read of the cache that fails */
    if ((rc = sr_privacy_metric_personal(st, &cfg->metrics, &who.priv, d->name, &personal))) {
        cache_failed("query", cfg, st, rc);
        goto done;
    }
    bool per_personal = false;
    if (per &&
        (rc = sr_privacy_metric_personal(st, &cfg->metrics, &who.priv, per->name, &per_personal))) {
        cache_failed("query", cfg, st, rc);
        goto done;
    }
    sr_ms asked_from = q.from_ms, asked_to = q.to_ms;
    bool gridded =
        sr_privacy_grid_window(&who.priv, personal || per_personal, &q.from_ms, &q.to_ms);
    if (gridded && (q.from_ms != asked_from || q.to_ms != asked_to)) {
        char f[40], t[40], g[32];
        sr_format_time_utc(q.from_ms, f, sizeof f);
        sr_format_time_utc(q.to_ms, t, sizeof t);
        sr_format_duration(who.priv.grid_ms, g, sizeof g);
        fprintf(stderr,
                "sitrep query: %s is personal data: for role %s the window is aligned to whole "
                "%s slices: %s to %s\n",
                personal ? d->name : per->name, who.role->name, g, f, t);
    }
    sr_agg shown = q.agg; /* as it is named: value is the metric's own */
    if (shown.kind == SR_AGG_VALUE && d->kind != SR_KIND_RATIO)
        shown = d->agg;
    if (baseline || forecast || spread) {
        query_ctx c = {.cfg = cfg,
                       .d = d,
                       .st = st,
                       .who = &who,
                       .q = q,
                       .shown = shown,
                       .by = by != NULL,
                       .personal = personal,
                       .gridded = gridded,
                       .fmt = fmt,
                       .horizon_ms = horizon,
                       .per = per,
                       .per_personal = per_personal};
        status = spread ? query_spread(&c) : forecast ? query_forecast(&c) : query_baseline(&c);
        goto done;
    }
    size_t n = 0;
    sr_child_result one;
    bool shown_count = q.agg.kind == SR_AGG_COUNT; /* of nothing: 0 */
    if (q.from_ms >= q.to_ms) {                    /* nothing whole in the window */
        one = (sr_child_result){.entity = q.entity ? q.entity : "",
                                .r = {shown_count ? 0 : NAN, 0, true}};
        rows = by ? NULL : &one;
        n = by ? 0 : 1;
        rc = 0;
    } else if (by) {
        rc = sr_query_children(st, &cfg->metrics, &q, &rows, &n);
    } else {
        one.entity = q.entity ? q.entity : "";
        rc = sr_query_run(st, &cfg->metrics, &q, &one.r);
        rows = &one;
        n = 1;
    }
    if (rc) {
        if (rc == SR_ENOENT)
            fprintf(stderr, "sitrep query: no entity '%s' in the cache\n", q.entity);
        else
            cache_failed("query", cfg, st, rc);
        status = SR_EXIT_FAIL;
        if (!by)
            rows = NULL;
        goto done;
    }
    char aggname[32];
    sr_agg_format(shown, aggname, sizeof aggname);

    /* the role's policy (metrics/privacy.h): hidden children go, suppressed
     * values show their mask, and under the grid a figure with a thin cell */
    if (gridded && (rc = sr_privacy_cells_read(st, &cfg->metrics, &who.priv, d->name, q.from_ms,
                                               q.to_ms, &cells))) {
        cache_failed("query", cfg, st, rc);
        status = SR_EXIT_FAIL;
        goto done;
    }
    masks = xcalloc(n + 1, sizeof *masks);
    size_t kept = 0;
    sr_privacy_report pr = {0};
    for (size_t i = 0; i < n; i++) {
        if (!query_row_mask(&who, personal, d->kind, shown, cells, rows[i].entity, q.from_ms,
                            q.to_ms, &rows[i].r, &masks[kept], &pr))
            continue;
        rows[kept++] = rows[i];
    }
    n = kept;
    bool personal_shown = pr.personal_shown;
    char hidden[512];
    sr_privacy_hidden_text(&who.priv, &pr, hidden, sizeof hidden);
    if (hidden[0])
        fprintf(stderr, "sitrep query: %s\n", hidden);
    if (personal_shown) {
        char detail[512];
        snprintf(detail, sizeof detail, "query: metric %s, entity %s%s", d->name,
                 q.entity && *q.entity ? q.entity : "(all)", by ? ", by children" : "");
        sr_audit_sink_hook(&who.audit, "view-personal", detail);
        if (who.audit.rc) { /* no figure about a person without its audit row */
            status = SR_EXIT_FAIL;
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!masks[i] && isinf(rows[i].r.value))
            fprintf(stderr, "sitrep query: %s: the %s overflows (beyond %g): no figure\n",
                    *rows[i].entity ? rows[i].entity : "(all)", aggname, DBL_MAX);
    }
    if (strcmp(fmt, "csv") == 0) {
        static const char *const header[] = {"entity", "agg", "value", "n", NULL};
        sr_csv_out csv;
        sr_csv_init(&csv, stdout);
        sr_csv_header(&csv, header);
        for (size_t i = 0; i < n; i++) {
            sr_csv_field(&csv, rows[i].entity);
            sr_csv_field(&csv, aggname);
            sr_csv_figure(&csv, rows[i].r.value, masks[i]);
            if (masks[i])
                sr_csv_field(&csv, "");
            else
                sr_csv_integer(&csv, rows[i].r.n);
            sr_csv_end_row(&csv);
        }
    } else if (strcmp(fmt, "json") == 0) {
        json_t *root = query_json_head(d, aggname, q.from_ms, q.to_ms), *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "entity", json_string(rows[i].entity));
            json_object_set_new(o, "value", sr_json_number(rows[i].r.value));
            /* every row has the same members: a suppressed one's n is null */
            json_object_set_new(o, "n", masks[i] ? json_null() : json_integer(rows[i].r.n));
            if (masks[i])
                json_object_set_new(o, "suppressed", json_string(masks[i]));
            else if (isinf(rows[i].r.value))
                json_object_set_new(o, "overflow", json_true());
            json_object_set_new(o, "exact", json_boolean(rows[i].r.exact));
            json_array_append_new(arr, o);
        }
        query_json_print(root, arr);
    } else {
        printf("%-40s %-8s %14s %10s\n", "ENTITY", "AGG", "VALUE", "N");
        for (size_t i = 0; i < n; i++) {
            char v[64], nn[32];
            sr_format_value(rows[i].r.value, d, shown, false, v, sizeof v); /* as a tile */
            snprintf(nn, sizeof nn, "%lld", (long long)rows[i].r.n);
            if (masks[i]) {
                snprintf(v, sizeof v, "%s", masks[i]);
                snprintf(nn, sizeof nn, "-");
            }
            char *e = xclean(*rows[i].entity ? rows[i].entity : "(all)"); /* from data */
            printf("%-40s %-8s %14s %10s%s\n", e, aggname, *v ? v : "-", nn,
                   rows[i].r.exact ? "" : "  (from rollups, within 0.5%)");
            free(e);
        }
    }
    status = SR_EXIT_OK;
done:
    viewer_fini(&who, "query", &status);
    sr_privacy_cells_destroy(cells);
    free(masks);
    if (by)
        free(rows);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}
