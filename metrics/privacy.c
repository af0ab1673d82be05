/*
 * privacy.c - the privacy policy applied to panel models.
 *
 * Everything here but what reads the cache (sr_privacy_metric_personal,
 * the grid's cells, sr_privacy_alerts and sr_privacy_panel_compute, the one
 * path by which every output gets a panel's figures) is pure: a policy
 * value and a model in, the model with hidden entities removed and
 * suppressed values replaced out. sr_privacy_apply() works in one order, so that no
 * later step can bring back what an earlier one took: the model's own
 * entity; then the headline (c.now) and everything derived from it; then
 * the previous and week-ago values and the change; then series slices,
 * rows (removed, or masked with their series, previous values, changes
 * and statuses), events and the histogram; then the baseline (each used
 * week's figure judged as the headline) and the forecast (the count of
 * the stretch it is made of, and the headline's mask, since its level
 * rests on the window; under the grid, whole cells over the stretch).
 * A mask is a short static text copied into the model; the value under it
 * is always NAN, so a writer that forgets the mask shows "no data", never
 * the number.
 */
#include "privacy.h"
#include "spread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sr_privacy_init(sr_privacy *p)
{
    memset(p, 0, sizeof *p);
    p->see_personal = true;
    p->drill = SR_PRIV_ANY;
    p->min_cell = 1;
    p->min_pct_n = SR_PRIV_MIN_PCT_N;
}

int sr_privacy_level(const char *path)
{
    if (!path || !*path)
        return 0;
    int n = 1;
    for (const char *c = path; *c; c++)
        n += *c == '/';
    return n;
}

bool sr_privacy_is_personal(const sr_privacy *p, const char *path)
{
    int lv = sr_privacy_level(path);
    for (int i = 1; i <= lv && i <= SR_PRIV_MAX_LEVELS; i++) {
        if (p->personal[i])
            return true;
    }
    return false;
}

sr_priv_hide sr_privacy_entity(const sr_privacy *p, const char *path)
{
    if (!p->see_personal && sr_privacy_is_personal(p, path))
        return SR_PRIV_PERSONAL;
    if (sr_privacy_level(path) > p->drill)
        return SR_PRIV_TOO_DEEP;
    return SR_PRIV_SHOWN;
}

const char *sr_privacy_value(const sr_privacy *p, bool metric_personal, sr_kind kind, sr_agg agg,
                             int64_t n)
{
    if (n <= 0)
        return NULL;
    if (metric_personal && !p->see_personal) {
        if (agg.kind == SR_AGG_MIN || agg.kind == SR_AGG_MAX ||
            (agg.kind == SR_AGG_LAST && kind != SR_KIND_GAUGE))
            return "hidden";
        if (n < p->min_cell) {
            static const char *const lt[] = {"<1", "<2", "<3", "<4", "<5",
                                             "<6", "<7", "<8", "<9", "<10"};
            if (p->min_cell <= 10)
                return lt[p->min_cell - 1];
            return "<min";
        }
    }
    if (agg.kind == SR_AGG_PCT && n < p->min_pct_n)
        return p->min_pct_n == SR_PRIV_MIN_PCT_N ? "n<10" : "n<min";
    return NULL;
}

/* The kind of a model's metric (an unknown metric: as an event's). */
#define KIND(m) ((m)->def ? (m)->def->kind : SR_KIND_EVENT)

static void set_mask(char *dst, const char *mask)
{
    snprintf(dst, 16, "%s", mask ? mask : "");
}

/* Whether a series slice of n observations may be shown. NAN n: unknown. */
static bool slice_ok(const sr_privacy *p, bool personal, sr_kind kind, sr_agg agg, double n)
{
    bool judged = agg.kind == SR_AGG_PCT || (personal && !p->see_personal);
    if (!judged)
        return true;
    if (isnan(n))
        return false;
    return sr_privacy_value(p, personal, kind, agg, (int64_t)n) == NULL;
}

/* Clears the n slices of s and returns how many of them held a value. */
static size_t hide_series(double *s, size_t n)
{
    size_t had = 0;
    for (size_t i = 0; i < n; i++) {
        had += !isnan(s[i]);
        s[i] = NAN;
    }
    return had;
}

static void clear_events(sr_panel_model *m, sr_privacy_report *r)
{
    r->events_hidden += m->n_events;
    free(m->events);
    m->events = NULL;
    m->n_events = 0;
}

static void clear_hist(sr_panel_model *m)
{
    memset(m->hist, 0, sizeof m->hist);
    m->n_hist = 0;
    m->hist_lo = m->hist_hi = NAN;
}

/* No baseline at all: nothing of other weeks stays. */
static void clear_baseline(sr_panel_model *m)
{
    free(m->base_run);
    m->base_run = NULL;
    m->n_base_run = 0;
    m->unusual = SR_UNUSUAL_UNKNOWN;
}

/* A band that the role may not see: mask shown instead, and no figure of
 * it, nor of its weeks, stays in the model. */
static void mask_band(sr_baseline *b)
{
    b->low = b->high = b->median = NAN;
    for (int k = 0; k < b->weeks && k < SR_BASELINE_MAX_WEEKS; k++)
        b->week[k].r.value = NAN;
}

/* A forecast the role may not see: mask shown instead, and no figure of it,
 * nor its reason (which names the entity's baselines), stays in the model. */
static void hide_forecast(sr_panel_model *m, const char *mask)
{
    if (!m->has_forecast)
        return;
    sr_forecast *f = &m->forecast;
    set_mask(m->fc_mask, mask);
    f->now.level = f->now.value = f->now.low = f->now.high = NAN;
    f->now.why[0] = f->why[0] = '\0';
    f->error = f->actual = f->abs_error = NAN;
    f->used = 0;
    f->shown = false;
}

/* The model's own entity is hidden: nothing of it stays. */
static void clear_all(sr_panel_model *m, sr_privacy_report *r)
{
    sr_result none = {NAN, 0, true};
    m->c.now = m->c.prev = m->c.week_ago = none;
    m->status = SR_STATUS_NONE;
    m->change_pct = m->within_pct = NAN;
    m->series_hidden += hide_series(m->series, SR_SERIES_MAX);
    r->rows_deep += m->n_rows;
    free(m->rows);
    m->rows = NULL;
    m->n_rows = 0;
    clear_events(m, r);
    clear_hist(m);
    clear_baseline(m);
    hide_forecast(m, "hidden");
    m->newest_ms = 0;
    set_mask(m->mask, "hidden");
}

/*
 * Masks the headline of m and all that is derived from it; the
 * observations themselves (events and histogram) too, unless
 * keep_observations: a percentile of a metric that is not personal, over
 * too few observations, is unreliable, not revealing, and its observations
 * are shown whatever their number.
 */
static void mask_now(sr_panel_model *m, const char *mask, bool keep_observations,
                     sr_privacy_report *r)
{
    set_mask(m->mask, mask);
    m->c.now.value = NAN;
    m->status = SR_STATUS_NONE;
    m->within_pct = NAN;
    m->change_pct = NAN;
    m->series_hidden += hide_series(m->series, SR_SERIES_MAX);
    if (keep_observations)
        return;
    clear_events(m, r);
    clear_hist(m);
}

bool sr_privacy_figure(const sr_privacy *p, bool metric_personal, sr_kind kind, sr_agg agg,
                       const char *entity, sr_result *res, const char **mask,
                       sr_privacy_report *rep)
{
    sr_privacy_report scratch = {0};
    if (!rep)
        rep = &scratch;
    *mask = NULL;
    sr_priv_hide h = sr_privacy_entity(p, entity);
    if (h != SR_PRIV_SHOWN) {
        /* counted, so that a line can say so, only when it has data to hide
         * (a count of nothing, 0, is not data) */
        if (res->n > 0 || (!isnan(res->value) && agg.kind != SR_AGG_COUNT))
            *(h == SR_PRIV_PERSONAL ? &rep->rows_personal : &rep->rows_deep) += 1;
        return false;
    }
    *mask = sr_privacy_value(p, metric_personal, kind, agg, res->n);
    if (*mask)
        res->value = NAN;
    if (sr_privacy_is_personal(p, entity) && res->n > 0)
        rep->personal_shown = true;
    return true;
}

static void apply_rows(const sr_privacy *p, bool personal, sr_panel_model *m, sr_privacy_report *r)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n_rows; i++) {
        sr_panel_row *row = &m->rows[i];
        const char *mask;
        if (!sr_privacy_figure(p, personal, KIND(m), m->agg, row->entity, &row->r, &mask, r))
            continue;
        set_mask(row->mask, mask);
        /* the previous window's figure, and the change from it, as the headline's */
        if (mask || sr_privacy_value(p, personal, KIND(m), m->agg, row->prev.n))
            row->prev.value = NAN;
        if (isnan(row->r.value) || isnan(row->prev.value))
            row->change_pct = NAN;
        /* a status speaks of the metric's own aggregate (a row of the share within
         * target is judged by its p90): shown only where that figure could be */
        if (m->def && row->status != SR_STATUS_NONE &&
            sr_privacy_value(p, personal, KIND(m), sr_kpi_own_agg(m->def), row->r.n))
            row->status = SR_STATUS_NONE;
        /* its baseline rests on other weeks' figures of the row: judged by the fewest */
        if (mask || sr_privacy_value(p, personal, KIND(m), m->agg, row->base_min_n)) {
            row->unusual = SR_UNUSUAL_UNKNOWN;
            row->outside = NAN;
        }
        if (mask) {
            row->status = SR_STATUS_NONE;
            row->series_hidden += hide_series(row->series, SR_ROW_SERIES);
        } else {
            for (size_t s = 0; s < row->n_series && s < SR_ROW_SERIES; s++) {
                if (!slice_ok(p, personal, KIND(m), m->agg, row->series_n[s]))
                    row->series_hidden += hide_series(&row->series[s], 1);
            }
        }
        if (k != i)
            m->rows[k] = *row;
        k++;
    }
    m->n_rows = k;
    if (k == 0) {
        free(m->rows);
        m->rows = NULL;
    }
}

/*
 * The baseline is other weeks' figures of the same entity: each used week's
 * figure is judged by the rule of the headline (sr_privacy_value on its
 * count), and a band resting on one the role may not see shows that
 * week's mask instead (the first found). The verdict speaks of every
 * figure and band of the run, so it stays only when all of them may be
 * seen.
 */
static void apply_baseline(const sr_privacy *p, bool personal, sr_panel_model *m)
{
    set_mask(m->base_mask, NULL);
    for (size_t i = 0; i < m->n_base_run; i++) {
        sr_baseline_slice *s = &m->base_run[i];
        bool last = i + 1 == m->n_base_run;
        const char *fmask = sr_privacy_value(p, personal, KIND(m), m->agg, s->figure.n);
        if (fmask || (last && m->mask[0])) {
            s->figure.value = NAN;
            m->unusual = SR_UNUSUAL_UNKNOWN;
        }
        const char *bmask = NULL;
        for (int k = 0; k < s->base.weeks && k < SR_BASELINE_MAX_WEEKS && !bmask; k++) {
            if (s->base.week[k].state == SR_WEEK_USED)
                bmask = sr_privacy_value(p, personal, KIND(m), m->agg, s->base.week[k].r.n);
        }
        if (bmask) {
            mask_band(&s->base);
            m->unusual = SR_UNUSUAL_UNKNOWN;
            if (last)
                set_mask(m->base_mask, bmask);
        }
    }
}

/* The forecast rests on the entity's figures from its oldest baseline week
 * to its origin: judged by their count, as the headline by its own; and,
 * its level resting on the window, hidden when the headline is. */
static void apply_forecast(const sr_privacy *p, bool personal, sr_panel_model *m)
{
    set_mask(m->fc_mask, NULL);
    const char *mask = sr_privacy_value(p, personal, KIND(m), m->agg, m->fc_n);
    if (mask || m->mask[0])
        hide_forecast(m, mask ? mask : m->mask);
}

static void apply_events(const sr_privacy *p, sr_panel_model *m, sr_privacy_report *r)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n_events; i++) {
        const sr_panel_event *e = &m->events[i];
        if (sr_privacy_entity(p, e->entity) != SR_PRIV_SHOWN) {
            r->events_hidden++;
            continue;
        }
        if (sr_privacy_is_personal(p, e->entity))
            r->personal_shown = true;
        if (k != i)
            m->events[k] = *e;
        k++;
    }
    m->n_events = k;
    if (k == 0) {
        free(m->events);
        m->events = NULL;
    }
}

void sr_privacy_apply(const sr_privacy *p, const char *entity, bool metric_personal,
                      sr_panel_model *m, sr_privacy_report *out)
{
    sr_privacy_report scratch = {0};
    sr_privacy_report *r = out ? out : &scratch;
    memset(r, 0, sizeof *r);
    set_mask(m->mask, NULL);
    sr_priv_hide h = sr_privacy_entity(p, entity);
    if (h != SR_PRIV_SHOWN) {
        r->entity_hidden = true;
        r->why = h;
        clear_all(m, r);
        return;
    }

    const char *mask = sr_privacy_value(p, metric_personal, KIND(m), m->agg, m->c.now.n);
    if (mask)
        mask_now(m, mask, !metric_personal && m->agg.kind == SR_AGG_PCT, r);
    if (sr_privacy_value(p, metric_personal, KIND(m), m->agg, m->c.prev.n))
        m->c.prev.value = NAN;
    if (sr_privacy_value(p, metric_personal, KIND(m), m->agg, m->c.week_ago.n))
        m->c.week_ago.value = NAN;
    if (isnan(m->c.now.value) || isnan(m->c.prev.value))
        m->change_pct = NAN;
    if (isnan(m->c.now.value) && !isnan(m->within_pct))
        m->within_pct = NAN;
    for (size_t s = 0; s < m->n_series && s < SR_SERIES_MAX; s++) {
        if (!slice_ok(p, metric_personal, KIND(m), m->agg, m->series_n[s]))
            m->series_hidden += hide_series(&m->series[s], 1);
    }
    apply_rows(p, metric_personal, m, r);
    apply_events(p, m, r);
    apply_baseline(p, metric_personal, m);
    apply_forecast(p, metric_personal, m);
    if (!p->see_personal && metric_personal)
        clear_hist(m); /* a histogram of people's values: single persons in its bins */
    if (p->see_personal && sr_privacy_is_personal(p, entity) && m->c.now.n > 0)
        r->personal_shown = true;
}

static const char *level_name(const sr_privacy *p, int level, char *buf, size_t len)
{
    if (level >= 1 && (size_t)level <= p->n_levels && p->levels[level - 1][0])
        snprintf(buf, len, "%s", p->levels[level - 1]);
    else
        snprintf(buf, len, "level %d", level);
    return buf;
}

/* The first personal level, 0 when none. */
static int first_personal(const sr_privacy *p)
{
    for (int i = 1; i <= SR_PRIV_MAX_LEVELS; i++) {
        if (p->personal[i])
            return i;
    }
    return 0;
}

void sr_privacy_why_text(const sr_privacy *p, sr_priv_hide why, int level, char *buf, size_t len)
{
    char name[SR_NAME_MAX + 16];
    const char *role = p->role[0] ? p->role : "this";
    if (why == SR_PRIV_PERSONAL) {
        int fp = first_personal(p);
        snprintf(buf, len, "%s is personal data, which role %s may not see",
                 level_name(p, fp ? fp : level, name, sizeof name), role);
    } else if (why == SR_PRIV_TOO_DEEP) {
        if (p->drill <= 0)
            snprintf(buf, len, "role %s may see the whole tree only", role);
        else
            snprintf(buf, len, "role %s may drill down to %s (level %d)", role,
                     level_name(p, p->drill, name, sizeof name), p->drill);
    } else {
        snprintf(buf, len, "shown");
    }
}

void sr_privacy_hidden_text(const sr_privacy *p, const sr_privacy_report *r, char *buf, size_t len)
{
    buf[0] = 0;
    size_t n = r->rows_personal + r->rows_deep;
    if (n == 0)
        return;
    char why[256];
    sr_privacy_why_text(p, r->rows_personal ? SR_PRIV_PERSONAL : SR_PRIV_TOO_DEEP, 0, why,
                        sizeof why);
    snprintf(buf, len, "%zu row%s hidden: %s", n, n == 1 ? "" : "s", why);
}

struct newest_ctx {
    sr_store *st;
    const sr_privacy *p;
    bool personal;
};

static int newest_cb(void *ctx, int64_t entity, sr_ms ts_ms, double value, const char *key)
{
    (void)ts_ms;
    (void)value;
    (void)key;
    struct newest_ctx *c = ctx;
    const char *path = sr_store_entity_path(c->st, entity);
    c->personal = path && sr_privacy_is_personal(c->p, path);
    return 1; /* the newest one is enough */
}

static int part_personal(sr_store *st, const sr_privacy *p, const char *metric, bool *out)
{
    int64_t id;
    int rc = sr_store_metric_id(st, metric, &id);
    if (rc == SR_ENOENT)
        return 0;
    if (rc)
        return rc;
    struct newest_ctx c = {st, p, false};
    rc = sr_store_scan_raw_desc(st, id, INT64_MIN, INT64_MAX, newest_cb, &c);
    if (rc < 0)
        return rc;
    *out = *out || c.personal;
    return 0;
}

int sr_privacy_metric_personal(sr_store *st, const sr_catalog *cat, const sr_privacy *p,
                               const char *metric, bool *out)
{
    *out = false;
    if (!first_personal(p))
        return 0;
    const sr_metric_def *d = sr_catalog_find(cat, metric);
    if (d && d->kind == SR_KIND_RATIO) {
        int rc = part_personal(st, p, d->numerator, out);
        return rc ? rc : part_personal(st, p, d->denominator, out);
    }
    return part_personal(st, p, metric, out);
}

/* ---- the differencing grid ---- */

static bool grid_applies(const sr_privacy *p, bool metric_personal)
{
    return metric_personal && !p->see_personal && p->grid_ms > 0;
}

bool sr_privacy_grid_window(const sr_privacy *p, bool metric_personal, sr_ms *from_ms, sr_ms *to_ms)
{
    if (!grid_applies(p, metric_personal))
        return false;
    *from_ms = sr_floor_ms(*from_ms, p->grid_ms);
    *to_ms = sr_floor_ms(*to_ms, p->grid_ms);
    return true;
}

int sr_privacy_cell_level(const sr_privacy *p)
{
    int fp = first_personal(p);
    int lv = fp ? fp - 1 : SR_PRIV_MAX_LEVELS;
    return p->drill < lv ? p->drill : lv;
}

const char *sr_privacy_grid_mask(const sr_privacy *p)
{
    sr_privacy q = *p;
    q.see_personal = false;
    const char *m = sr_privacy_value(&q, true, SR_KIND_EVENT, (sr_agg){.kind = SR_AGG_COUNT}, 1);
    return m ? m : "<min";
}

/* One cell of the grid: a slice and the entity at the cell level. */
typedef struct {
    int64_t slice, node;
} grid_cell;

struct sr_privacy_cells {
    sr_store *st;
    const sr_privacy *p;
    sr_ms from_ms, to_ms; /* the range read */
    grid_cell *thin;      /* the cells of 0 < n < min_cell observations (of either part) */
    size_t n_thin;
};

struct grid_ctx {
    sr_store *st;
    int level;    /* the cell level */
    sr_ms grid;   /* the slice */
    int64_t *anc; /* memo by entity id: its cell entity + 1 (0: not looked up) */
    int64_t n_anc;
    grid_cell *v;
    size_t n, cap;
    int rc;
};

/* The id of e's ancestor at the cell level (e itself above it). */
static int64_t cell_node(struct grid_ctx *c, int64_t e)
{
    if (e >= 0 && e < c->n_anc && c->anc[e])
        return c->anc[e] - 1;
    int64_t id = e;
    const char *path = sr_store_entity_path(c->st, e);
    if (path && sr_privacy_level(path) > c->level) {
        char prefix[1024];
        size_t len = 0;
        int parts = 0;
        for (; path[len] && len < sizeof prefix - 1; len++) {
            if (path[len] == '/' && ++parts == c->level)
                break;
        }
        snprintf(prefix, sizeof prefix, "%.*s", (int)len, path);
        if (c->level == 0 || sr_store_entity_id(c->st, prefix, &id) != 0)
            id = -1; /* the whole tree is the one cell */
    }
    if (e >= 0 && e < c->n_anc)
        c->anc[e] = id + 1;
    return id;
}

/* Appends a cell to v (*n of *cap); false when out of memory. */
static bool cell_push(grid_cell **v, size_t *n, size_t *cap, grid_cell x)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        grid_cell *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return false;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return true;
}

static int grid_cb(void *ctx, int64_t entity, sr_ms ts_ms, double value)
{
    (void)value;
    struct grid_ctx *c = ctx;
    if (!cell_push(&c->v, &c->n, &c->cap,
                   (grid_cell){sr_floor_ms(ts_ms, c->grid), cell_node(c, entity)})) {
        c->rc = SR_ENOMEM;
        return 1;
    }
    return 0;
}

static int cell_cmp(const void *a, const void *b)
{
    const grid_cell *x = a, *y = b;
    if (x->slice != y->slice)
        return x->slice < y->slice ? -1 : 1;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* Adds to cs->thin the thin cells of one metric's raw samples in the range. */
static int cells_part(sr_privacy_cells *cs, const char *metric, size_t *cap)
{
    int64_t mid;
    int rc = sr_store_metric_id(cs->st, metric, &mid);
    if (rc == SR_ENOENT)
        return 0;
    if (rc)
        return rc;
    struct grid_ctx c = {
        .st = cs->st, .level = sr_privacy_cell_level(cs->p), .grid = cs->p->grid_ms};
    c.n_anc = sr_store_entity_limit(cs->st);
    c.anc = calloc((size_t)c.n_anc + 1, sizeof *c.anc);
    if (!c.anc)
        return SR_ENOMEM;
    rc = sr_store_scan_raw(cs->st, mid, cs->from_ms, cs->to_ms, grid_cb, &c);
    if (rc >= 0)
        rc = c.rc;
    if (!rc && c.n) {
        qsort(c.v, c.n, sizeof *c.v, cell_cmp);
        for (size_t i = 0, run = 1; i < c.n && !rc; i++, run++) {
            if (i + 1 < c.n && cell_cmp(&c.v[i], &c.v[i + 1]) == 0)
                continue;
            if ((int64_t)run < cs->p->min_cell && !cell_push(&cs->thin, &cs->n_thin, cap, c.v[i]))
                rc = SR_ENOMEM;
            run = 0;
        }
    }
    free(c.v);
    free(c.anc);
    return rc < 0 ? rc : 0;
}

int sr_privacy_cells_read(sr_store *st, const sr_catalog *cat, const sr_privacy *p,
                          const char *metric, sr_ms from_ms, sr_ms to_ms, sr_privacy_cells **out)
{
    *out = NULL;
    sr_privacy_cells *cs = calloc(1, sizeof *cs);
    if (!cs)
        return SR_ENOMEM;
    *cs = (sr_privacy_cells){.st = st, .p = p, .from_ms = from_ms, .to_ms = to_ms};
    int rc = 0;
    if (p->grid_ms > 0 && from_ms < to_ms) {
        size_t cap = 0;
        const sr_metric_def *d = sr_catalog_find(cat, metric);
        if (d && d->kind == SR_KIND_RATIO) {
            rc = cells_part(cs, d->numerator, &cap);
            if (!rc)
                rc = cells_part(cs, d->denominator, &cap);
        } else {
            rc = cells_part(cs, metric, &cap);
        }
        /* by slice, so that a window's cells are found by a binary search */
        if (!rc && cs->n_thin > 1)
            qsort(cs->thin, cs->n_thin, sizeof *cs->thin, cell_cmp);
    }
    if (rc) {
        sr_privacy_cells_destroy(cs);
        return rc;
    }
    *out = cs;
    return 0;
}

void sr_privacy_cells_destroy(sr_privacy_cells *cs)
{
    if (!cs)
        return;
    free(cs->thin);
    free(cs);
}

typedef struct {
    const sr_privacy_cells *cs;
    sr_ms t;
} thin_ctx;

/* Whether thin cell i starts before x->t (sr_lower_bound). */
static bool thin_before(const void *ctx, size_t i)
{
    const thin_ctx *x = ctx;
    return x->cs->thin[i].slice < x->t;
}

bool sr_privacy_cells_whole(const sr_privacy_cells *cs, const char *entity, sr_ms from_ms,
                            sr_ms to_ms)
{
    sr_ms g = cs->p->grid_ms;
    if (from_ms >= to_ms)
        return true; /* no observation */
    if (g <= 0 || sr_floor_ms(from_ms, g) != from_ms || sr_floor_ms(to_ms, g) != to_ms ||
        from_ms < cs->from_ms || to_ms > cs->to_ms)
        return false; /* not whole slices, or not read */
    int64_t eid = -1;
    if (entity && *entity) {
        if (sr_privacy_level(entity) > sr_privacy_cell_level(cs->p))
            return false; /* deeper than a cell: never shown under the grid */
        if (sr_store_entity_id(cs->st, entity, &eid) != 0)
            return true; /* no such entity: no observation */
    }
    thin_ctx x = {cs, from_ms}; /* the first thin cell at or after from_ms */
    size_t lo = sr_lower_bound(cs->n_thin, thin_before, &x);
    for (size_t i = lo; i < cs->n_thin && cs->thin[i].slice < to_ms; i++) {
        const grid_cell *c = &cs->thin[i];
        if (eid < 0 || (c->node >= 0 && sr_store_entity_under(cs->st, c->node, eid)))
            return false;
    }
    return true;
}

bool sr_privacy_grid_span(const sr_privacy *p, bool metric_personal, sr_ms now, sr_ms window_ms,
                          sr_ms *from_ms, sr_ms *to_ms)
{
    *from_ms = now - window_ms;
    *to_ms = now;
    if (!sr_privacy_grid_window(p, metric_personal, from_ms, to_ms))
        return false;
    if (*from_ms >= *to_ms)
        *from_ms = *to_ms - p->grid_ms; /* a window shorter than a slice: the last whole one */
    return true;
}

size_t sr_privacy_grid_points(const sr_privacy *p, sr_ms from_ms, sr_ms to_ms, size_t want)
{
    if (p->grid_ms <= 0 || to_ms <= from_ms || want == 0)
        return want;
    sr_ms slices = (to_ms - from_ms) / p->grid_ms;
    for (size_t n = want; n > 1; n--) {
        if ((sr_ms)n <= slices && slices % (sr_ms)n == 0)
            return n;
    }
    return 1;
}

/* Clears slices [lo, hi) of s, counting those that held a value in *hidden. */
static void hide_run(double *s, size_t lo, size_t hi, size_t *hidden)
{
    *hidden += hide_series(s + lo, hi - lo);
}

/*
 * Clears the points of a series (n slices of slice_ms, the last ending at
 * end_ms, clipped to to_ms; pool slices per point) of entity that are not
 * whole good cells.
 */
static void grid_series(const sr_privacy_cells *cs, const char *entity, double *s, size_t n,
                        sr_ms slice_ms, sr_ms end_ms, sr_ms to_ms, size_t pool, size_t *hidden)
{
    if (pool < 1)
        pool = 1;
    for (size_t hi = n; hi > 0;) {
        size_t lo = hi > pool ? hi - pool : 0;
        sr_ms a = end_ms - (sr_ms)(n - lo) * slice_ms;
        sr_ms b = end_ms - (sr_ms)(n - hi) * slice_ms;
        if (b > to_ms)
            b = to_ms;
        if (!sr_privacy_cells_whole(cs, entity, a, b))
            hide_run(s, lo, hi, hidden);
        hi = lo;
    }
}

/* The baseline under the grid: each figure of the run, and each used week's
 * figure, by the same cells as the headline (apply_baseline's rule). */
static void grid_baseline(const sr_privacy_cells *cs, const char *entity, const sr_privacy *p,
                          sr_panel_model *m)
{
    for (size_t i = 0; i < m->n_base_run; i++) {
        sr_baseline_slice *s = &m->base_run[i];
        bool last = i + 1 == m->n_base_run;
        if (s->figure.n > 0 && !sr_privacy_cells_whole(cs, entity, s->from_ms, s->to_ms)) {
            s->figure.value = NAN;
            m->unusual = SR_UNUSUAL_UNKNOWN;
        }
        bool thin = false;
        for (int k = 0; k < s->base.weeks && k < SR_BASELINE_MAX_WEEKS && !thin; k++) {
            const sr_baseline_week *w = &s->base.week[k];
            thin = w->state == SR_WEEK_USED && w->r.n > 0 &&
                   !sr_privacy_cells_whole(cs, entity, w->from_ms, w->to_ms);
        }
        if (thin) {
            mask_band(&s->base);
            m->unusual = SR_UNUSUAL_UNKNOWN;
            if (last && !m->base_mask[0])
                set_mask(m->base_mask, sr_privacy_grid_mask(p));
        }
    }
    if (m->mask[0])
        m->unusual = SR_UNUSUAL_UNKNOWN;
}

int sr_privacy_grid_model(sr_store *st, const sr_catalog *cat, const sr_privacy *p,
                          const char *entity, bool metric_personal, sr_panel_model *m,
                          sr_privacy_report *out)
{
    sr_privacy_report scratch = {0};
    sr_privacy_report *r = out ? out : &scratch;
    if (!grid_applies(p, metric_personal) || !m->def || r->entity_hidden)
        return 0;
    sr_ms len = m->to_ms - m->from_ms;
    if (len <= 0)
        return 0;
    /* one read: from the week-ago window (or the first series slice) to the end */
    sr_ms lo = m->from_ms - 7 * SR_MS_DAY < m->from_ms - len ? m->from_ms - 7 * SR_MS_DAY
                                                             : m->from_ms - len;
    sr_ms slice, end;
    sr_query q = {.from_ms = m->from_ms, .to_ms = m->to_ms};
    if (m->n_series) {
        sr_query_series_slices(&q, m->n_series, &slice, &end);
        if (end - (sr_ms)m->n_series * slice < lo)
            lo = end - (sr_ms)m->n_series * slice;
    }
    if (m->has_forecast && m->fc_data_from_ms < lo) /* the forecast's oldest figure */
        lo = m->fc_data_from_ms;
    for (size_t i = 0; i < m->n_base_run; i++) /* the baseline's oldest week */
        for (int k = 0; k < m->base_run[i].base.weeks && k < SR_BASELINE_MAX_WEEKS; k++)
            if (m->base_run[i].base.week[k].from_ms < lo)
                lo = m->base_run[i].base.week[k].from_ms;
    sr_privacy_cells *cs;
    int rc =
        sr_privacy_cells_read(st, cat, p, m->def->name, sr_floor_ms(lo, p->grid_ms), m->to_ms, &cs);
    if (rc) {
        clear_baseline(m);
        hide_forecast(m, sr_privacy_grid_mask(p));
        /* cannot be judged: nothing of the metric is shown */
        mask_now(m, sr_privacy_grid_mask(p), false, r);
        m->c.prev.value = m->c.week_ago.value = NAN;
        for (size_t i = 0; i < m->n_rows; i++) {
            m->rows[i].r.value = NAN;
            m->rows[i].unusual = SR_UNUSUAL_UNKNOWN;
            m->rows[i].outside = NAN;
            set_mask(m->rows[i].mask, sr_privacy_grid_mask(p));
            m->rows[i].status = SR_STATUS_NONE;
            m->rows[i].series_hidden += hide_series(m->rows[i].series, SR_ROW_SERIES);
            m->rows[i].prev.value = m->rows[i].change_pct = NAN;
        }
        return rc;
    }
    if (m->c.now.n > 0 && !m->mask[0] && !sr_privacy_cells_whole(cs, entity, m->from_ms, m->to_ms))
        mask_now(m, sr_privacy_grid_mask(p), false, r);
    if (!sr_privacy_cells_whole(cs, entity, m->from_ms - len, m->from_ms))
        m->c.prev.value = NAN;
    if (!sr_privacy_cells_whole(cs, entity, m->from_ms - 7 * SR_MS_DAY, m->to_ms - 7 * SR_MS_DAY))
        m->c.week_ago.value = NAN;
    if (isnan(m->c.now.value) || isnan(m->c.prev.value))
        m->change_pct = NAN;
    if (m->n_series)
        grid_series(cs, entity, m->series, m->n_series, slice, end, m->to_ms, m->series_pool,
                    &m->series_hidden);
    for (size_t i = 0; i < m->n_rows; i++) {
        sr_panel_row *row = &m->rows[i];
        /* the rows' weeks are not kept to be judged by the cells: no verdict */
        row->unusual = SR_UNUSUAL_UNKNOWN;
        row->outside = NAN;
        if (row->r.n > 0 && !row->mask[0] &&
            !sr_privacy_cells_whole(cs, row->entity, m->from_ms, m->to_ms)) {
            row->r.value = NAN;
            set_mask(row->mask, sr_privacy_grid_mask(p));
            row->status = SR_STATUS_NONE;
            row->series_hidden += hide_series(row->series, SR_ROW_SERIES);
        }
        if (row->mask[0] || !sr_privacy_cells_whole(cs, row->entity, m->from_ms - len, m->from_ms))
            row->prev.value = NAN;
        if (isnan(row->r.value) || isnan(row->prev.value))
            row->change_pct = NAN;
        if (row->n_series && m->row_slice_ms > 0)
            grid_series(cs, row->entity, row->series, row->n_series, m->row_slice_ms,
                        sr_ceil_ms(m->to_ms, m->row_slice_ms), m->to_ms, row->series_pool,
                        &row->series_hidden);
    }
    grid_baseline(cs, entity, p, m);
    /* the forecast's hourly figures, from its oldest to its origin, as whole
     * cells (cmd_forecast's rule); none when an hour is not whole slices */
    if (m->has_forecast && !m->fc_mask[0] &&
        (SR_FORECAST_SLICE_MS % p->grid_ms || m->mask[0] ||
         !sr_privacy_cells_whole(cs, entity, m->fc_data_from_ms, m->forecast.now.from_ms)))
        hide_forecast(m, sr_privacy_grid_mask(p));
    sr_privacy_cells_destroy(cs);
    return 0;
}

/* ---- the one path ---- */

/* Each shown row's denominator (a spread's per metric) by the one rule of a
 * figure, judged as personal when that is not known: a masked one is NAN
 * with its mask in the row's denom_mask. */
static int privacy_denoms(sr_store *st, const sr_catalog *cat, const sr_privacy *p, const char *per,
                          sr_panel_model *m)
{
    const sr_metric_def *d = per && *per ? sr_catalog_find(cat, per) : NULL;
    if (!d)
        return 0;
    bool personal = false;
    int rc = sr_privacy_metric_personal(st, cat, p, per, &personal);
    if (rc)
        personal = true;
    for (size_t i = 0; i < m->n_rows; i++) {
        sr_panel_row *row = &m->rows[i];
        const char *mask = NULL;
        if (!sr_privacy_figure(p, personal, d->kind, sr_spread_denom_agg(d->kind), row->entity,
                               &row->denom, &mask, NULL))
            mask = "hidden";
        if (mask) {
            row->denom.value = NAN;
            set_mask(row->denom_mask, mask);
        }
    }
    return rc;
}

int sr_privacy_panel_compute(sr_store *st, const sr_catalog *cat, const sr_privacy *p,
                             const sr_panel_spec *spec, sr_ms now, unsigned what, size_t n_series,
                             size_t n_hist, size_t max_events, sr_panel_model *out,
                             sr_privacy_report *rep)
{
    memset(rep, 0, sizeof *rep);
    if (!p)
        return sr_panel_compute(st, cat, spec, now, what, n_series, n_hist, max_events, out);
    sr_panel_spec s = *spec;
    /* percentile series pool slices rather than show mostly n<10 */
    s.pool_min_n = p->min_pct_n;
    bool personal = false;
    int prc = spec->metric ? sr_privacy_metric_personal(st, cat, p, spec->metric, &personal) : 0;
    if (prc)
        personal = true; /* not known: judged as personal */
    const sr_metric_def *d = sr_catalog_find(cat, spec->metric);
    bool pct = spec->agg.kind == SR_AGG_PCT ||
               (spec->agg.kind == SR_AGG_VALUE && d && d->kind == SR_KIND_EVENT);
    if (pct || (personal && !p->see_personal))
        what |= SR_PANEL_SERIES_N;
    /* a personal metric for a role without personal data: whole grid slices */
    sr_ms from;
    if (sr_privacy_grid_span(p, personal, now, spec->window_ms, &from, &now)) {
        s.window_ms = now - from;
        n_series = sr_privacy_grid_points(p, from, now, n_series);
    }
    int rc = sr_panel_compute(st, cat, &s, now, what, n_series, n_hist, max_events, out);
    sr_privacy_apply(p, spec->entity, personal, out, rep);
    int grc = sr_privacy_grid_model(st, cat, p, spec->entity, personal, out, rep);
    int drc = privacy_denoms(st, cat, p, spec->per, out);
    return rc ? rc : prc ? prc : grc ? grc : drc;
}

/* ---- rejected rows, alerts ---- */

bool sr_privacy_raw_shown(const sr_privacy *p)
{
    return p->see_personal || !first_personal(p);
}

size_t sr_privacy_sources(const sr_privacy *p, sr_source_info *v, size_t n)
{
    size_t k = 0;
    if (!p || sr_privacy_raw_shown(p))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].h.last_error[0])
            continue;
        snprintf(v[i].h.last_error, sizeof v[i].h.last_error, "%s", SR_PRIV_ERROR_WITHHELD);
        k++;
    }
    return k;
}

sr_priv_hide sr_privacy_alert(const sr_privacy *p, const char *entity, bool metric_personal)
{
    sr_priv_hide h = sr_privacy_entity(p, entity);
    if (h == SR_PRIV_SHOWN && metric_personal && !p->see_personal)
        h = SR_PRIV_PERSONAL;
    return h;
}

int sr_privacy_alerts(sr_store *st, const sr_catalog *cat, const sr_privacy *p, sr_alert *v,
                      size_t *n, size_t *withheld, sr_priv_hide *why)
{
    size_t k = 0, gone = 0;
    *why = SR_PRIV_SHOWN;
    int rc = 0;
    char last[SR_NAME_MAX] = ""; /* the metric asked about last, and its answer */
    bool last_personal = false;
    for (size_t i = 0; i < *n; i++) {
        /* the store is asked only when the answer matters, once per run of a metric */
        bool personal = false;
        if (!p->see_personal && sr_privacy_entity(p, v[i].entity) == SR_PRIV_SHOWN && !rc) {
            if (!last[0] || strcmp(last, v[i].metric) != 0) {
                rc = sr_privacy_metric_personal(st, cat, p, v[i].metric, &last_personal);
                snprintf(last, sizeof last, "%s", v[i].metric);
            }
            personal = last_personal;
        }
        sr_priv_hide h = rc ? SR_PRIV_PERSONAL : sr_privacy_alert(p, v[i].entity, personal);
        if (h != SR_PRIV_SHOWN) {
            gone++;
            if (*why != SR_PRIV_PERSONAL)
                *why = h;
            continue;
        }
        if (k != i)
            v[k] = v[i];
        k++;
    }
    *n = k;
    *withheld = gone;
    return rc;
}

void sr_privacy_withheld_text(const sr_privacy *p, sr_priv_hide why, size_t n, const char *what,
                              const char *verb, char *buf, size_t len)
{
    buf[0] = 0;
    if (n == 0)
        return;
    char reason[256];
    sr_privacy_why_text(p, why == SR_PRIV_SHOWN ? SR_PRIV_PERSONAL : why, 0, reason, sizeof reason);
    snprintf(buf, len, "%zu %s%s %s: %s", n, what, n == 1 ? "" : "s", verb, reason);
}
