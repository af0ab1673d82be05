/*
 * Tests of metrics/cells.c: the ancestors' cells that cells_roll_up makes
 * level by level (values merged from the children's sorted lists, sketches
 * from the children's, twins above single children) are, bit for bit, what
 * merging every entity's cell into every ancestor in the map's order and
 * sorting stably gives, 0 and -0 in that order included.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/cells.h"
#include "../helpers.h"

/*
 * 0 root - 1 force - 2 a - 4 u1, 5 u2
 *                  - 3 b - 6 u3 - 7 x
 *                  - 8 c - 9 - 10
 * The root has a single child (its twin), so has 8 (9 is its twin).
 */
static const int64_t parent_of[] = {-1, 0, 1, 1, 2, 2, 3, 6, 1, 8, 9};

static int64_t parent(void *ctx, int64_t node)
{
    (void)ctx;
    return parent_of[node];
}

static bool below(int64_t node, int64_t ancestor)
{
    for (int64_t a = parent_of[node]; a >= 0; a = parent_of[a]) {
        if (a == ancestor)
            return true;
    }
    return false;
}

/* Whether two sketches encode to the same bytes. */
static void assert_same_sketch(const sr_sketch *got, const sr_sketch *want, int64_t node)
{
    unsigned char *g, *w;
    size_t g_len, w_len;
    cr_assert_eq(sr_sketch_encode(got, &g, &g_len), 0);
    cr_assert_eq(sr_sketch_encode(want, &w, &w_len), 0);
    cr_assert(g_len == w_len && memcmp(g, w, g_len) == 0, "node %lld: sketch", (long long)node);
    free(g);
    free(w);
}

Test(cells, ancestors_are_the_stable_merge_of_their_entities_in_map_order)
{
    static const int64_t entity[] = {4, 5, 2, 6, 7, 10, 4, 6}; /* 2 and 6 have children */
    cellmap cells = {0}, up = {0};
    uint64_t seed = 17;
    for (int i = 0; i < 6000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = seed >> 33;
        int64_t e = entity[r % (sizeof entity / sizeof *entity)];
        sr_ms ts = (sr_ms)(r / 8 % 2) * SR_MS_HOUR + (sr_ms)(r / 16 % 3600) * 1000;
        double v = r / 4096 % 4 == 0 ? (r & 32 ? -0.0 : 0.0) : (double)(r / 64 % 2000) / 10 - 50;
        cr_assert_eq(cells_add(&cells, 1, e, ts, v, 1, 1), 0);
    }
    /* an entity with a single value in an hour */
    cr_assert_eq(cells_add(&cells, 1, 9, 5 * SR_MS_HOUR, 42, 1, 1), 0);
    /* a counter's cells go up too, without values */
    cr_assert_eq(cells_add(&cells, 2, 5, 0, 3, 0, 1), 0);
    cr_assert_eq(cells_roll_up(&cells, &up, parent, NULL), 0);

    size_t twins = 0, checked = 0;
    double *want = malloc(6000 * sizeof *want);
    cr_assert_not_null(want);
    for (size_t i = 0; i < up.cap; i++) {
        const cell *u = &up.v[i];
        if (!u->used)
            continue;
        const cell *f = u->twin ? u->twin : u;
        twins += u->twin != NULL;
        /* brute force: every entity's cell below it, in the map's order */
        size_t n = 0;
        int64_t count = 0;
        double sum = 0, min = INFINITY, max = -INFINITY;
        sr_sketch *sk = NULL;
        cr_assert_eq(sr_sketch_create(SR_SKETCH_ALPHA, &sk), 0);
        for (size_t k = 0; k < cells.cap; k++) {
            const cell *c = &cells.v[k];
            if (!c->used || c->metric != u->metric || c->bucket != u->bucket ||
                !below(c->node, u->node))
                continue;
            count += c->n;
            sum += c->sum;
            min = fmin(min, c->min);
            max = fmax(max, c->max);
            for (size_t j = 0; j < c->nvals; j++)
                cr_assert_eq(sr_sketch_add(sk, c->vals[j]), 0);
            for (size_t j = 0; j < c->nvals; j++, n++)
                want[n] = c->vals[j];
        }
        th_sort_stable(want, n);
        cr_assert_eq(f->n, count, "node %lld", (long long)u->node);
        cr_assert(memcmp(&f->sum, &sum, sizeof sum) == 0, "node %lld: sum %.17g, want %.17g",
                  (long long)u->node, f->sum, sum);
        cr_assert_eq(f->min, min);
        cr_assert_eq(f->max, max);
        cr_assert_eq(f->nvals, n, "node %lld", (long long)u->node);
        for (size_t j = 0; j < n; j++)
            cr_assert(memcmp(&f->vals[j], &want[j], sizeof(double)) == 0,
                      "node %lld hour %lld [%zu]: %g, want %g", (long long)u->node,
                      (long long)(u->bucket / SR_MS_HOUR), j, f->vals[j], want[j]);
        /* the sketch, merged level by level, encodes to the same bytes as
         * one of every value */
        cr_assert_eq(f->sketch != NULL, sr_sketch_count(sk) > 0, "node %lld", (long long)u->node);
        if (f->sketch)
            assert_same_sketch(f->sketch, sk, u->node);
        sr_sketch_destroy(sk);
        checked++;
    }
    cr_assert_eq(checked, 2 * 7 + 3 + 3,
                 "ancestors: 7 nodes in 2 hours, node 9's 3, the counter's 3");
    cr_assert_eq(twins, 2 * 2 + 2 + 2,
                 "the root and node 8 in both hours; 1 and the root above node 9 alone and above "
                 "the counter");
    /* the entities' own sketches, made from their values */
    for (size_t i = 0; i < cells.cap; i++) {
        const cell *c = &cells.v[i];
        if (!c->used || !c->nvals)
            continue;
        sr_sketch *sk = NULL;
        cr_assert_eq(sr_sketch_create(SR_SKETCH_ALPHA, &sk), 0);
        for (size_t j = 0; j < c->nvals; j++)
            cr_assert_eq(sr_sketch_add(sk, c->vals[j]), 0);
        cr_assert_not_null(c->sketch, "node %lld", (long long)c->node);
        cr_assert_eq(sr_sketch_count(c->sketch), c->nvals);
        assert_same_sketch(c->sketch, sk, c->node);
        sr_sketch_destroy(sk);
    }
    free(want);
    cells_fini(&cells);
    cells_fini(&up);
}

Test(cells, the_minutes_blob_round_trips_and_refuses_damage)
{
    minute_acc m[3] = {{0, 2, 3.5, 1, 2.5}, {7, 1, -4, -4, -4}, {59, 5, 10, 0, 4}};
    unsigned char b[CELLS_MINUTES_MAX];
    size_t len = cells_minutes_encode(m, 3, b);
    cr_assert_eq(len, 2 + 3 * 29);
    sr_minute_cell out[60];
    cr_assert_eq(cells_minutes_decode(b, len, 3600000, out), 3);
    cr_assert_eq(out[1].bucket_ms, 3600000 + 7 * SR_MS_MIN);
    cr_assert_eq(out[2].n, 5);
    cr_assert_eq(out[1].sum, -4);
    cr_assert_eq(cells_minutes_decode(b, len - 1, 0, out), SR_ECORRUPT);
}
