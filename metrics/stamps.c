/*
 * stamps.c - a reader's copy of the hour cells' counts and sums (stamps.h).
 *
 * One entry per (metric, node): the cells of the hours [a, b) read so far,
 * in time order, and the hull [dlo, dhi) of the hours marked changed since.
 * A page asks a few dozen (metric, node) pairs, so the entries are a plain
 * array searched in order.
 */
#include "stamps.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t metric, node;
    sr_ms a, b;     /* the hours read: [a, b) */
    sr_ms dlo, dhi; /* to read again: [dlo, dhi); empty when dlo >= dhi */
    sr_stamp_cell *c;
    size_t n, cap;
} entry;

struct sr_stamps {
    entry *e;
    size_t ne, cape;
    size_t bytes, max_bytes;
    sr_stamp_cell *rb; /* what a read function pushed */
    size_t rn, rcap;
};

int sr_stamps_create(size_t max_bytes, sr_stamps **out)
{
    sr_stamps *s = calloc(1, sizeof *s);
    if (!s)
        return SR_ENOMEM;
    s->max_bytes = max_bytes;
    *out = s;
    return 0;
}

void sr_stamps_clear(sr_stamps *s)
{
    for (size_t i = 0; i < s->ne; i++)
        free(s->e[i].c);
    s->ne = 0;
    s->bytes = 0;
}

void sr_stamps_destroy(sr_stamps *s)
{
    if (!s)
        return;
    sr_stamps_clear(s);
    free(s->e);
    free(s->rb);
    free(s);
}

static int reserve(void *p, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < want)
        ncap *= 2;
    void *np = realloc(*(void **)p, ncap * size);
    if (!np)
        return SR_ENOMEM;
    *(void **)p = np;
    *cap = ncap;
    return 0;
}

int sr_stamps_push(sr_stamps *s, sr_ms bucket, int64_t n, double sum)
{
    if (reserve(&s->rb, &s->rcap, s->rn + 1, sizeof *s->rb))
        return SR_ENOMEM;
    s->rb[s->rn++] = (sr_stamp_cell){bucket, n, sum};
    return 0;
}

typedef struct {
    const entry *e;
    sr_ms t;
} before_ctx;

static bool before(const void *ctx, size_t i)
{
    const before_ctx *x = ctx;
    return x->e->c[i].bucket < x->t;
}

/* The first of e's cells whose hour is at least t. */
static size_t lower(const entry *e, sr_ms t)
{
    before_ctx x = {e, t};
    return sr_lower_bound(e->n, before, &x);
}

/* Reads the hours [x, y) and puts them in place of e's cells there. */
static int reread(sr_stamps *s, entry *e, sr_ms x, sr_ms y, sr_stamps_read_fn read, void *ctx)
{
    s->rn = 0;
    int rc = read(ctx, e->metric, e->node, x, y, s);
    if (rc)
        return rc;
    size_t i = lower(e, x), j = lower(e, y), n = e->n - (j - i) + s->rn;
    size_t old = e->cap;
    if (reserve(&e->c, &e->cap, n, sizeof *e->c))
        return SR_ENOMEM;
    s->bytes += (e->cap - old) * sizeof *e->c;
    if (e->n > j) /* e->c may be NULL when there is nothing to move */
        memmove(e->c + i + s->rn, e->c + j, (e->n - j) * sizeof *e->c);
    if (s->rn)
        memcpy(e->c + i, s->rb, s->rn * sizeof *e->c);
    e->n = n;
    return 0;
}

static entry *find(sr_stamps *s, int64_t metric, int64_t node)
{
    for (size_t i = 0; i < s->ne; i++) {
        if (s->e[i].metric == metric && s->e[i].node == node)
            return &s->e[i];
    }
    return NULL;
}

int sr_stamps_get(sr_stamps *s, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                  sr_stamps_read_fn read, void *ctx, const sr_stamp_cell **cells, size_t *n)
{
    *cells = NULL;
    *n = 0;
    /* the hours [floor(from), floor(to)), as the store's scans read them */
    sr_ms a = sr_floor_ms(from, SR_MS_HOUR), b = sr_floor_ms(to, SR_MS_HOUR);
    if (a >= b)
        return 0;
    if (s->bytes > s->max_bytes)
        sr_stamps_clear(s);
    entry *e = find(s, metric, node);
    if (!e) {
        if (reserve(&s->e, &s->cape, s->ne + 1, sizeof *s->e))
            return SR_ENOMEM;
        e = &s->e[s->ne++];
        *e = (entry){.metric = metric, .node = node, .a = a, .b = a};
    }
    int rc = 0;
    if (e->dlo < e->dhi) {
        sr_ms x = e->dlo > e->a ? e->dlo : e->a, y = e->dhi < e->b ? e->dhi : e->b;
        if (x < y && (rc = reread(s, e, x, y, read, ctx)))
            goto fail;
        e->dlo = e->dhi = 0;
    }
    if (a < e->a) {
        if ((rc = reread(s, e, a, e->a, read, ctx)))
            goto fail;
        e->a = a;
    }
    if (b > e->b) {
        if ((rc = reread(s, e, e->b, b, read, ctx)))
            goto fail;
        e->b = b;
    }
    size_t i = lower(e, a), j = lower(e, b);
    *cells = e->c + i;
    *n = j - i;
    return 0;
fail:
    /* what it holds is no longer known to be whole: forget it */
    free(e->c);
    s->bytes -= e->cap * sizeof *e->c;
    *e = s->e[--s->ne];
    return rc;
}

void sr_stamps_changed(sr_stamps *s, int64_t metric, sr_ms lo, sr_ms hi)
{
    sr_ms end;
    sr_hours_holding(lo, hi, &lo, &end);
    for (size_t i = 0; i < s->ne; i++) {
        entry *e = &s->e[i];
        if (e->metric != metric)
            continue;
        sr_ms x = lo > e->a ? lo : e->a, y = end < e->b ? end : e->b;
        if (x >= y)
            continue;
        if (e->dlo < e->dhi) {
            x = x < e->dlo ? x : e->dlo;
            y = y > e->dhi ? y : e->dhi;
        }
        e->dlo = x;
        e->dhi = y;
    }
}
