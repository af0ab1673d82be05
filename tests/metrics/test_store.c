/*
 * Tests of metrics/store.c against real SQLite files in a temp directory:
 * schema and migrations, idempotent ingest, rejects, retention, rollups,
 * rollback, and a writer killed with SIGKILL in the middle of a batch.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../metrics/store.h"
#include "../helpers.h"

/* a fresh folder for each test, dir, and the path of a cache in it */
TH_DIR_SUITE(store, dir, db, "cache.db");

static sr_store *open_rw(void)
{
    sr_store *st = NULL;
    char err[256] = "";
    int rc = sr_store_open(db, 0, &st, err, sizeof err);
    cr_assert_eq(rc, 0, "open: %s (%s)", sr_strerror(rc), err);
    cr_assert_eq(sr_store_define_metric(st, "rt", SR_KIND_EVENT), 0);
    cr_assert_eq(sr_store_define_metric(st, "open", SR_KIND_GAUGE), 0);
    cr_assert_eq(sr_store_define_metric(st, "ot", SR_KIND_COUNTER), 0);
    return st;
}

static int put(sr_store *st, const char *metric, const char *entity, sr_ms ts, double v,
               const char *key, bool *dup)
{
    sr_sample s = {metric, entity, ts, v, key};
    return sr_store_put(st, &s, dup);
}

static int64_t sql_count(const char *sql)
{
    return th_sql_int(db, sql);
}

Test(store, creates_schema_in_wal_mode)
{
    sr_store *st = open_rw();
    int v = 0;
    cr_assert_eq(sr_store_schema_version(st, &v), 0);
    cr_assert_eq(v, SR_STORE_SCHEMA);
    sr_store_close(st);
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &q, NULL);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(h);
}

Test(store, refuses_newer_schema_and_garbage)
{
    sr_store_close(open_rw());
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    sr_store *st = NULL;
    char err[256] = "";
    cr_assert_eq(sr_store_open(db, 0, &st, err, sizeof err), SR_EVERSION);
    cr_assert_null(st);
    cr_assert(strstr(err, "newer"), "message: %s", err);

    char junk[300];
    snprintf(junk, sizeof junk, "%s/junk.db", dir);
    FILE *f = fopen(junk, "w");
    for (int i = 0; i < 512; i++)
        fputs("this is not a database ", f);
    fclose(f);
    int rc = sr_store_open(junk, 0, &st, err, sizeof err);
    cr_assert_eq(rc, SR_ECORRUPT, "got %s: %s", sr_strerror(rc), err);
}

/* The v1 schema as it was shipped: no rollup table. */
static const char v1_schema[] =
    "CREATE TABLE metric(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind INTEGER NOT "
    "NULL);"
    "CREATE TABLE entity(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, parent INTEGER NOT "
    "NULL);"
    "CREATE TABLE sample(metric INTEGER NOT NULL, ts INTEGER NOT NULL, entity INTEGER NOT NULL, "
    "dedup INTEGER NOT NULL, value REAL NOT NULL, key TEXT, PRIMARY KEY(metric, ts, entity, "
    "dedup)) WITHOUT ROWID;"
    "CREATE TABLE reject(id INTEGER PRIMARY KEY, source TEXT NOT NULL, at INTEGER NOT NULL, "
    "location TEXT, raw TEXT, reason TEXT NOT NULL);"
    "CREATE INDEX reject_by_source ON reject(source, id);"
    "CREATE TABLE source(name TEXT PRIMARY KEY, type TEXT, last_poll INTEGER, last_ok INTEGER, "
    "cursor INTEGER, last_error TEXT, accepted INTEGER, duplicates INTEGER, rejected INTEGER, "
    "polls INTEGER, failures INTEGER);"
    "INSERT INTO metric VALUES (1, 'rt', 0);"
    "INSERT INTO entity VALUES (1, 'force', 0), (2, 'force/a', 1), (3, 'force/b', 1);"
    "INSERT INTO sample VALUES (1, 3600000, 2, 1, 10.0, NULL), (1, 3660000, 2, 2, 20.0, NULL),"
    "  (1, 3720000, 3, 3, 30.0, NULL);"
    "PRAGMA user_version = 1;";

Test(store, migrates_v1_and_rebuilds_rollups)
{
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, v1_schema, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    sr_store *st = open_rw();
    int v;
    cr_assert_eq(sr_store_schema_version(st, &v), 0);
    cr_assert_eq(v, SR_STORE_SCHEMA);
    sr_store_close(st);
    /* the three samples survive, and the hourly cells of force, a, b, root are there */
    cr_assert_eq(sql_count("SELECT count(*) FROM sample"), 3);
    cr_assert_eq(sql_count("SELECT n FROM rollup WHERE res = 1 AND node = 1"), 3);
    cr_assert_eq(sql_count("SELECT n FROM rollup WHERE res = 1 AND node = 0"), 3);
    cr_assert_eq(sql_count("SELECT n FROM rollup WHERE res = 1 AND node = 2"), 2);
    cr_assert_eq(sql_count("SELECT sum FROM rollup WHERE res = 1 AND node = 1"), 60);
    /* the three samples fell in three different minutes of that hour */
    cr_assert_eq(sql_count("SELECT length(minutes) FROM rollup WHERE node = 1"), 2 + 3 * 29);
}

/* A v3 cache as it was shipped, with one source's health. */
static const char v3_extra[] =
    "CREATE TABLE rollup(metric INTEGER NOT NULL, res INTEGER NOT NULL, node INTEGER NOT NULL, "
    "bucket INTEGER NOT NULL, n INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, "
    "max REAL NOT NULL, last_ts INTEGER NOT NULL, last REAL NOT NULL, sketch BLOB, minutes BLOB, "
    "PRIMARY KEY(metric, res, node, bucket)) WITHOUT ROWID;"
    "CREATE TABLE source_metric(source TEXT NOT NULL, metric INTEGER NOT NULL, "
    "PRIMARY KEY(source, metric)) WITHOUT ROWID;"
    "INSERT INTO source VALUES ('feed', 'csv', 500, 400, 300, 'boom', 7, 8, 9, 10, 11);"
    "INSERT INTO reject(source, at, location, raw, reason) VALUES "
    "  ('feed', 1, 'line 2', 'a,b', 'bad'), ('feed', 2, 'line 2', 'a,b', 'bad');"
    "PRAGMA user_version = 3;";

Test(store, migrates_v3_and_keeps_source_health)
{
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, v1_schema, NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, v3_extra, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_close(h);

    /* a viewer cannot migrate: it says so */
    sr_store *st = NULL;
    char err[256] = "";
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &st, err, sizeof err), SR_EVERSION);
    char want[64];
    snprintf(want, sizeof want, "version 3 needs migrating to %d", SR_STORE_SCHEMA);
    cr_assert(strstr(err, want), "%s", err);

    st = open_rw();
    int v;
    cr_assert_eq(sr_store_schema_version(st, &v), 0);
    cr_assert_eq(v, SR_STORE_SCHEMA);
    sr_source_health g;
    cr_assert_eq(sr_store_source_get(st, "feed", &g), 0);
    cr_assert_str_eq(g.type, "csv");
    cr_assert_eq(g.last_poll_ms, 500);
    cr_assert_eq(g.last_ok_ms, 400);
    cr_assert_str_eq(g.last_error, "boom");
    cr_assert_eq(g.accepted, 7);
    cr_assert_eq(g.failures, 11);
    /* what v3 did not record is unknown, not invented */
    cr_assert_eq(g.next_poll_ms, 0);
    cr_assert_eq(g.interval_ms, 0);
    cr_assert_eq(g.timeout_ms, 0);
    g.next_poll_ms = 900;
    g.interval_ms = 5000;
    cr_assert_eq(sr_store_source_put(st, &g), 0);
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT next_poll FROM source WHERE name = 'feed'"), 900);
    cr_assert_eq(sql_count("SELECT interval FROM source WHERE name = 'feed'"), 5000);
    cr_assert_eq(sql_count("SELECT rejected FROM source WHERE name = 'feed'"), 9);
    /* v5: the repeated rejects of before are kept as they were */
    cr_assert_eq(sql_count("SELECT count(*) FROM reject WHERE source = 'feed'"), 2);
}

Test(store, put_is_idempotent)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a/u1", 1000, 5, "ev-1", &dup), 0);
    cr_assert_not(dup);
    /* same key, same place and time: the same event even with another value */
    cr_assert_eq(put(st, "rt", "force/a/u1", 1000, 6, "ev-1", &dup), 0);
    cr_assert(dup);
    /* no key: identity is (metric, entity, ts, value) */
    cr_assert_eq(put(st, "rt", "force/a/u1", 2000, 7, NULL, &dup), 0);
    cr_assert_not(dup);
    cr_assert_eq(put(st, "rt", "force/a/u1", 2000, 7, NULL, &dup), 0);
    cr_assert(dup);
    cr_assert_eq(put(st, "rt", "force/a/u1", 2000, 8, NULL, &dup), 0);
    cr_assert_not(dup);
    cr_assert_eq(sr_store_commit(st), 0);
    /* a second batch with the same rows adds nothing, rollups included */
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a/u1", 1000, 5, "ev-1", &dup), 0);
    cr_assert(dup);
    cr_assert_eq(put(st, "rt", "force/a/u1", 2000, 8, NULL, &dup), 0);
    cr_assert(dup);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT count(*) FROM sample"), 3);
    cr_assert_eq(sql_count("SELECT n FROM rollup WHERE res = 1 AND node = 0"), 3);
}

static int count_raw(void *ctx, int64_t entity, sr_ms ts, double value)
{
    (void)entity;
    (void)ts;
    (void)value;
    ++*(int *)ctx;
    return 0;
}

/*
 * Samples in time order are queued and inserted many at a time (store.c,
 * is_new); duplicates must still be told apart row by row wherever they
 * fall: at the newest time, among more samples than are remembered there,
 * beyond a full queue, in the next transaction, and before the newest.
 */
Test(store, duplicates_are_found_around_the_newest_time)
{
    sr_store *st = open_rw();
    bool dup;
    char key[32];
    int64_t distinct = 0, dups = 0;
    cr_assert_eq(sr_store_begin(st), 0);
    /* 200 samples in time order (more than one queue), each new */
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_eq(put(st, "rt", "force/a/u1", 10000 + i, i, key, &dup), 0);
        cr_assert_not(dup, "sample %d", i);
        distinct++;
    }
    /* three at the newest time, then one of them again */
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "at-%d", i % 3);
        cr_assert_eq(put(st, "rt", "force/a/u2", 40000, i % 3, key, &dup), 0);
        cr_assert_eq(dup, i == 3, "sample %d", i);
        i == 3 ? dups++ : distinct++;
    }
    /* 40 samples at one time, the newest (more than it remembers), then each again */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 40; i++) {
            snprintf(key, sizeof key, "same-%d", i);
            cr_assert_eq(put(st, "rt", "force/a/u2", 50000, i, key, &dup), 0);
            cr_assert_eq(dup, round == 1, "round %d sample %d", round, i);
            round ? dups++ : distinct++;
        }
    }
    /* every queued sample again, in the same transaction: all duplicates */
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_eq(put(st, "rt", "force/a/u1", 10000 + i, i, key, &dup), 0);
        cr_assert(dup, "sample %d again", i);
        dups++;
    }
    /* a reader inside the transaction sees what is still queued */
    cr_assert_eq(put(st, "rt", "force/a/u3", 60000, 1, "last", &dup), 0);
    distinct++;
    int64_t rt;
    cr_assert_eq(sr_store_metric_id(st, "rt", &rt), 0);
    int seen = 0;
    cr_assert_eq(sr_store_scan_raw(st, rt, 0, 100000, count_raw, &seen), 0);
    cr_assert_eq(seen, distinct);
    cr_assert_eq(sr_store_commit(st), 0);
    /* the next transaction: the stored newest, and older ones */
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a/u3", 60000, 1, "last", &dup), 0);
    cr_assert(dup);
    cr_assert_eq(put(st, "rt", "force/a/u3", 60000, 2, "last-but-new", &dup), 0);
    cr_assert_not(dup);
    distinct++;
    cr_assert_eq(put(st, "rt", "force/a/u3", 60000, 2, "last-but-new", &dup), 0);
    cr_assert(dup);
    cr_assert_eq(put(st, "rt", "force/a/u1", 10005, 5, "k5", &dup), 0);
    cr_assert(dup);
    cr_assert_eq(put(st, "rt", "force/a/u1", 10005, 5, "k5-other", &dup), 0);
    cr_assert_not(dup);
    distinct++;
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT count(*) FROM sample"), distinct);
    cr_assert_eq(sql_count("SELECT n FROM rollup WHERE res = 1 AND node = 0"), distinct);
    cr_assert_eq(dups, 241);
}

/* A rollback forgets the queued samples with the rest of the batch. */
Test(store, rollback_drops_queued_samples)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(put(st, "rt", "force/a/u1", 1000 + i, i, NULL, &dup), 0);
    sr_store_rollback(st);
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(put(st, "rt", "force/a/u1", 1000 + i, i, NULL, &dup), 0);
        cr_assert_not(dup);
    }
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT count(*) FROM sample"), 10);
    cr_assert_eq(sql_count("SELECT n FROM rollup WHERE res = 1 AND node = 0"), 10);
}

Test(store, refuses_bad_samples)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "nope", "force/a", 1, 1, NULL, &dup), SR_ENOENT);
    cr_assert_eq(put(st, "rt", "", 1, 1, NULL, &dup), SR_EINVAL);
    cr_assert_eq(put(st, "rt", "/force", 1, 1, NULL, &dup), SR_EINVAL);
    cr_assert_eq(put(st, "rt", "force//a", 1, 1, NULL, &dup), SR_EINVAL);
    cr_assert_eq(put(st, "rt", "force/", 1, 1, NULL, &dup), SR_EINVAL);
    cr_assert_eq(put(st, "rt", "force", 1, NAN, NULL, &dup), SR_EINVAL);
    cr_assert_eq(put(st, "rt", "force", 1, INFINITY, NULL, &dup), SR_EINVAL);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT count(*) FROM sample"), 0);
}

static int collect_reject(void *ctx, const sr_reject_row *r)
{
    int *n = ctx;
    if (*n == 0) {
        cr_assert_str_eq(r->source, "csv1");
        cr_assert_str_eq(r->where, "line 3");
        cr_assert_str_eq(r->raw, "rt,,x,1");
        cr_assert_str_eq(r->reason, "empty entity");
    }
    (*n)++;
    return 0;
}

Test(store, keeps_rejects_with_reasons)
{
    sr_store *st = open_rw();
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_reject(st, "csv1", "line 3", "rt,,x,1", "empty entity", NULL), 0);
    cr_assert_eq(sr_store_reject(st, "csv1", "line 4", "rt,a,x,1", "unparseable ts 'x'", NULL), 0);
    cr_assert_eq(sr_store_reject(st, "other", "line 1", "zzz", "unknown metric 'zzz'", NULL), 0);
    /* the same row, rejected again for the same reason (a re-read file): kept once */
    bool again = false;
    cr_assert_eq(sr_store_reject(st, "csv1", "line 3", "rt,,x,1", "empty entity", &again), 0);
    cr_assert(again);
    cr_assert_eq(sr_store_reject(st, "csv1", NULL, "rt,,x,1", "empty entity", &again), 0);
    cr_assert_not(again, "another place is another reject");
    cr_assert_eq(sr_store_reject(st, "csv1", NULL, "rt,,x,1", "empty entity", &again), 0);
    cr_assert(again, "no place is a place too");
    cr_assert_eq(sr_store_reject(st, "csv2", "line 3", "rt,,x,1", "empty entity", &again), 0);
    cr_assert_not(again, "another source");
    cr_assert_eq(sr_store_commit(st), 0);
    int64_t n;
    cr_assert_eq(sr_store_reject_count(st, "csv1", &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(sr_store_reject_count(st, NULL, &n), 0);
    cr_assert_eq(n, 5);
    int seen = 0;
    cr_assert_eq(sr_store_rejects(st, "csv1", 10, collect_reject, &seen), 0);
    cr_assert_eq(seen, 3);
    sr_store_close(st);
}

static int minutes_seen;

static int check_minutes(void *ctx, const sr_rollup_cell *c)
{
    (void)ctx;
    sr_minute_cell m[60];
    cr_assert_eq(c->bucket_ms, SR_MS_HOUR);
    cr_assert_eq(sr_rollup_minutes(c, m), 2);
    cr_assert_eq(m[0].bucket_ms, SR_MS_HOUR);
    cr_assert_eq(m[0].n, 3);
    cr_assert_float_eq(m[0].sum, 60, 1e-9);
    cr_assert_float_eq(m[0].max, 30, 1e-9);
    cr_assert_eq(m[1].bucket_ms, SR_MS_HOUR + SR_MS_MIN);
    cr_assert_eq(m[1].n, 1);
    cr_assert_float_eq(m[1].sum, 40, 1e-9);
    minutes_seen++;
    return 0;
}

Test(store, rollups_pool_ancestors)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    /* two minutes of one hour, three units in two districts */
    cr_assert_eq(put(st, "rt", "force/a/u1", SR_MS_HOUR + 1000, 10, "1", &dup), 0);
    cr_assert_eq(put(st, "rt", "force/a/u2", SR_MS_HOUR + 2000, 20, "2", &dup), 0);
    cr_assert_eq(put(st, "rt", "force/b/u3", SR_MS_HOUR + 61000, 40, "3", &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    /* a later batch merges into the same cells */
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a/u1", SR_MS_HOUR + 3000, 30, "4", &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
    /* hourly: root and force hold all four; a holds three (10+20+30) */
    cr_assert_eq(sql_count("SELECT n FROM rollup WHERE res=1 AND node=0"), 4);
    cr_assert_eq(sql_count("SELECT sum FROM rollup WHERE res=1 AND node=0"), 100);
    cr_assert_eq(sql_count("SELECT n FROM rollup r JOIN entity e ON e.id = r.node "
                           "WHERE res=1 AND e.path='force/a'"),
                 3);
    cr_assert_eq(sql_count("SELECT max FROM rollup r JOIN entity e ON e.id = r.node "
                           "WHERE res=1 AND e.path='force/a'"),
                 30);
    cr_assert_eq(sql_count("SELECT last FROM rollup r JOIN entity e ON e.id = r.node "
                           "WHERE res=1 AND e.path='force'"),
                 40);
    /* every event cell carries a sketch */
    cr_assert_eq(sql_count("SELECT count(*) FROM rollup WHERE sketch IS NULL"), 0);
    /* per minute, inside the root's hour cell: minute 0 holds 3 (10, 20, 30), minute 1 one */
    sr_store *rd = NULL;
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &rd, NULL, 0), 0);
    int64_t rt;
    cr_assert_eq(sr_store_metric_id(rd, "rt", &rt), 0);
    minutes_seen = 0;
    cr_assert_eq(sr_store_scan_rollup(rd, rt, SR_ENTITY_ROOT, 0, 10 * SR_MS_HOUR, SR_SCAN_MINUTES,
                                      check_minutes, NULL),
                 0);
    cr_assert_eq(minutes_seen, 1);
    sr_store_close(rd);
}

Test(store, gauge_cells_stay_with_their_entity)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "open", "force/a/u1", 1000, 5, NULL, &dup), 0);
    cr_assert_eq(put(st, "open", "force/a/u1", 2000, 7, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT count(*) FROM rollup r JOIN metric m ON m.id = r.metric "
                           "WHERE m.name = 'open' AND minutes IS NULL"),
                 1);
    cr_assert_eq(sql_count("SELECT last FROM rollup r JOIN metric m ON m.id = r.metric "
                           "WHERE m.name = 'open' AND res = 1"),
                 7);
}

Test(store, rollback_forgets_new_entities)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/x/u9", 1000, 1, NULL, &dup), 0);
    sr_store_rollback(st);
    int64_t id;
    cr_assert_eq(sr_store_entity_id(st, "force/x/u9", &id), SR_ENOENT);
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/y", 1000, 1, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sr_store_entity_id(st, "force/y", &id), 0);
    cr_assert_str_eq(sr_store_entity_path(st, id), "force/y");
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT count(*) FROM sample"), 1);
    cr_assert_eq(sql_count("SELECT count(*) FROM rollup WHERE res=1 AND node=0"), 1);
    cr_assert_eq(sql_count("SELECT n FROM rollup WHERE res=1 AND node=0"), 1);
}

Test(store, borrowed_paths_survive_a_rollback)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/kept", 1, 1, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    int64_t id;
    cr_assert_eq(sr_store_entity_id(st, "force/kept", &id), 0);
    const char *path = sr_store_entity_path(st, id);
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/gone", 1, 1, NULL, &dup), 0);
    sr_store_rollback(st); /* reloads the entity table */
    /* under ASan a freed string would be caught here */
    cr_assert_str_eq(path, "force/kept");
    cr_assert_str_eq(sr_store_entity_path(st, id), "force/kept");
    sr_store_close(st);
}

Test(store, entity_tree)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/b/u3", 1, 1, NULL, &dup), 0);
    cr_assert_eq(put(st, "rt", "force/a/u1", 1, 1, NULL, &dup), 0);
    cr_assert_eq(put(st, "rt", "force/a/u2", 1, 1, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    int64_t force, a, u1, b;
    cr_assert_eq(sr_store_entity_id(st, "force", &force), 0);
    cr_assert_eq(sr_store_entity_id(st, "force/a", &a), 0);
    cr_assert_eq(sr_store_entity_id(st, "force/a/u1", &u1), 0);
    cr_assert_eq(sr_store_entity_id(st, "force/b", &b), 0);
    int64_t *kids;
    size_t n;
    cr_assert_eq(sr_store_entity_children(st, force, &kids, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(kids[0], a); /* path order, not creation order */
    cr_assert_eq(kids[1], b);
    free(kids);
    cr_assert(sr_store_entity_under(st, u1, a));
    cr_assert(sr_store_entity_under(st, u1, SR_ENTITY_ROOT));
    cr_assert_not(sr_store_entity_under(st, u1, b));
    cr_assert(sr_store_entity_is_leaf(st, u1));
    cr_assert_not(sr_store_entity_is_leaf(st, a));
    sr_store_close(st);
}

Test(store, retention_drops_old_rows)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    for (int h = 0; h < 10; h++)
        cr_assert_eq(put(st, "rt", "force/a", h * SR_MS_HOUR + 5, h, NULL, &dup), 0);
    cr_assert_eq(sr_store_reject(st, "s", "line 1", "x", "bad", NULL), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    int64_t deleted;
    cr_assert_eq(sr_store_retain(st, 5 * SR_MS_HOUR, &deleted), 0);
    cr_assert_eq(deleted, 5);
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT count(*) FROM sample"), 5);
    cr_assert_eq(sql_count("SELECT min(ts) FROM sample"), 5 * SR_MS_HOUR + 5);
    cr_assert_eq(sql_count("SELECT min(bucket) FROM rollup"), 5 * SR_MS_HOUR);
    /* the reject was written now, far after the cutoff: kept */
    cr_assert_eq(sql_count("SELECT count(*) FROM reject"), 1);
}

Test(store, source_health_round_trip)
{
    sr_store *st = open_rw();
    sr_source_health h = {.name = "sim",
                          .type = "sim",
                          .last_poll_ms = 10,
                          .last_ok_ms = 9,
                          .cursor_ms = 8,
                          .last_error = "boom",
                          .accepted = 1,
                          .duplicates = 2,
                          .rejected = 3,
                          .polls = 4,
                          .failures = 5,
                          .next_poll_ms = 11,
                          .interval_ms = 12,
                          .timeout_ms = 13};
    sr_source_health g;
    cr_assert_eq(sr_store_source_get(st, "sim", &g), SR_ENOENT);
    cr_assert_eq(sr_store_source_put(st, &h), 0);
    cr_assert_eq(sr_store_source_get(st, "sim", &g), 0);
    cr_assert_str_eq(g.last_error, "boom");
    cr_assert_eq(g.cursor_ms, 8);
    cr_assert_eq(g.failures, 5);
    cr_assert_eq(g.next_poll_ms, 11);
    cr_assert_eq(g.interval_ms, 12);
    cr_assert_eq(g.timeout_ms, 13);
    sr_source_health *list;
    size_t n;
    cr_assert_eq(sr_store_source_list(st, &list, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(list[0].rejected, 3);
    free(list);
    sr_store_close(st);
}

Test(store, remembers_which_source_wrote_which_metric)
{
    sr_store *st = open_rw();
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_source_metric(st, "sim", "rt"), 0);
    cr_assert_eq(sr_store_source_metric(st, "sim", "rt"), 0); /* once is enough */
    cr_assert_eq(sr_store_source_metric(st, "csv", "rt"), 0);
    cr_assert_eq(sr_store_source_metric(st, "csv", "ot"), 0);
    cr_assert_eq(sr_store_source_metric(st, "csv", "nope"), SR_ENOENT);
    cr_assert_eq(sr_store_commit(st), 0);
    char names[4][SR_NAME_MAX];
    size_t n;
    cr_assert_eq(sr_store_metric_sources(st, "rt", names, 4, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "csv");
    cr_assert_str_eq(names[1], "sim");
    cr_assert_eq(sr_store_metric_sources(st, "ot", names, 4, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(sr_store_metric_sources(st, "open", names, 4, &n), 0);
    cr_assert_eq(n, 0);
    sr_store_close(st);
}

/* A source's health says the newest sample of the metrics it has written:
 * what tells a source that answers with old data only (an old export). */
Test(store, source_health_says_its_newest_sample)
{
    sr_store *st = open_rw();
    sr_source_health h = {.name = "csv", .type = "csv", .interval_ms = 60000};
    sr_source_health g;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_source_put(st, &h), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sr_store_source_get(st, "csv", &g), 0);
    cr_assert_eq(g.newest_ms, 0, "nothing written yet");
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a", 5000, 1, NULL, &dup), 0);
    cr_assert_eq(put(st, "ot", "force/a", 9000, 1, NULL, &dup), 0);
    cr_assert_eq(put(st, "ot", "force/b", 7000, 1, NULL, &dup), 0);
    cr_assert_eq(sr_store_source_metric(st, "csv", "rt"), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sr_store_source_get(st, "csv", &g), 0);
    cr_assert_eq(g.newest_ms, 5000, "only the metrics it wrote");
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_source_metric(st, "csv", "ot"), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_source_health *list;
    size_t n;
    cr_assert_eq(sr_store_source_list(st, &list, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(list[0].newest_ms, 9000);
    free(list);
    sr_store_close(st);
}

Test(store, reader_sees_writer_commits)
{
    sr_store *w = open_rw();
    sr_store *r = NULL;
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &r, NULL, 0), 0);
    int64_t v1, v2;
    cr_assert_eq(sr_store_data_version(r, &v1), 0);
    bool dup;
    cr_assert_eq(sr_store_begin(w), 0);
    cr_assert_eq(put(w, "rt", "force/new", 1, 1, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(w), 0);
    cr_assert_eq(sr_store_data_version(r, &v2), 0);
    cr_assert_neq(v1, v2);
    int64_t id;
    cr_assert_eq(sr_store_entity_id(r, "force/new", &id), 0);
    /* a reader cannot write */
    cr_assert_eq(sr_store_begin(r), SR_EINVAL);
    sr_store_close(r);
    sr_store_close(w);
}

/*
 * A child writes batches of 1000 samples in a loop and reports each commit
 * through a pipe; the parent kills it with SIGKILL while it is inside the
 * next batch. Every committed batch must be there, nothing of the torn one,
 * and the file must pass integrity_check.
 */
Test(store, survives_sigkill_mid_batch)
{
    sr_store_close(open_rw());
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fds[0]);
        sr_store *st = NULL;
        if (sr_store_open(db, 0, &st, NULL, 0))
            _exit(2);
        for (int batch = 0;; batch++) {
            bool dup;
            sr_store_begin(st);
            for (int i = 0; i < 1000; i++) {
                char key[32];
                snprintf(key, sizeof key, "%d-%d", batch, i);
                sr_sample s = {"rt", i % 2 ? "force/a/u1" : "force/b/u2", (sr_ms)batch * 60000 + i,
                               i, key};
                if (sr_store_put(st, &s, &dup))
                    _exit(3);
            }
            if (sr_store_commit(st))
                _exit(4);
            if (write(fds[1], "c", 1) != 1)
                _exit(5);
        }
    }
    close(fds[1]);
    char c;
    int committed = 0;
    while (committed < 20 && read(fds[0], &c, 1) == 1)
        committed++;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child ended otherwise");
    /* commits the child reported between our last read and the kill count too;
     * one more may have committed without having reported it yet */
    while (read(fds[0], &c, 1) == 1)
        committed++;
    close(fds[0]);

    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(h);
    int64_t n = sql_count("SELECT count(*) FROM sample");
    cr_assert_eq(n % 1000, 0, "a torn batch: %lld rows", (long long)n);
    cr_assert(n >= (int64_t)committed * 1000 && n <= (int64_t)(committed + 1) * 1000,
              "rows %lld, committed batches %d", (long long)n, committed);
    cr_assert_eq(sql_count("SELECT sum(n) FROM rollup WHERE res=1 AND node=0"), n);
    /* and the store opens and writes again */
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a/u1", 1, 1, "after", &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
}

static int audit_collect(void *ctx, const sr_audit_row *r)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%lld %s %s %s %s %s %s;", (long long)r->at_ms, r->user, r->role,
             r->tty, r->ssh, r->action, r->detail);
    return 0;
}

/* Runs sql on the cache through a plain SQLite connection (not sitrep). */
static int raw_exec(const char *sql, char *err, size_t len)
{
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    snprintf(err, len, "%s", msg ? msg : "");
    sqlite3_free(msg);
    sqlite3_close(h);
    return rc;
}

Test(store, audit_appends_lists_and_refuses_changes)
{
    sr_store *st = open_rw();
    sr_audit_row a = {.at_ms = 1000,
                      .user = "ann",
                      .role = "analyst",
                      .tty = "/dev/pts/3",
                      .ssh = "10.0.0.1 5000 10.0.0.2 22",
                      .action = "acknowledge",
                      .detail = "alert 4: checked"};
    sr_audit_row b = {.at_ms = 2000, .user = "bob", .role = "default", .action = "view-personal"};
    cr_assert_eq(sr_store_audit_add(st, &a), 0);
    cr_assert_eq(sr_store_audit_add(st, &b), 0);
    sr_audit_row bad = {.at_ms = 3000, .user = "x", .role = "y"};
    cr_assert_eq(sr_store_audit_add(st, &bad), SR_EINVAL);
    char out[1024] = "";
    cr_assert_eq(sr_store_audit_list(st, 0, audit_collect, out), 0);
    cr_assert_str_eq(out, "1000 ann analyst /dev/pts/3 10.0.0.1 5000 10.0.0.2 22 acknowledge "
                          "alert 4: checked;2000 bob default   view-personal ;");
    out[0] = '\0';
    cr_assert_eq(sr_store_audit_list(st, 1500, audit_collect, out), 0);
    cr_assert_str_eq(out, "2000 bob default   view-personal ;");
    /* retention leaves the audit alone */
    int64_t deleted;
    cr_assert_eq(sr_store_retain(st, 1000000, &deleted), 0);
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT count(*) FROM audit"), 2);

    /* any client, not only sitrep, is refused an UPDATE or DELETE */
    char err[256];
    cr_assert_neq(raw_exec("UPDATE audit SET user = 'eve'", err, sizeof err), SQLITE_OK);
    cr_assert(strstr(err, "append-only"), "%s", err);
    cr_assert_neq(raw_exec("DELETE FROM audit WHERE id = 1", err, sizeof err), SQLITE_OK);
    cr_assert(strstr(err, "append-only"), "%s", err);
    cr_assert_eq(sql_count("SELECT count(*) FROM audit WHERE user = 'ann'"), 1);

    /* a viewer reads it and cannot write */
    char e2[256] = "";
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &st, e2, sizeof e2), 0, "%s", e2);
    cr_assert_eq(sr_store_audit_add(st, &a), SR_EINVAL);
    out[0] = '\0';
    cr_assert_eq(sr_store_audit_list(st, 0, audit_collect, out), 0);
    cr_assert(strstr(out, "ann") && strstr(out, "bob"), "%s", out);
    sr_store_close(st);
}

/* Every write function of the store, on st; each result into rc[]. */
static void try_every_write(sr_store *st, int rc[6])
{
    bool dup;
    int64_t deleted;
    sr_source_health h = {.name = "sim", .type = "sim"};
    rc[0] = sr_store_begin(st); /* a viewer's writer may open a transaction... */
    if (rc[0] == 0) {           /* ...but not add a sample in it */
        rc[0] = put(st, "rt", "force/v", 7, 7, NULL, &dup);
        if (sr_store_commit(st) != 0)
            sr_store_rollback(st);
    }
    rc[1] = sr_store_define_metric(st, "new_metric", SR_KIND_GAUGE);
    rc[2] = sr_store_retain(st, 1000000, &deleted);
    rc[3] = sr_store_source_put(st, &h);
    rc[4] = put(st, "rt", "force/v", 8, 8, NULL, &dup);
    sr_alert al;
    sr_alert_init(&al, "p", "rt", 8 * SR_MS_HOUR, "force/a");
    rc[5] = sr_store_alert_put(st, &al);
}

Test(store, a_viewer_handle_writes_only_acks_and_audit)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a", 1000, 5, NULL, &dup), 0);
    sr_alert al;
    cr_assert_eq(sr_alert_init(&al, "p", "rt", 8 * SR_MS_HOUR, "force/a"), 0);
    al.state = SR_ALERT_ACTIVE;
    al.severity = SR_STATUS_WARN;
    al.raised_at_ms = 1000;
    cr_assert_eq(sr_store_alert_put(st, &al), 0);
    cr_assert_eq(sr_store_commit(st), 0);

    /* the screen's handle: nothing at all */
    sr_store *ro = NULL, *vw = NULL;
    char err[256] = "";
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &ro, err, sizeof err), 0, "%s", err);
    int rc[6];
    try_every_write(ro, rc);
    for (int i = 0; i < 6; i++)
        cr_assert_neq(rc[i], 0, "read-only write %d succeeded", i);
    sr_audit_row row = {.at_ms = 2000, .user = "ann", .role = "default", .action = "acknowledge"};
    cr_assert_eq(sr_store_audit_add(ro, &row), SR_EINVAL);
    cr_assert_eq(sr_store_alert_ack(ro, al.key, "ann", "seen", 2000), SR_EINVAL);

    /* the viewer's writer: acknowledgements, silences and audit rows only */
    cr_assert_eq(sr_store_open(db, SR_STORE_VIEWER, &vw, err, sizeof err), 0, "%s", err);
    try_every_write(vw, rc);
    for (int i = 0; i < 6; i++)
        cr_assert_neq(rc[i], 0, "viewer write %d succeeded", i);
    cr_assert_eq(sr_store_alert_ack(vw, al.key, "ann", "seen", 2000), 0);
    cr_assert_eq(sr_store_alert_silence(vw, al.key, NULL, 9000, 2500), 0);
    cr_assert_eq(sr_store_audit_add(vw, &row), 0);
    sr_store_close(vw);
    sr_store_close(ro);
    sr_store_close(st);

    cr_assert_eq(sql_count("SELECT count(*) FROM sample"), 1);
    cr_assert_eq(sql_count("SELECT count(*) FROM metric WHERE name = 'new_metric'"), 0);
    cr_assert_eq(sql_count("SELECT count(*) FROM source"), 0);
    cr_assert_eq(sql_count("SELECT count(*) FROM alert"), 1);
    cr_assert_eq(sql_count("SELECT count(*) FROM alert WHERE acked_by = 'ann' AND "
                           "silenced_until = 9000"),
                 1);
    cr_assert_eq(sql_count("SELECT count(*) FROM audit"), 1);
}

Test(store, a_viewer_handle_neither_creates_nor_migrates)
{
    sr_store *st = NULL;
    char err[256] = "";
    cr_assert_neq(sr_store_open(db, SR_STORE_VIEWER, &st, err, sizeof err), 0);
    cr_assert_null(st);
    cr_assert_neq(access(db, F_OK), 0, "a viewer created the cache");
    st = open_rw();
    sr_store_close(st);
    cr_assert_eq(raw_exec("PRAGMA user_version = 5", err, sizeof err), SQLITE_OK, "%s", err);
    cr_assert_eq(sr_store_open(db, SR_STORE_VIEWER, &st, err, sizeof err), SR_EVERSION);
    cr_assert(strstr(err, "run the collector first"), "%s", err);
    cr_assert_eq(sql_count("PRAGMA user_version"), 5);
}

Test(store, migrates_v5_to_the_audit_table)
{
    /* a v5 cache: today's schema without the audit table, at version 5 */
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a", 1000, 5, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
    char err[256];
    cr_assert_eq(raw_exec("ALTER TABLE metric DROP COLUMN changes; DROP INDEX rollup_stamp; "
                          "DROP TABLE memo; DROP TABLE touch; ALTER TABLE rollup DROP COLUMN vals; "
                          "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; "
                          "DROP TABLE audit; DROP TABLE alert; PRAGMA user_version = 5;",
                          err, sizeof err),
                 SQLITE_OK, "%s", err);
    cr_assert_eq(sql_count("SELECT count(*) FROM sqlite_master WHERE name = 'audit'"), 0);

    st = open_rw();
    /* v8: the change counters, from 0 */
    cr_assert_eq(sql_count("SELECT changes FROM metric WHERE name = 'rt'"), 0);
    int v;
    cr_assert_eq(sr_store_schema_version(st, &v), 0);
    cr_assert_eq(v, SR_STORE_SCHEMA);
    sr_audit_row a = {.at_ms = 5, .user = "ann", .role = "default", .action = "acknowledge"};
    cr_assert_eq(sr_store_audit_add(st, &a), 0);
    sr_store_close(st);
    cr_assert_eq(sql_count("SELECT count(*) FROM sample"), 1);
    cr_assert_eq(sql_count("SELECT count(*) FROM audit"), 1);
    cr_assert_neq(raw_exec("DELETE FROM audit", err, sizeof err), SQLITE_OK);
}

/* A viewer's refresh adds the entities another process created, keeps the
 * ones it knew (the same path pointers: borrowed until close), and finds
 * nothing to add when nothing was created. */
Test(store, a_viewer_refresh_adds_only_new_entities)
{
    sr_store *st = open_rw(), *ro = NULL;
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a", 1000, 5, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    char err[256];
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &ro, err, sizeof err), 0, "%s", err);
    int64_t a, b;
    cr_assert_eq(sr_store_entity_id(ro, "force/a", &a), 0);
    const char *pa = sr_store_entity_path(ro, a);
    cr_assert_eq(sr_store_entity_id(ro, "force/b", &b), SR_ENOENT);
    int64_t limit = sr_store_entity_limit(ro);

    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a", 2000, 6, NULL, &dup), 0); /* data, no entity */
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sr_store_refresh(ro), 0);
    cr_assert_eq(sr_store_entity_limit(ro), limit);

    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/b/u9", 3000, 7, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sr_store_refresh(ro), 0);
    cr_assert_eq(sr_store_entity_id(ro, "force/b/u9", &b), 0);
    cr_assert_str_eq(sr_store_entity_path(ro, b), "force/b/u9");
    cr_assert_eq(sr_store_entity_limit(ro), limit + 2); /* force/b and force/b/u9 */
    cr_assert_eq(sr_store_entity_path(ro, a), pa, "a known path was replaced");
    cr_assert_str_eq(pa, "force/a");
    sr_store_close(ro);
    sr_store_close(st);
}

/* The cache's own name is never followed as a symbolic link (its folder may
 * be shared with hostile users), but a link among the folders above it is
 * the owners' business and works. */
Test(store, a_linked_cache_is_refused_a_linked_folder_is_not)
{
    char real[300], link_dir[300], via[400], target[400], linked[400];
    snprintf(real, sizeof real, "%s/real", dir);
    cr_assert_eq(mkdir(real, 0700), 0);
    snprintf(link_dir, sizeof link_dir, "%s/via", dir);
    cr_assert_eq(symlink(real, link_dir), 0);
    snprintf(via, sizeof via, "%s/cache.db", link_dir);
    sr_store *st = NULL;
    char err[256] = "";
    cr_assert_eq(sr_store_open(via, 0, &st, err, sizeof err), 0, "%s", err);
    sr_store_close(st);

    snprintf(target, sizeof target, "%s/cache.db", real);
    snprintf(linked, sizeof linked, "%s/linked.db", real);
    cr_assert_eq(symlink(target, linked), 0);
    st = NULL;
    cr_assert_neq(sr_store_open(linked, SR_STORE_READONLY, &st, err, sizeof err), 0);
    cr_assert_null(st);
    snprintf(linked, sizeof linked, "%s/linked.db", link_dir);
    cr_assert_neq(sr_store_open(linked, 0, &st, err, sizeof err), 0);
    cr_assert_null(st);
}

/* A reader that comes while the collector is creating the cache finds an
 * empty file: busy (try again), not an old cache to migrate. */
Test(store, a_reader_on_an_empty_file_is_told_to_wait)
{
    th_write_file(db, "");
    sr_store *st = NULL;
    char err[256] = "";
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &st, err, sizeof err), SR_EBUSY, "%s", err);
    cr_assert_null(st);
    st = open_rw();
    sr_store_close(st);
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &st, err, sizeof err), 0, "%s", err);
    sr_store_close(st);
}

/* The metrics sr_store_changes() reported, as "a,b," in call order. */
static void collect_changed(void *ctx, const char *metric)
{
    char *buf = ctx;
    strcat(buf, metric);
    strcat(buf, ",");
}

/* A child process commits one sample of metric (or, with metric NULL, only
 * a source's status row) through a handle of its own: another connection,
 * as a collector is to a viewer. */
static void commit_in_child(const char *metric, sr_ms ts)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        sr_store *w = NULL;
        if (sr_store_open(db, 0, &w, NULL, 0) || sr_store_begin(w))
            _exit(1);
        bool dup;
        sr_source_health h = {.name = "feed", .type = "csv", .last_poll_ms = ts};
        int rc =
            metric ? put(w, metric, "force/a/u1", ts, 3, NULL, &dup) : sr_store_source_put(w, &h);
        _exit(rc || sr_store_commit(w) ? 1 : 0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's commit failed");
}

Test(store, changes_name_the_metrics_a_commit_touched)
{
    sr_store_close(open_rw());
    sr_store *r = NULL;
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &r, NULL, 0), 0);
    char got[256] = "";
    int64_t v0, v1;
    cr_assert_eq(sr_store_data_version(r, &v0), 0);

    /* samples of rt: rt alone moved */
    commit_in_child("rt", 1000);
    cr_assert_eq(sr_store_data_version(r, &v1), 0);
    cr_assert_neq(v0, v1);
    cr_assert_eq(sr_store_changes(r, collect_changed, got), 0);
    cr_assert_str_eq(got, "rt,");

    /* nothing since: none, in one statement */
    got[0] = 0;
    int64_t n0 = sr_store_statements(r);
    cr_assert_eq(sr_store_changes(r, collect_changed, got), 0);
    cr_assert_str_eq(got, "");
    cr_assert_eq(sr_store_statements(r) - n0, 1);

    /* an empty poll (a status row alone) moves data_version, no metric */
    commit_in_child(NULL, 2000);
    cr_assert_eq(sr_store_data_version(r, &v0), 0);
    cr_assert_neq(v0, v1);
    cr_assert_eq(sr_store_changes(r, collect_changed, got), 0);
    cr_assert_str_eq(got, "");

    /* a duplicate stores nothing: no change either */
    commit_in_child("rt", 1000);
    cr_assert_eq(sr_store_changes(r, collect_changed, got), 0);
    cr_assert_str_eq(got, "");

    /* two commits of ot and one of open: each once */
    commit_in_child("ot", 3000);
    commit_in_child("ot", 4000);
    commit_in_child("open", 4000);
    cr_assert_eq(sr_store_changes(r, collect_changed, got), 0);
    cr_assert_str_eq(got, "open,ot,");
    sr_store_close(r);
}

Test(store, changes_follow_rollback_retention_and_new_metrics)
{
    sr_store *w = open_rw();
    sr_store *r = NULL;
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &r, NULL, 0), 0);
    char got[256] = "";
    bool dup;
    /* a rolled-back batch changed nothing */
    cr_assert_eq(sr_store_begin(w), 0);
    cr_assert_eq(put(w, "rt", "force/a/u1", 1000, 5, NULL, &dup), 0);
    sr_store_rollback(w);
    cr_assert_eq(sr_store_changes(r, collect_changed, got), 0);
    cr_assert_str_eq(got, "");
    cr_assert_eq(sr_store_begin(w), 0);
    cr_assert_eq(put(w, "ot", "force/a/u1", 1000, 5, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(w), 0);
    /* retention that deletes samples of ot alone */
    int64_t deleted;
    cr_assert_eq(sr_store_retain(w, 2000, &deleted), 0);
    cr_assert_eq(deleted, 1);
    cr_assert_eq(sr_store_changes(r, collect_changed, got), 0);
    cr_assert_str_eq(got, "ot,");
    /* retention that deletes nothing */
    got[0] = 0;
    cr_assert_eq(sr_store_retain(w, 2000, &deleted), 0);
    cr_assert_eq(sr_store_changes(r, collect_changed, got), 0);
    cr_assert_str_eq(got, "");
    /* a metric defined since: reported, so a panel waiting for it is computed */
    cr_assert_eq(sr_store_define_metric(w, "calls", SR_KIND_EVENT), 0);
    cr_assert_eq(sr_store_changes(r, collect_changed, got), 0);
    cr_assert_str_eq(got, "calls,");
    sr_store_close(r);
    sr_store_close(w);
}

/* ---- an event cell's observations (schema 9) ---- */

typedef struct {
    double v[64];
    size_t n;
    int64_t cells;
} values_seen;

static int values_cb(void *ctx, const sr_rollup_cell *c)
{
    values_seen *x = ctx;
    x->cells++;
    double *v = NULL;
    size_t cap = 0, n;
    cr_assert_eq(sr_rollup_values(c, &v, &cap, &n), 0);
    cr_assert_eq((int64_t)n, c->n, "a cell carries every observation");
    for (size_t i = 0; i < n && x->n < 64; i++)
        x->v[x->n++] = v[i];
    free(v);
    return 0;
}

/* The values of (rt, node) in the hour at T: sorted as stored. */
static values_seen cell_values(sr_store *st, const char *node, sr_ms t)
{
    int64_t metric, id;
    cr_assert_eq(sr_store_metric_id(st, "rt", &metric), 0);
    cr_assert_eq(sr_store_entity_id(st, node, &id), 0);
    values_seen x = {.n = 0};
    cr_assert_eq(
        sr_store_scan_rollup(st, metric, id, t, t + SR_MS_HOUR, SR_SCAN_VALUES, values_cb, &x), 0);
    return x;
}

Test(store, event_cells_keep_their_observations_sorted)
{
    sr_store *st = open_rw();
    static const struct {
        const char *e;
        double v;
    } s[] = {{"force/a/u1", 30}, {"force/b/u3", -2}, {"force/a/u2", 7},  {"force/a/u1", 0},
             {"force/a/u1", 7},  {"force/b/u3", 99}, {"force/a/u2", 1.5}};
    /* three batches into the same hour: the stored values are merged */
    bool dup;
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        if (i % 3 == 0)
            cr_assert_eq(sr_store_begin(st), 0);
        cr_assert_eq(put(st, "rt", s[i].e, 3600000 + (sr_ms)i * 1000, s[i].v, NULL, &dup), 0);
        if (i % 3 == 2 || i + 1 == sizeof s / sizeof s[0])
            cr_assert_eq(sr_store_commit(st), 0);
    }
    static const struct {
        const char *node;
        double want[8];
        size_t n;
    } w[] = {{"", {-2, 0, 1.5, 7, 7, 30, 99}, 7},
             {"force/a", {0, 1.5, 7, 7, 30}, 5},
             {"force/a/u1", {0, 7, 30}, 3},
             {"force/b/u3", {-2, 99}, 2}};
    for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
        values_seen x = cell_values(st, w[k].node, 3600000);
        cr_assert_eq(x.cells, 1);
        cr_assert_eq(x.n, w[k].n, "%s", w[k].node);
        for (size_t i = 0; i < x.n; i++)
            cr_assert_eq(x.v[i], w[k].want[i], "%s [%zu]", w[k].node, i);
    }
    /* values that are no decimal fraction are kept bit for bit too */
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a/u1", 7200000, 1.0 / 3, NULL, &dup), 0);
    cr_assert_eq(put(st, "rt", "force/a/u1", 7201000, -1e14 / 3, NULL, &dup), 0);
    cr_assert_eq(put(st, "rt", "force/a/u1", 7202000, 123456.789, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    values_seen x = cell_values(st, "force/a", 7200000);
    cr_assert_eq(x.n, 3);
    cr_assert_eq(x.v[0], -1e14 / 3);
    cr_assert_eq(x.v[1], 1.0 / 3);
    cr_assert_eq(x.v[2], 123456.789);
    /* counters and gauges keep none */
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "ot", "force/a/u1", 3600000, 4, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    cr_assert_eq(sql_count("SELECT count(*) FROM rollup r JOIN metric m ON m.id = r.metric "
                           "WHERE m.name = 'ot' AND r.vals IS NOT NULL"),
                 0);
    sr_store_close(st);
}

/* Every value of a cell, however many (values_seen keeps 64). */
typedef struct {
    double *v;
    size_t n, cap;
    int64_t cells;
} all_values;

static int all_values_cb(void *ctx, const sr_rollup_cell *c)
{
    all_values *x = ctx;
    x->cells++;
    return sr_rollup_values(c, &x->v, &x->cap, &x->n);
}

static int cmp_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t negative_zeros(const double *v, size_t n)
{
    size_t z = 0;
    for (size_t i = 0; i < n; i++)
        z += v[i] == 0 && signbit(v[i]);
    return z;
}

Test(store, upper_cells_hold_their_subtrees_values_sorted_over_batches_and_late_data)
{
    /* leaves, an entity with samples of its own below others (force/a), and
     * one (force/b/u5) with a child: enough values a cell that an upper
     * level merges long sorted runs, three batches, the last one late */
    static const char *const ent[] = {"force/a/u1", "force/a/u2", "force/a/u3",  "force/a",
                                      "force/b/u4", "force/b/u5", "force/b/u5/x"};
    enum { NE = sizeof ent / sizeof *ent, NS = 1800, HOURS = 3 };
    static const char *const node[] = {"",           "force",       "force/a",    "force/b",
                                       "force/a/u1", "force/a/u2",  "force/a/u3", "force/b/u4",
                                       "force/b/u5", "force/b/u5/x"};
    static struct {
        int e, hour;
        double v;
    } s[NS];
    uint64_t seed = 5;
    sr_store *st = open_rw();
    bool dup;
    for (int i = 0; i < NS; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = seed >> 33;
        int batch = i / (NS / 3);
        s[i].e = (int)(r % NE);
        s[i].hour = batch == 2 ? (int)(r / 7 % HOURS) : 1 + (int)(r / 7 % 2);
        s[i].v = r % 20 == 0 ? (r & 64 ? -0.0 : 0.0) : (double)(r / 131 % 30000) / 10 - 100;
        if (i % (NS / 3) == 0)
            cr_assert_eq(sr_store_begin(st), 0);
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        sr_ms ts = (sr_ms)s[i].hour * SR_MS_HOUR + (sr_ms)(i % (NS / 3)) * 1000;
        cr_assert_eq(put(st, "rt", ent[s[i].e], ts, s[i].v, key, &dup), 0);
        cr_assert(!dup);
        if (i % (NS / 3) == NS / 3 - 1)
            cr_assert_eq(sr_store_commit(st), 0);
    }
    int64_t metric;
    cr_assert_eq(sr_store_metric_id(st, "rt", &metric), 0);
    double *want = malloc(NS * sizeof *want);
    cr_assert_not_null(want);
    for (size_t k = 0; k < sizeof node / sizeof *node; k++) {
        size_t len = strlen(node[k]);
        int64_t id;
        cr_assert_eq(sr_store_entity_id(st, node[k], &id), 0);
        for (int h = 0; h < HOURS; h++) {
            size_t n = 0;
            for (int i = 0; i < NS; i++) {
                const char *e = ent[s[i].e];
                if (s[i].hour == h &&
                    (!len || (strncmp(e, node[k], len) == 0 && (!e[len] || e[len] == '/'))))
                    want[n++] = s[i].v;
            }
            qsort(want, n, sizeof *want, cmp_value);
            all_values x = {0};
            cr_assert_eq(sr_store_scan_rollup(st, metric, id, (sr_ms)h * SR_MS_HOUR,
                                              (sr_ms)(h + 1) * SR_MS_HOUR, SR_SCAN_VALUES,
                                              all_values_cb, &x),
                         0);
            cr_assert_eq(x.cells, n > 0, "'%s' hour %d", node[k], h);
            cr_assert_eq(x.n, n, "'%s' hour %d: %zu values, want %zu", node[k], h, x.n, n);
            for (size_t i = 0; i < n; i++)
                cr_assert_eq(x.v[i], want[i], "'%s' hour %d [%zu]", node[k], h, i);
            cr_assert_eq(negative_zeros(x.v, n), negative_zeros(want, n), "'%s' hour %d", node[k],
                         h);
            free(x.v);
        }
    }
    free(want);
    sr_store_close(st);
}

Test(store, migrates_v8_by_giving_every_event_cell_its_observations)
{
    sr_store *st = open_rw();
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(put(st, "rt", "force/a/u1", 3600000, 5, NULL, &dup), 0);
    cr_assert_eq(put(st, "rt", "force/a/u2", 3601000, 3, NULL, &dup), 0);
    cr_assert_eq(put(st, "rt", "force/a/u2", 7300000, 8, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_store_close(st);
    char err[256];
    cr_assert_eq(raw_exec("DROP TABLE memo; DROP TABLE touch; DROP INDEX rollup_stamp; ALTER TABLE "
                          "rollup DROP COLUMN vals; ALTER TABLE alert DROP COLUMN kind; "
                          "ALTER TABLE alert DROP COLUMN band_low; "
                          "ALTER TABLE alert DROP COLUMN band_high; "
                          "ALTER TABLE alert DROP COLUMN side; PRAGMA user_version = 8;",
                          err, sizeof err),
                 SQLITE_OK, "%s", err);
    st = open_rw();
    cr_assert_eq(sql_count("PRAGMA user_version"), SR_STORE_SCHEMA);
    values_seen x = cell_values(st, "force", 3600000);
    cr_assert_eq(x.n, 2);
    cr_assert_eq(x.v[0], 3);
    cr_assert_eq(x.v[1], 5);
    x = cell_values(st, "force/a/u2", 7200000);
    cr_assert_eq(x.n, 1);
    cr_assert_eq(x.v[0], 8);
    cr_assert_eq(sql_count("SELECT count(*) FROM rollup WHERE vals IS NULL"), 0);
    sr_store_close(st);
}

Test(store, a_subtree_mask_marks_exactly_the_entities_under_a_node)
{
    sr_store *st = open_rw();
    cr_assert_eq(sr_store_define_metric(st, "rt", SR_KIND_EVENT), 0);
    static const char *const paths[] = {"f/b/u2", "f/a/u1", "g/x", "f/a/u3", "f/b", "g/x/y/z"};
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        cr_assert_eq(put(st, "rt", paths[i], 1000 + (sr_ms)i, 1, NULL, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    int64_t limit = sr_store_entity_limit(st);
    for (int64_t node = 0; node < limit; node++) {
        if (node != SR_ENTITY_ROOT && !sr_store_entity_path(st, node))
            continue;
        unsigned char *m;
        int64_t n;
        cr_assert_eq(sr_store_subtree_mask(st, node, &m, &n), 0);
        cr_assert_eq(n, limit);
        for (int64_t e = 1; e < n; e++)
            cr_assert_eq(m[e] != 0, sr_store_entity_under(st, e, node), "node %lld entity %s",
                         (long long)node, sr_store_entity_path(st, e));
        free(m);
    }
    int64_t f, fa, u3;
    cr_assert_eq(sr_store_entity_id(st, "f", &f), 0);
    cr_assert_eq(sr_store_entity_id(st, "f/a", &fa), 0);
    cr_assert_eq(sr_store_entity_id(st, "f/a/u3", &u3), 0);
    unsigned char *m;
    int64_t n;
    cr_assert_eq(sr_store_subtree_mask(st, fa, &m, &n), 0);
    int marked = 0;
    for (int64_t e = 1; e < n; e++)
        marked += m[e];
    cr_assert_eq(marked, 3, "f/a, f/a/u1, f/a/u3");
    cr_assert(m[u3] && !m[f]);
    free(m);
    sr_store_close(st);
}
