/*
 * cells.c - a batch's hour cells in memory (cells.h).
 *
 * While a batch is open, every stored event or counter sample goes into its
 * entity's hour cell (count, sum, min, max, latest, minutes; events also
 * the values, from which the cell's sketch is made at flush), and gauges
 * into their entity's cell alone. At flush, cells_roll_up() makes the
 * ancestors' cells in three steps:
 *
 * Figures (count, sum, min, max, latest, minutes). Each entity's cell, in
 * the order of the map, is merged into the cell of every ancestor, as it
 * always was: a sum of doubles depends on the order of its terms, and the
 * stored cells must not change by a bit.
 *
 * Twins. An ancestor whose cells all came through one child (the root above
 * a single force, a force above a single region) would get exactly the
 * child's figures by the same merges in the same order. Counting the cells
 * rolled into each ancestor finds them before the merges (same count as the
 * child's cell: the same cells), and the ancestor takes its child's cell as
 * its twin instead of merging, sorting and encoding it all again.
 *
 * Sketches and values go up level by level instead, from the deepest: a
 * sketch's counts add up the same in any order, and so does a multiset of
 * values. Each entity's values are sorted, then each ancestor's sorted
 * list is made from its children's (entities' and subtrees'): a few
 * merge passes (sr_vals_sort takes the children's lists as sorted runs)
 * where merging every entity into every level took one pass per level
 * more, up to six at the top of a force. Two values that compare equal are
 * the same bits, except 0 and -0: in the stored cells those come in the
 * order of the merges above (the map's order, then each entity's order of
 * arrival), so where an ancestor holds both, its run of zeros is copied
 * from its entities' in that order.
 */
#include "cells.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vals.h"

enum { ZERO = 1, NEG_ZERO = 2 }; /* cell.zeros */

static uint64_t cell_hash(int64_t metric, int64_t node, sr_ms bucket)
{
    uint64_t h = (uint64_t)metric * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)node * 0xc2b2ae3d27d4eb4fULL;
    h ^= (uint64_t)bucket * 0x165667b19e3779f9ULL;
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ULL;
}

void cells_clear(cellmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->v[i].used) {
            sr_sketch_destroy(m->v[i].sketch);
            free(m->v[i].mins);
            free(m->v[i].vals);
            free(m->v[i].sketch_blob);
            free(m->v[i].vals_blob);
            memset(&m->v[i], 0, sizeof m->v[i]);
        }
    }
    m->len = 0;
}

void cells_fini(cellmap *m)
{
    cells_clear(m);
    free(m->v);
    memset(m, 0, sizeof *m);
}

/* The cell for a key, or NULL; never adds one (so cells do not move). */
static cell *cells_find(const cellmap *m, int64_t metric, int64_t node, sr_ms bucket)
{
    if (!m->cap)
        return NULL;
    for (size_t i = cell_hash(metric, node, bucket) & (m->cap - 1); m->v[i].used;
         i = (i + 1) & (m->cap - 1)) {
        cell *c = &m->v[i];
        if (c->metric == metric && c->node == node && c->bucket == bucket)
            return c;
    }
    return NULL;
}

/* The cell for a key, created empty when new (cells may move); NULL on OOM. */
static cell *cells_get(cellmap *m, int64_t metric, int64_t node, sr_ms bucket)
{
    if ((m->len + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        cell *nv = calloc(ncap, sizeof *nv);
        if (!nv)
            return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->v[i].used)
                continue;
            cell *c = &m->v[i];
            size_t j = cell_hash(c->metric, c->node, c->bucket) & (ncap - 1);
            while (nv[j].used)
                j = (j + 1) & (ncap - 1);
            nv[j] = *c;
        }
        free(m->v);
        m->v = nv;
        m->cap = ncap;
    }
    size_t i = cell_hash(metric, node, bucket) & (m->cap - 1);
    while (m->v[i].used) {
        cell *c = &m->v[i];
        if (c->metric == metric && c->node == node && c->bucket == bucket)
            return c;
        i = (i + 1) & (m->cap - 1);
    }
    cell *c = &m->v[i];
    c->used = 1;
    c->metric = metric;
    c->node = node;
    c->bucket = bucket;
    c->min = INFINITY;
    c->max = -INFINITY;
    c->last_ts = INT64_MIN;
    m->len++;
    return c;
}

/* Appends n values to a cell's list of observations. */
static int push_vals(cell *c, const double *v, size_t n)
{
    if (c->nvals + n > c->capvals) {
        size_t ncap = c->capvals ? c->capvals : 16;
        while (ncap < c->nvals + n)
            ncap *= 2;
        double *nv = realloc(c->vals, ncap * sizeof *nv);
        if (!nv)
            return SR_ENOMEM;
        c->vals = nv;
        c->capvals = ncap;
    }
    memcpy(c->vals + c->nvals, v, n * sizeof *v);
    c->nvals += n;
    return 0;
}

int cells_add(cellmap *m, int64_t metric, int64_t node, sr_ms ts, double v, int with_sketch,
              int with_minutes)
{
    cell *c = cells_get(m, metric, node, sr_floor_ms(ts, SR_MS_HOUR));
    if (!c)
        return SR_ENOMEM;
    c->roll_up = with_minutes;
    c->n++;
    c->sum += v;
    if (v < c->min)
        c->min = v;
    if (v > c->max)
        c->max = v;
    if (ts >= c->last_ts) {
        c->last_ts = ts;
        c->last = v;
    }
    if (with_minutes) {
        int minute = (int)((ts - c->bucket) / SR_MS_MIN), i = c->nmins;
        while (i > 0 && c->mins[i - 1].minute > minute)
            i--;
        if (i == 0 || c->mins[i - 1].minute != minute) {
            if (!c->mins) {
                c->mins = malloc(60 * sizeof *c->mins);
                if (!c->mins)
                    return SR_ENOMEM;
            }
            memmove(&c->mins[i + 1], &c->mins[i], (size_t)(c->nmins - i) * sizeof *c->mins);
            c->mins[i] = (minute_acc){minute, 0, 0, INFINITY, -INFINITY};
            c->nmins++;
            i++;
        }
        minute_acc *mi = &c->mins[i - 1];
        mi->n++;
        mi->sum += v;
        if (v < mi->min)
            mi->min = v;
        if (v > mi->max)
            mi->max = v;
    }
    if (with_sketch) {
        if (v == 0)
            c->zeros |= signbit(v) ? NEG_ZERO : ZERO;
        return push_vals(c, &v, 1); /* the sketch: at flush (sort_and_sketch) */
    }
    return 0;
}

/*
 * Sorts an entity's values and makes its sketch from them: at flush rather
 * than value by value as they come, so that the sketch's buckets are
 * filled in order, while they are in the cache for its encoding and its
 * merge into the parent's, instead of one at random for each sample. The
 * counts, so the sketch, are the same.
 */
static int sort_and_sketch(cell *c)
{
    if (c->nvals <= SR_ROLLUP_VALUES_MAX)
        sr_vals_sort(c->vals, c->nvals);
    if (!c->nvals || c->sketch)
        return 0;
    int rc = sr_sketch_create(SR_SKETCH_ALPHA, &c->sketch);
    for (size_t i = 0; i < c->nvals && !rc; i++)
        rc = sr_sketch_add(c->sketch, c->vals[i]);
    return rc;
}

/* Adds the figures of src into dst (same metric and hour), its sketch and
 * values aside (they go up level by level: give_up). */
static int merge_figures(cell *dst, const cell *src)
{
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    if (src->last_ts >= dst->last_ts) {
        dst->last_ts = src->last_ts;
        dst->last = src->last;
    }
    dst->zeros |= src->zeros;
    if (src->nmins) {
        if (!dst->mins && !(dst->mins = malloc(60 * sizeof *dst->mins)))
            return SR_ENOMEM;
        minute_acc out[60];
        int k = cells_minutes_merge(dst->mins, dst->nmins, src->mins, src->nmins, out);
        memcpy(dst->mins, out, (size_t)k * sizeof *out);
        dst->nmins = k;
    }
    return 0;
}

/* Whether an entity's cell goes up the tree. */
static bool rolls(const cell *c)
{
    return c->used && c->roll_up && c->node != SR_ENTITY_ROOT;
}

/* A cell to give its values to its parent's, and how deep its node is. */
typedef struct {
    cell *c;
    int depth;
    bool up; /* an ancestor's cell */
} rung;

static int cmp_deeper_first(const void *a, const void *b)
{
    const rung *x = a, *y = b;
    return y->depth - x->depth;
}

static int depth_of(cells_parent_fn parent, void *ctx, int64_t node)
{
    int d = 0;
    for (int64_t a = node; a != SR_ENTITY_ROOT && a >= 0; a = parent(ctx, a))
        d++;
    return d;
}

static bool below(cells_parent_fn parent, void *ctx, int64_t node, int64_t ancestor)
{
    for (int64_t a = parent(ctx, node); a >= 0; a = parent(ctx, a)) {
        if (a == ancestor)
            return true;
        if (a == SR_ENTITY_ROOT)
            break;
    }
    return false;
}

/* Where the zeros begin in sorted v[0..n). */
static size_t first_zero(const double *v, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * An ancestor's run of zeros in the order the merges of its entities' cells
 * give them (the file comment): each entity's zeros, in the map's order of
 * the entities. Only where it holds both 0 and -0 can the order show.
 */
static void order_zeros(cell *u, const cellmap *cells, cells_parent_fn parent, void *ctx)
{
    size_t at = first_zero(u->vals, u->nvals);
    for (size_t i = 0; i < cells->cap; i++) {
        const cell *c = &cells->v[i];
        if (!rolls(c) || !c->zeros || c->metric != u->metric || c->bucket != u->bucket ||
            !below(parent, ctx, c->node, u->node))
            continue;
        for (size_t k = first_zero(c->vals, c->nvals); k < c->nvals && c->vals[k] == 0; k++)
            u->vals[at++] = c->vals[k];
    }
}

/*
 * Completes a cell whose children have all given theirs (sorts the values
 * of an ancestor's) and gives its sketch and values to its parent's: a
 * twin gives its twin's; a twin parent takes none.
 */
static int give_up(cell *c, bool is_up, const cellmap *cells, cellmap *up, cells_parent_fn parent,
                   void *ctx)
{
    const cell *from = c->twin ? c->twin : c;
    bool vals = from->n <= SR_ROLLUP_VALUES_MAX; /* else neither it nor its ancestors keep them */
    if (vals && is_up && !c->twin) {
        sr_vals_sort(c->vals, c->nvals);
        if (c->zeros == (ZERO | NEG_ZERO))
            order_zeros(c, cells, parent, ctx);
    }
    if (c->node == SR_ENTITY_ROOT)
        return 0;
    cell *p = cells_find(up, c->metric, parent(ctx, c->node), c->bucket);
    if (!p || p->twin)
        return 0;
    if (from->sketch && sr_sketch_count(from->sketch) > 0) {
        if (!p->sketch && sr_sketch_create(SR_SKETCH_ALPHA, &p->sketch))
            return SR_ENOMEM;
        int rc = sr_sketch_merge(p->sketch, from->sketch);
        if (rc)
            return rc;
    }
    if (!vals || !from->nvals || p->n > SR_ROLLUP_VALUES_MAX)
        return 0;
    if (!p->vals) {
        /* its count is known: one allocation */
        if (!(p->vals = malloc((size_t)p->n * sizeof *p->vals)))
            return SR_ENOMEM;
        p->capvals = (size_t)p->n;
    }
    return push_vals(p, from->vals, from->nvals);
}

/*
 * The ancestors' values, each made from its children's sorted lists (its
 * child entities' own cells and the cells of their subtrees), deepest
 * level first, so that every list is complete and sorted when it goes up.
 */
static int roll_vals(cellmap *cells, cellmap *up, cells_parent_fn parent, void *ctx)
{
    rung *r = malloc((cells->len + up->len + 1) * sizeof *r);
    if (!r)
        return SR_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < cells->cap; i++) {
        if (rolls(&cells->v[i]))
            r[n++] = (rung){&cells->v[i], depth_of(parent, ctx, cells->v[i].node), false};
    }
    for (size_t i = 0; i < up->cap; i++) {
        if (up->v[i].used)
            r[n++] = (rung){&up->v[i], depth_of(parent, ctx, up->v[i].node), true};
    }
    qsort(r, n, sizeof *r, cmp_deeper_first);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = give_up(r[i].c, r[i].up, cells, up, parent, ctx);
    free(r);
    return rc;
}

int cells_roll_up(cellmap *cells, cellmap *up, cells_parent_fn parent, void *ctx)
{
    /* every ancestor's cell made (cells may move until all are), counting
     * the entities' cells that go into it */
    for (size_t i = 0; i < cells->cap; i++) {
        cell *c = &cells->v[i];
        int rc = c->used ? sort_and_sketch(c) : 0;
        if (rc)
            return rc;
        if (!rolls(c))
            continue;
        int64_t from = c->node;
        for (int64_t a = parent(ctx, from); a >= 0; from = a, a = parent(ctx, a)) {
            cell *u = cells_get(up, c->metric, a, c->bucket);
            if (!u)
                return SR_ENOMEM;
            if (u->nsrc++ == 0)
                u->via = from;
            if (a == SR_ENTITY_ROOT)
                break;
        }
    }
    /* an ancestor with as many as the child the first came through has the
     * same ones: that child's cell is its twin (followed down a chain) */
    for (size_t i = 0; i < up->cap; i++) {
        cell *u = &up->v[i];
        cell *t = u->used ? cells_find(up, u->metric, u->via, u->bucket) : NULL;
        if (t && t->nsrc == u->nsrc)
            u->twin = t;
    }
    for (size_t i = 0; i < up->cap; i++) {
        cell *u = &up->v[i];
        while (u->twin && u->twin->twin)
            u->twin = u->twin->twin;
        if (u->twin)
            u->twin->has_twin = 1;
    }
    for (size_t i = 0; i < cells->cap; i++) {
        const cell *c = &cells->v[i];
        if (!rolls(c))
            continue;
        for (int64_t a = parent(ctx, c->node); a >= 0; a = parent(ctx, a)) {
            cell *u = cells_find(up, c->metric, a, c->bucket);
            int rc = u->twin ? 0 : merge_figures(u, c);
            if (rc)
                return rc;
            if (a == SR_ENTITY_ROOT)
                break;
        }
    }
    return roll_vals(cells, up, parent, ctx);
}

/* ---- the minutes' blob ---- */

#define MIN_REC 29
#define MIN_VERSION 2

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_f64(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(p, v);
}

static double get_f64(const unsigned char *p)
{
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

size_t cells_minutes_encode(const minute_acc *m, int n, unsigned char *out)
{
    out[0] = MIN_VERSION;
    out[1] = (unsigned char)n;
    unsigned char *p = out + 2;
    for (int i = 0; i < n; i++, p += MIN_REC) {
        p[0] = (unsigned char)m[i].minute;
        uint64_t cnt = m[i].n > UINT32_MAX ? UINT32_MAX : (uint64_t)m[i].n;
        for (int k = 0; k < 4; k++)
            p[1 + k] = (unsigned char)(cnt >> (8 * k));
        put_f64(p + 5, m[i].sum);
        put_f64(p + 13, m[i].min);
        put_f64(p + 21, m[i].max);
    }
    return 2 + (size_t)n * MIN_REC;
}

int cells_minutes_decode(const unsigned char *b, size_t len, sr_ms bucket, sr_minute_cell *out)
{
    if (len < 2 || b[0] != MIN_VERSION || b[1] > 60 || len != 2 + (size_t)b[1] * MIN_REC)
        return SR_ECORRUPT;
    int n = b[1], prev = -1;
    const unsigned char *p = b + 2;
    for (int i = 0; i < n; i++, p += MIN_REC) {
        if (p[0] >= 60 || p[0] <= prev)
            return SR_ECORRUPT;
        prev = p[0];
        uint32_t cnt = 0;
        for (int k = 0; k < 4; k++)
            cnt |= (uint32_t)p[1 + k] << (8 * k);
        out[i] = (sr_minute_cell){
            .bucket_ms = bucket + (sr_ms)p[0] * SR_MS_MIN,
            .n = (int64_t)cnt,
            .sum = get_f64(p + 5),
            .min = get_f64(p + 13),
            .max = get_f64(p + 21),
        };
    }
    return n;
}

int cells_minutes_merge(const minute_acc *a, int na, const minute_acc *b, int nb, minute_acc *out)
{
    int k = 0, i = 0, j = 0;
    while (i < na || j < nb) {
        if (j >= nb || (i < na && a[i].minute < b[j].minute)) {
            out[k++] = a[i++];
        } else if (i >= na || b[j].minute < a[i].minute) {
            out[k++] = b[j++];
        } else {
            minute_acc m = a[i++];
            const minute_acc *o = &b[j++];
            m.n += o->n;
            m.sum += o->sum;
            if (o->min < m.min)
                m.min = o->min;
            if (o->max > m.max)
                m.max = o->max;
            out[k++] = m;
        }
    }
    return k;
}
