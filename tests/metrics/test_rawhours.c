/*
 * test_rawhours.c - a reader's copy of a few hours' raw samples: the cache
 * itself (what it keeps, what makes room, what a touch forgets), and the
 * store's scans through it, which must give the rows SQLite gives for the
 * same range after every kind of commit by another handle: late data in a
 * kept hour, a gap in the `touch` log, retention.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/rawhours.h"
#include "../../metrics/store.h"
#include "../helpers.h"

#define H0 (1700000000000LL / SR_MS_HOUR * SR_MS_HOUR) /* an hour's start */

/* ---- the cache ---- */

static sr_raw_row rows_of(int k)
{
    return (sr_raw_row){.ts = H0 + k, .entity = k % 3, .value = k * 1.5};
}

static size_t kept_n(sr_rawhours *h, int64_t metric, sr_ms hour, bool *known)
{
    const sr_raw_row *r = NULL;
    size_t n = 99;
    *known = sr_rawhours_get(h, metric, hour, &r, &n);
    return *known && r ? n : 0;
}

Test(rawhours, keeps_copies_and_the_least_recently_used_makes_room)
{
    sr_rawhours *h;
    /* room for 40 rows; an hour of more than 10 is too large to keep */
    cr_assert_eq(sr_rawhours_create(40 * sizeof(sr_raw_row), 100, &h), 0);
    sr_raw_row v[20];
    for (int k = 0; k < 20; k++)
        v[k] = rows_of(k);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(sr_rawhours_put(h, 1, H0 + i * SR_MS_HOUR, v, 10), 0);
    v[0].value = -1; /* a copy was kept */
    const sr_raw_row *r;
    size_t n;
    cr_assert(sr_rawhours_get(h, 1, H0, &r, &n));
    cr_assert_eq(n, 10);
    cr_expect_eq(r[0].value, 0.0);
    cr_expect_eq(r[9].ts, H0 + 9);
    cr_expect_not(sr_rawhours_get(h, 2, H0, &r, &n), "another metric's hour");
    /* touch hours 0, 2, 3 again: hour 1 is the oldest used and goes */
    bool known;
    kept_n(h, 1, H0 + 2 * SR_MS_HOUR, &known);
    kept_n(h, 1, H0 + 3 * SR_MS_HOUR, &known);
    cr_assert_eq(sr_rawhours_put(h, 1, H0 + 4 * SR_MS_HOUR, v, 10), 0);
    cr_expect_eq(kept_n(h, 1, H0 + SR_MS_HOUR, &known), 0);
    cr_expect_not(known, "the least recently used hour made room");
    for (int i = 0; i < 5; i++) {
        if (i != 1) {
            cr_expect_eq(kept_n(h, 1, H0 + i * SR_MS_HOUR, &known), 10, "hour %d", i);
            cr_expect(known);
        }
    }
    /* an hour too large is known to be so, and holds no rows */
    cr_assert_eq(sr_rawhours_put(h, 1, H0 + 9 * SR_MS_HOUR, v, 20), 0);
    cr_assert(sr_rawhours_get(h, 1, H0 + 9 * SR_MS_HOUR, &r, &n));
    cr_expect_null(r);
    cr_expect_eq(kept_n(h, 1, H0 + 4 * SR_MS_HOUR, &known), 10, "it evicted nothing");
    /* an empty hour is kept as such */
    cr_assert_eq(sr_rawhours_put(h, 3, H0, NULL, 0), 0);
    cr_assert(sr_rawhours_get(h, 3, H0, &r, &n));
    cr_expect_not_null(r);
    cr_expect_eq(n, 0);
    sr_rawhours_destroy(h);
}

Test(rawhours, keeps_at_most_its_number_of_hours)
{
    sr_rawhours *h;
    cr_assert_eq(sr_rawhours_create(1 << 20, 3, &h), 0);
    sr_raw_row v[2] = {rows_of(0), rows_of(1)};
    bool known;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(sr_rawhours_put(h, 1, H0 + i * SR_MS_HOUR, v, 2), 0);
    kept_n(h, 1, H0, &known); /* hour 0 used again: hour 1 is now the oldest */
    cr_assert_eq(sr_rawhours_put(h, 1, H0 + 3 * SR_MS_HOUR, v, 2), 0);
    for (int i = 0; i < 4; i++) {
        kept_n(h, 1, H0 + i * SR_MS_HOUR, &known);
        cr_expect_eq(known, i != 1, "hour %d", i);
    }
    sr_rawhours_destroy(h);
}

Test(rawhours, a_touch_forgets_exactly_the_hours_holding_its_times)
{
    sr_rawhours *h;
    cr_assert_eq(sr_rawhours_create(1 << 20, 100, &h), 0);
    sr_raw_row v[4] = {rows_of(0), rows_of(1), rows_of(2), rows_of(3)};
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(sr_rawhours_put(h, 1, H0 + i * SR_MS_HOUR, v, 4), 0);
        cr_assert_eq(sr_rawhours_put(h, 2, H0 + i * SR_MS_HOUR, v, 4), 0);
    }
    bool known;
    /* the last ms of hour 1 to the first of hour 3: hours 1, 2, 3 */
    sr_rawhours_changed(h, 1, H0 + 2 * SR_MS_HOUR - 1, H0 + 3 * SR_MS_HOUR);
    for (int i = 0; i < 6; i++) {
        kept_n(h, 1, H0 + i * SR_MS_HOUR, &known);
        cr_expect_eq(known, i == 0 || i > 3, "metric 1, hour %d", i);
        kept_n(h, 2, H0 + i * SR_MS_HOUR, &known);
        cr_expect(known, "metric 2 untouched, hour %d", i);
    }
    /* retention: everything before a time */
    sr_rawhours_changed(h, 2, INT64_MIN, H0 + 4 * SR_MS_HOUR + 5);
    for (int i = 0; i < 6; i++) {
        kept_n(h, 2, H0 + i * SR_MS_HOUR, &known);
        cr_expect_eq(known, i == 5, "metric 2, hour %d", i);
    }
    sr_rawhours_clear(h);
    kept_n(h, 1, H0, &known);
    cr_expect_not(known);
    sr_rawhours_destroy(h);
}

/* ---- the store's scans through it ---- */

/* a fresh folder for each test, dir, and the path of a cache in it */
TH_DIR_SUITE(rawhours_store, dir, db, "cache.db");

typedef struct {
    sr_raw_row v[512];
    size_t n;
} seen;

static int seen_raw(void *ctx, int64_t entity, sr_ms ts, double value)
{
    seen *s = ctx;
    cr_assert_lt(s->n, 512);
    s->v[s->n++] = (sr_raw_row){.ts = ts, .entity = entity, .value = value};
    return 0;
}

static int seen_value(void *ctx, double value)
{
    return seen_raw(ctx, 0, 0, value);
}

/* What SQLite holds for [from, to), through a connection of its own. */
static void sql_rows(sr_ms from, sr_ms to, seen *out)
{
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_prepare_v2(h,
                                    "SELECT entity, ts, value FROM sample WHERE metric = "
                                    "(SELECT id FROM metric WHERE name = 'rt') AND ts >= ?1 "
                                    "AND ts < ?2 ORDER BY ts, entity, dedup",
                                    -1, &q, NULL),
                 SQLITE_OK);
    sqlite3_bind_int64(q, 1, from);
    sqlite3_bind_int64(q, 2, to);
    out->n = 0;
    while (sqlite3_step(q) == SQLITE_ROW)
        seen_raw(out, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                 sqlite3_column_double(q, 2));
    sqlite3_finalize(q);
    sqlite3_close(h);
}

/* The reader's raw and value scans of [from, to) in a read transaction
 * equal SQLite's rows; returns how many. */
static size_t expect_scan(sr_store *r, sr_ms from, sr_ms to, const char *what)
{
    int64_t id;
    cr_assert_eq(sr_store_metric_id(r, "rt", &id), 0);
    seen want, raw = {0}, vals = {0};
    sql_rows(from, to, &want);
    cr_assert_eq(sr_store_read_begin(r), 0);
    cr_assert_eq(sr_store_scan_raw(r, id, from, to, seen_raw, &raw), 0);
    cr_assert_eq(sr_store_scan_values(r, id, from, to, seen_value, &vals), 0);
    sr_store_read_end(r);
    cr_assert_eq(raw.n, want.n, "%s: %zu rows, SQLite has %zu", what, raw.n, want.n);
    cr_assert_eq(vals.n, want.n, "%s: values", what);
    for (size_t i = 0; i < want.n; i++) {
        cr_assert_eq(raw.v[i].ts, want.v[i].ts, "%s: row %zu", what, i);
        cr_assert_eq(raw.v[i].entity, want.v[i].entity, "%s: row %zu", what, i);
        cr_assert_eq(raw.v[i].value, want.v[i].value, "%s: row %zu", what, i);
        cr_assert_eq(vals.v[i].value, want.v[i].value, "%s: value %zu", what, i);
    }
    return want.n;
}

static void put(sr_store *w, const char *entity, sr_ms ts, double v)
{
    sr_sample s = {"rt", entity, ts, v, NULL};
    bool dup;
    cr_assert_eq(sr_store_put(w, &s, &dup), 0);
}

#define MIN (60 * 1000LL)
#define D0 (H0 - 3 * SR_MS_DAY)

Test(rawhours_store, scans_in_one_hour_follow_another_handles_commits)
{
    sr_store *w, *r;
    char err[256];
    cr_assert_eq(sr_store_open(db, 0, &w, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sr_store_define_metric(w, "rt", SR_KIND_EVENT), 0);
    cr_assert_eq(sr_store_begin(w), 0);
    for (int k = 0; k < 60; k++) {
        put(w, k % 2 ? "f/a" : "f/b", D0 + k * MIN, k);
        put(w, "f/c", D0 + k * MIN, 100 + k); /* same time, another entity */
    }
    put(w, "f/a", D0 + SR_MS_HOUR + 5, 7); /* the next hour */
    cr_assert_eq(sr_store_commit(w), 0);
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &r, err, sizeof err), 0, "%s", err);

    sr_ms from = D0 + 10 * MIN + 1, to = D0 + 50 * MIN;
    cr_assert_eq(expect_scan(r, from, to, "at first"), 78);
    cr_assert_eq(expect_scan(r, from, to, "again, from the kept hour"), 78);
    cr_assert_eq(expect_scan(r, D0, D0 + SR_MS_HOUR, "the whole hour"), 120);
    expect_scan(r, D0 + 59 * MIN, D0 + SR_MS_HOUR + 10, "over two hours: from the table");

    /* an hour too large to keep is read from the table each time */
    cr_assert_eq(sr_store_begin(w), 0);
    for (int k = 0; k < 5000; k++)
        put(w, "f/e", D0 + 4 * SR_MS_HOUR + k * 700, k);
    cr_assert_eq(sr_store_commit(w), 0);
    sr_ms big = D0 + 4 * SR_MS_HOUR + 10 * MIN;
    cr_assert_eq(expect_scan(r, big, big + 5 * MIN, "an hour too large to keep"), 428);
    cr_assert_eq(expect_scan(r, big, big + 5 * MIN, "again"), 428);

    /* late data in the kept hour, at an edge of the range */
    cr_assert_eq(sr_store_begin(w), 0);
    put(w, "f/d", from, -3);
    put(w, "f/d", to - 1, -4);
    cr_assert_eq(sr_store_commit(w), 0);
    cr_assert_eq(expect_scan(r, from, to, "late data"), 80);

    /* the log pruned past what the reader saw: it forgets the hours it kept */
    cr_assert_eq(sr_store_begin(w), 0);
    put(w, "f/d", D0 + 30 * MIN, -5);
    cr_assert_eq(sr_store_commit(w), 0);
    th_cache_exec(db, "DELETE FROM touch");
    cr_assert_eq(sr_store_begin(w), 0);
    put(w, "f/d", D0 + 5 * SR_MS_DAY, 1); /* far from the kept hour */
    cr_assert_eq(sr_store_commit(w), 0);
    cr_assert_eq(expect_scan(r, from, to, "after a gap in the log"), 81);

    /* retention drops the hour */
    int64_t deleted;
    cr_assert_eq(sr_store_retain(w, D0 + 2 * SR_MS_HOUR, &deleted), 0);
    cr_assert_gt(deleted, 0);
    cr_assert_eq(expect_scan(r, from, to, "after retention"), 0);
    sr_store_close(r);
    sr_store_close(w);
}
