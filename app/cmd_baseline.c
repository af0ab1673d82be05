/*
 * cmd_baseline.c - `sitrep query METRIC --agg baseline[:AGG]`: each row's
 * figure against its seasonal baseline (metrics/baseline.h): the band, the
 * median, the weeks used of N, the slice's place in the week, and whether
 * the last unusual_slices slices were unusual.
 *
 * Privacy goes through metrics/privacy.h as for every query row: a row the
 * role may not see is not printed; a figure it may not see shows its mask;
 * the band and the median are other weeks' figures of the same entity, so
 * each used week's figure is judged by the same rule (and, under the grid,
 * by the same cells), and the band shows the first mask any of them gets.
 * The verdict says something of every figure and band of the run, so it
 * is shown only when all of them may be.
 */
#include "cmd.h"

#include "../metrics/baseline.h"

/* One row: an entity's run of slices and what the role may see of it. */
typedef struct {
    const char *entity;     /* borrowed from the store or the query */
    sr_baseline_slice *run; /* m slices, the row's own last; owned by the row */
    const char *mask;       /* of the row's figure; NULL: shown */
    const char *band_mask;  /* of its band and median; NULL: shown */
    sr_unusual unusual;     /* SR_UNUSUAL_UNKNOWN when the role may not see it */
} brow;

/* The mask of figure r of entity over [from, to) for c's role, by the one
 * rule of a query row (query_row_mask); NULL: shown. */
static const char *figure_mask(const query_ctx *c, const sr_privacy_cells *cells,
                               const char *entity, sr_result r, sr_ms from, sr_ms to)
{
    const char *mask = NULL;
    query_row_mask(c->who, c->personal, c->d->kind, c->shown, cells, entity, from, to, &r, &mask,
                   NULL);
    return mask;
}

/* The first mask of a used week's figure of b, NULL when all are shown. */
static const char *band_mask(const query_ctx *c, const sr_privacy_cells *cells, const char *entity,
                             const sr_baseline *b)
{
    for (int k = 0; k < b->weeks; k++) {
        const sr_baseline_week *w = &b->week[k];
        const char *mask = w->state != SR_WEEK_USED
                               ? NULL
                               : figure_mask(c, cells, entity, w->r, w->from_ms, w->to_ms);
        if (mask)
            return mask;
    }
    return NULL;
}

/* Judges row r's run by c's role. */
static void judge_row(const query_ctx *c, const sr_privacy_cells *cells, size_t m, brow *r)
{
    sr_baseline_slice *own = &r->run[m - 1];
    r->mask = figure_mask(c, cells, r->entity, own->figure, own->from_ms, own->to_ms);
    r->band_mask = band_mask(c, cells, r->entity, &own->base);
    r->unusual = sr_baseline_unusual(r->run, m);
    for (size_t i = 0; i < m; i++) {
        const sr_baseline_slice *s = &r->run[i];
        if (figure_mask(c, cells, r->entity, s->figure, s->from_ms, s->to_ms) ||
            band_mask(c, cells, r->entity, &s->base))
            r->unusual = SR_UNUSUAL_UNKNOWN;
    }
}

/* Bytes of s that start a character: its width in columns here (entities
 * are cleaned first; every other text is ours). */
static int cols(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* s padded to width columns, on the right (right = true) or the left. */
static void put_cell(const char *s, int width, bool right)
{
    int pad = width - cols(s);
    if (right)
        printf("%*s%s", pad > 0 ? pad : 0, "", s);
    else
        printf("%s%*s", s, pad > 0 ? pad : 0, "");
}

static void print_text(const query_ctx *c, const brow *rows, size_t n, size_t m,
                       const char *aggname, const char *label)
{
    printf("%-32s %-8s %14s %25s %14s %6s  %-16s %s\n", "ENTITY", "AGG", "VALUE", "NORMAL",
           "MEDIAN", "WEEKS", "SLICE", "UNUSUAL");
    for (size_t i = 0; i < n; i++) {
        const sr_baseline_slice *own = &rows[i].run[m - 1];
        const sr_baseline *b = &own->base;
        char v[64], lo[64], hi[64], band[140], med[64], weeks[24];
        sr_format_masked(rows[i].mask, own->figure.value, c->d, c->shown, false, v, sizeof v);
        if (rows[i].band_mask)
            snprintf(med, sizeof med, "%s", rows[i].band_mask);
        else
            sr_format_estimate(b->median, c->d, c->shown, med, sizeof med);
        if (rows[i].band_mask) {
            snprintf(band, sizeof band, "%s", rows[i].band_mask);
        } else if (b->has_band) {
            sr_format_value(b->low, c->d, c->shown, false, lo, sizeof lo);
            sr_format_value(b->high, c->d, c->shown, false, hi, sizeof hi);
            sr_format_range(lo, hi, "–", band, sizeof band);
        } else {
            snprintf(band, sizeof band, "-");
        }
        if (rows[i].band_mask) /* which weeks had data is the role's to see no more */
            snprintf(weeks, sizeof weeks, "-/%d", b->weeks);
        else
            snprintf(weeks, sizeof weeks, "%d/%d", b->used, b->weeks);
        const char *verdict = rows[i].unusual == SR_UNUSUAL_HIGH   ? "high ▲"
                              : rows[i].unusual == SR_UNUSUAL_LOW  ? "low ▼"
                              : rows[i].unusual == SR_UNUSUAL_NONE ? "no"
                                                                   : "-";
        char *e = xclean(*rows[i].entity ? rows[i].entity : "(all)"); /* from data */
        put_cell(e, 32, false);
        printf(" %-8s ", aggname);
        put_cell(*v ? v : "-", 14, true);
        putchar(' ');
        put_cell(band, 25, true);
        putchar(' ');
        put_cell(*med ? med : "-", 14, true);
        printf(" %6s  ", weeks);
        put_cell(label, 16, false);
        printf(" %s", verdict);
        if (!b->has_band && !rows[i].band_mask)
            printf("  (%s)", b->why);
        putchar('\n');
        free(e);
    }
}

static void print_csv(const brow *rows, size_t n, size_t m, const char *aggname, const char *label)
{
    static const char *const header[] = {"entity",  "agg",    "value",      "n",     "low",
                                         "high",    "median", "weeks_used", "weeks", "slice",
                                         "unusual", "reason", NULL};
    sr_csv_out csv;
    sr_csv_init(&csv, stdout);
    sr_csv_header(&csv, header);
    for (size_t i = 0; i < n; i++) {
        const sr_baseline_slice *own = &rows[i].run[m - 1];
        const sr_baseline *b = &own->base;
        sr_csv_field(&csv, rows[i].entity);
        sr_csv_field(&csv, aggname);
        sr_csv_figure(&csv, own->figure.value, rows[i].mask);
        if (rows[i].mask)
            sr_csv_field(&csv, "");
        else
            sr_csv_integer(&csv, own->figure.n);
        sr_csv_figure(&csv, b->low, rows[i].band_mask);
        sr_csv_figure(&csv, b->high, rows[i].band_mask);
        sr_csv_figure(&csv, b->median, rows[i].band_mask);
        if (rows[i].band_mask)
            sr_csv_field(&csv, "");
        else
            sr_csv_integer(&csv, b->used);
        sr_csv_integer(&csv, b->weeks);
        sr_csv_field(&csv, label);
        sr_csv_field(&csv,
                     rows[i].unusual == SR_UNUSUAL_UNKNOWN ? "" : sr_unusual_name(rows[i].unusual));
        sr_csv_field(&csv, rows[i].band_mask ? "" : b->why);
        sr_csv_end_row(&csv);
    }
}

static void print_json(const query_ctx *c, const brow *rows, size_t n, size_t m,
                       const char *aggname, const char *label)
{
    json_t *root = query_json_head(c->d, aggname, c->q.from_ms, c->q.to_ms), *arr = json_array();
    char f[40], t[40];
    json_object_set_new(root, "slice", json_string(label));
    json_object_set_new(root, "weeks", json_integer((json_int_t)c->d->baseline_weeks));
    json_object_set_new(root, "unusual_slices", json_integer((json_int_t)m));
    for (size_t i = 0; i < n; i++) {
        const sr_baseline_slice *own = &rows[i].run[m - 1];
        const sr_baseline *b = &own->base;
        const char *bm = rows[i].band_mask;
        json_t *o = json_object(), *weeks = json_array();
        json_object_set_new(o, "entity", json_string(rows[i].entity));
        json_object_set_new(o, "value", sr_json_number(own->figure.value));
        /* every row has the same members: what is suppressed is null */
        json_object_set_new(o, "n", rows[i].mask ? json_null() : json_integer(own->figure.n));
        if (rows[i].mask)
            json_object_set_new(o, "suppressed", json_string(rows[i].mask));
        else if (isinf(own->figure.value))
            json_object_set_new(o, "overflow", json_true());
        json_object_set_new(o, "exact", json_boolean(own->figure.exact));
        json_object_set_new(o, "low", bm ? json_null() : sr_json_number(b->low));
        json_object_set_new(o, "high", bm ? json_null() : sr_json_number(b->high));
        json_object_set_new(o, "median", bm ? json_null() : sr_json_number(b->median));
        if (bm)
            json_object_set_new(o, "band_suppressed", json_string(bm));
        json_object_set_new(o, "weeks_used", bm ? json_null() : json_integer(b->used));
        json_object_set_new(o, "unusual",
                            rows[i].unusual == SR_UNUSUAL_UNKNOWN
                                ? json_null()
                                : json_string(sr_unusual_name(rows[i].unusual)));
        json_object_set_new(o, "reason", b->has_band || bm ? json_null() : json_string(b->why));
        for (int k = 0; !bm && k < b->weeks; k++) {
            const sr_baseline_week *w = &b->week[k];
            json_t *wo = json_object();
            sr_format_time_utc(w->from_ms, f, sizeof f);
            sr_format_time_utc(w->to_ms, t, sizeof t);
            json_object_set_new(wo, "from", json_string(f));
            json_object_set_new(wo, "to", json_string(t));
            json_object_set_new(wo, "state", json_string(sr_week_state_name(w->state)));
            json_object_set_new(
                wo, "value", w->state != SR_WEEK_USED ? json_null() : sr_json_number(w->r.value));
            json_array_append_new(weeks, wo);
        }
        json_object_set_new(o, "weeks", weeks);
        json_array_append_new(arr, o);
    }
    query_json_print(root, arr);
}

int query_baseline(const query_ctx *c)
{
    const sr_catalog *cat = &c->cfg->metrics;
    sr_query q = c->q;
    if (q.from_ms >= q.to_ms) {
        fprintf(stderr,
                "sitrep query: %s is personal data: for role %s the window holds no whole slice "
                "of the grid, so it has no baseline\n",
                c->d->name, c->who->role->name);
        return SR_EXIT_FAIL;
    }
    if (q.to_ms - q.from_ms > SR_BASELINE_SLICE_MAX) {
        fprintf(stderr, "sitrep query: a baseline's slice is at most a week long (7d)\n");
        return SR_EXIT_USAGE;
    }
    sr_baseline_opts o = {.weeks = (int)c->d->baseline_weeks,
                          .tz = c->cfg->timezone,
                          .exclude = c->cfg->baseline_exclude,
                          .n_exclude = c->cfg->n_baseline_exclude};
    size_t m = (size_t)c->d->unusual_slices;
    int status = SR_EXIT_FAIL, rc = 0;
    sr_child_result *kids = NULL;
    brow *rows = NULL;
    sr_privacy_cells *cells = NULL;
    size_t n = 1;
    if (c->by && (rc = sr_query_children(c->st, cat, &q, &kids, &n))) {
        n = 0;
        goto out;
    }
    rows = xcalloc(n ? n : 1, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        rows[i].entity = c->by ? kids[i].entity : q.entity ? q.entity : "";
        rows[i].run = xcalloc(m, sizeof *rows[i].run);
        sr_query rq = q;
        rq.entity = rows[i].entity;
        if ((rc = sr_baseline_run(c->st, cat, &rq, &o, m, rows[i].run)))
            goto out;
    }
    /* under the grid: the cells from the oldest week of the oldest slice on */
    if (c->gridded && n) {
        sr_ms from = q.from_ms;
        for (size_t i = 0; i < m; i++)
            for (int k = 0; k < o.weeks; k++)
                if (rows[0].run[i].base.week[k].from_ms < from)
                    from = rows[0].run[i].base.week[k].from_ms;
        if ((rc = sr_privacy_cells_read(c->st, cat, &c->who->priv, c->d->name, from, q.to_ms,
                                        &cells)))
            goto out;
    }
    size_t kept = 0;
    sr_privacy_report pr = {0};
    for (size_t i = 0; i < n; i++) {
        sr_baseline_slice *own = &rows[i].run[m - 1];
        sr_result r = own->figure;
        const char *mask = NULL;
        if (!query_row_mask(c->who, c->personal, c->d->kind, c->shown, cells, rows[i].entity,
                            own->from_ms, own->to_ms, &r, &mask, &pr)) {
            free(rows[i].run); /* a hidden entity: no row */
            continue;
        }
        judge_row(c, cells, m, &rows[i]);
        if (rows[i].mask) /* what is printed of a masked figure: no number */
            own->figure.value = NAN;
        rows[kept++] = rows[i];
    }
    n = kept;
    if (!query_privacy_said(c, &pr, "baseline"))
        goto out;
    char aggname[32], label[64];
    sr_agg_format(c->shown, aggname, sizeof aggname);
    sr_baseline_label(c->cfg->timezone, q.from_ms, q.to_ms, label, sizeof label);
    if (strcmp(c->fmt, "csv") == 0)
        print_csv(rows, n, m, aggname, label);
    else if (strcmp(c->fmt, "json") == 0)
        print_json(c, rows, n, m, aggname, label);
    else
        print_text(c, rows, n, m, aggname, label);
    status = SR_EXIT_OK;
out:
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].run);
    free(rows);
    sr_privacy_cells_destroy(cells);
    query_failed(c, rc);
    free(kids);
    return status;
}
