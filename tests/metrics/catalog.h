/*
 * catalog.h - the metrics tests' catalog over a real store: a store opened
 * on a file in a fresh folder, and metric definitions added to a catalog
 * and to the store, as the config would define them.
 */
#ifndef SR_TEST_CATALOG_H
#define SR_TEST_CATALOG_H

#include <criterion/criterion.h>

#include "../../metrics/common.h"
#include "../../metrics/kpi.h"
#include "../../metrics/store.h"
#include "../helpers.h"

/* A fresh folder in dir (dlen bytes) and a store opened read-write on the
 * file name in it; caller owns; close with sr_store_close(). */
static inline sr_store *th_store_in(char *dir, size_t dlen, const char *name)
{
    char db[600];
    th_tempdir_with(dir, dlen, db, sizeof db, name);
    sr_store *st = NULL;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0, "cannot open %s", db);
    return st;
}

/* Adds the definition of metric name of kind (its default aggregate) to
 * cat, whose definitions have room for cap, and to the store st unless it
 * is a ratio; borrowed from cat, to be set further. */
static inline sr_metric_def *th_add_def(sr_catalog *cat, size_t cap, sr_store *st, const char *name,
                                        sr_kind kind)
{
    cr_assert_lt(cat->n, cap, "no room for the metric %s", name);
    sr_metric_def *d = &cat->v[cat->n++];
    sr_metric_def_init(d, name);
    d->kind = kind;
    d->agg = sr_kind_default_agg(kind);
    if (kind != SR_KIND_RATIO)
        cr_assert_eq(sr_store_define_metric(st, name, kind), 0);
    return d;
}

#endif
