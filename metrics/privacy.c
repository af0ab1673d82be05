/*
 * privacy.c - the privacy policy applied to panel models.
 *
 * Everything here but sr_privacy_metric_personal() is pure: a policy value
 * and a model in, the model with hidden entities removed and suppressed
 * values replaced out. sr_privacy_apply() works in one order, so that no
 * later step can bring back what an earlier one took: the model's own
 * entity; then the headline (c.now) and everything derived from it; then
 * the previous and week-ago values and the change; then series slices,
 * rows (removed, or masked with their series), events and the histogram.
 * A mask is a short static text copied into the model; the value under it
 * is always NAN, so a writer that forgets the mask shows "no data", never
 * the number.
 */
#include "privacy.h"

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
    m->newest_ms = 0;
    set_mask(m->mask, "hidden");
}

bool sr_privacy_figure(const sr_privacy *p, bool metric_personal, sr_kind kind, sr_agg agg,
                       const char *entity, sr_result *res, const char **mask,
                       sr_privacy_report *rep)
{
    sr_privacy_report scratch;
    if (!rep)
        rep = &scratch;
    *mask = NULL;
    sr_priv_hide h = sr_privacy_entity(p, entity);
    if (h != SR_PRIV_SHOWN) {
        /* counted, so that a line can say so, only when it has data to hide */
        if (res->n > 0 || !isnan(res->value))
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
    sr_privacy_report scratch;
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
    if (mask) {
        set_mask(m->mask, mask);
        m->c.now.value = NAN;
        m->status = SR_STATUS_NONE;
        m->within_pct = NAN;
        m->series_hidden += hide_series(m->series, SR_SERIES_MAX);
        clear_events(m, r);
        clear_hist(m);
    }
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

/* Floor division of t by g (g > 0), towards minus infinity. */
static sr_ms grid_floor(sr_ms t, sr_ms g)
{
    sr_ms q = t / g;
    if (t % g != 0 && t < 0)
        q--;
    return q * g;
}

static bool grid_applies(const sr_privacy *p, bool metric_personal)
{
    return metric_personal && !p->see_personal && p->grid_ms > 0;
}

bool sr_privacy_grid_window(const sr_privacy *p, bool metric_personal, sr_ms *from_ms, sr_ms *to_ms)
{
    if (!grid_applies(p, metric_personal))
        return false;
    *from_ms = grid_floor(*from_ms, p->grid_ms);
    *to_ms = grid_floor(*to_ms, p->grid_ms);
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

struct grid_ctx {
    sr_store *st;
    const sr_privacy *p;
    int64_t under; /* the figure's entity; < 0: the whole tree */
    int level;     /* the cell level */
    int64_t *anc;  /* memo by entity id: its cell entity + 1 (0: not looked up) */
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

static int grid_cb(void *ctx, int64_t entity, sr_ms ts_ms, double value)
{
    (void)value;
    struct grid_ctx *c = ctx;
    if (c->under >= 0 && !sr_store_entity_under(c->st, entity, c->under))
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        grid_cell *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->rc = SR_ENOMEM;
            return 1;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (grid_cell){grid_floor(ts_ms, c->p->grid_ms), cell_node(c, entity)};
    return 0;
}

static int cell_cmp(const void *a, const void *b)
{
    const grid_cell *x = a, *y = b;
    if (x->slice != y->slice)
        return x->slice < y->slice ? -1 : 1;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* Whether every cell of one metric's samples under entity holds 0 or at
 * least min_cell. */
static int grid_part(sr_store *st, const sr_privacy *p, const char *metric, const char *entity,
                     sr_ms from_ms, sr_ms to_ms, bool *ok)
{
    int64_t mid;
    int rc = sr_store_metric_id(st, metric, &mid);
    if (rc == SR_ENOENT)
        return 0;
    if (rc)
        return rc;
    struct grid_ctx c = {.st = st, .p = p, .under = -1, .level = sr_privacy_cell_level(p)};
    if (entity && *entity) {
        rc = sr_store_entity_id(st, entity, &c.under);
        if (rc == SR_ENOENT)
            return 0;
        if (rc)
            return rc;
    }
    c.n_anc = sr_store_entity_limit(st);
    c.anc = calloc((size_t)c.n_anc + 1, sizeof *c.anc);
    if (!c.anc)
        return SR_ENOMEM;
    rc = sr_store_scan_raw(st, mid, from_ms, to_ms, grid_cb, &c);
    if (rc >= 0)
        rc = c.rc;
    if (!rc && c.n) {
        qsort(c.v, c.n, sizeof *c.v, cell_cmp);
        for (size_t i = 0, run = 1; i < c.n; i++, run++) {
            if (i + 1 < c.n && cell_cmp(&c.v[i], &c.v[i + 1]) == 0)
                continue;
            if ((int64_t)run < p->min_cell)
                *ok = false;
            run = 0;
        }
    }
    free(c.v);
    free(c.anc);
    return rc < 0 ? rc : 0;
}

int sr_privacy_grid_check(sr_store *st, const sr_catalog *cat, const sr_privacy *p,
                          const char *metric, const char *entity, sr_ms from_ms, sr_ms to_ms,
                          bool *ok)
{
    *ok = true;
    if (p->grid_ms <= 0 || from_ms >= to_ms)
        return 0;
    const sr_metric_def *d = sr_catalog_find(cat, metric);
    if (d && d->kind == SR_KIND_RATIO) {
        int rc = grid_part(st, p, d->numerator, entity, from_ms, to_ms, ok);
        return rc ? rc : grid_part(st, p, d->denominator, entity, from_ms, to_ms, ok);
    }
    return grid_part(st, p, metric, entity, from_ms, to_ms, ok);
}

/* ---- rejected rows, alerts ---- */

bool sr_privacy_raw_shown(const sr_privacy *p)
{
    return p->see_personal || !first_personal(p);
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
    for (size_t i = 0; i < *n; i++) {
        bool personal = false;
        if (!rc)
            rc = sr_privacy_metric_personal(st, cat, p, v[i].metric, &personal);
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
