/*
 * test_sqlite.c - the sqlite adapter (adapters/sqlite.c with the shared
 * adapters/sql.c) against real SQLite files made by each test: rows and
 * their samples, the cursor (new rows only, ties never split, max_rows
 * chunks, a poll that was not committed is read again), SQL NULL, the
 * read-only guarantees, a slow query stopped at the budget, a locked
 * database, a file that appears later, and option checks.
 */
#include <criterion/criterion.h>

#include <sqlite3.h>
#include <time.h>

#include "../../adapters/adapter.h"
#include "../../adapters/sql.h"
#include "../helpers.h"
#include "mock.h"

extern const sr_adapter sr_adapter_sqlite;

#define T0 1709683200000LL /* 2024-03-06T00:00:00Z */

static char dir[256], db_path[300];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    snprintf(db_path, sizeof db_path, "%s/src.db", dir);
}

static void teardown(void)
{
    th_rmtree(dir);
}

TestSuite(sqlite, .init = setup, .fini = teardown);

/* Runs SQL against the source database (read-write, as its owner would). */
static void src_exec(const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_close(db);
}

static long long src_count(void)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM incidents", -1, &st, NULL), 0);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* incidents(id, queued ISO text, unit, prio, secs) with rows ids from..to
 * queued a minute apart, secs = 100 * id. */
static void src_rows(int from, int to)
{
    char sql[256];
    for (int id = from; id <= to; id++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO incidents VALUES (%d, '2024-03-06T00:%02d:00Z', 'u%d', %d, %d)", id,
                 id % 60, id % 3, 1 + id % 2, 100 * id);
        src_exec(sql);
    }
}

static void src_create(void)
{
    src_exec("CREATE TABLE incidents (id INTEGER PRIMARY KEY, queued TEXT, unit TEXT, "
             "prio INTEGER, secs REAL)");
}

#define QUERY                                                                                      \
    "query = SELECT id, queued, unit, prio, secs FROM incidents WHERE id > :last ORDER BY id"
#define MAPPING                                                                                    \
    "metric = response_p{prio}", "entity = force/{unit}", "time = queued", "value = secs",         \
        "key = cad-{id}"

static void *open_ok(const sr_ad_options *opts)
{
    void *state = NULL;
    char err[512] = "";
    cr_assert_eq(sr_adapter_sqlite.open(opts, &state, err, sizeof err), 0, "open: %s", err);
    cr_assert_not_null(state);
    return state;
}

#define OPEN(o, ...) open_ok(MOCK_OPTS((o), "cad", dir, "path = src.db", __VA_ARGS__))

/* One poll as the collector makes it; returns its result, err kept. */
static int poll_at(void *state, sr_poll_info *info, int64_t since, int64_t timeout, mock_sink *sink,
                   char *err, size_t errlen)
{
    static int64_t now = T0 + 3600000;
    *info = (sr_poll_info){.now_ms = now, .since_ms = since, .timeout_ms = timeout};
    now += 1000;
    err[0] = '\0';
    return sr_adapter_sqlite.poll(state, info, &sink->sink, err, errlen);
}

/* A poll that must succeed; returns the cursor the collector would store. */
static int64_t poll_ok(void *state, int64_t since, mock_sink *sink, int *more)
{
    sr_poll_info info;
    char err[512];
    int rc = poll_at(state, &info, since, 5000, sink, err, sizeof err);
    cr_assert_eq(rc, 0, "poll: %s", err);
    cr_assert_gt(info.cursor_ms, since, "the cursor must move on");
    if (more)
        *more = info.more;
    return info.cursor_ms;
}

static int poll_fails(void *state, int64_t timeout, mock_sink *sink, char *err, size_t errlen)
{
    sr_poll_info info;
    int rc = poll_at(state, &info, 0, timeout, sink, err, errlen);
    cr_assert_lt(rc, 0, "the poll should fail");
    cr_assert_neq(err[0], '\0', "a failing poll says why");
    return rc;
}

Test(sqlite, rows_become_samples_and_the_cursor_reads_new_rows_only)
{
    src_create();
    src_rows(1, 3);
    mock_options o;
    void *st = OPEN(&o, QUERY, "cursor = id", MAPPING);
    mock_sink k;
    mock_sink_init(&k);

    int more = -1;
    int64_t c1 = poll_ok(st, 0, &k, &more);
    cr_assert_eq(more, 0);
    cr_assert_eq(k.n, 3, "3 rows, got %zu samples (%zu rejects)", k.n, k.nr);
    cr_assert_str_eq(k.s[0].metric, "response_p2");
    cr_assert_str_eq(k.s[0].entity, "force/u1");
    cr_assert_eq(k.s[0].ts_ms, T0 + 60000);
    cr_assert_float_eq(k.s[0].value, 100.0, 1e-9);
    cr_assert_str_eq(k.s[0].key, "cad-1");
    cr_assert_str_eq(k.s[2].metric, "response_p2");
    cr_assert_str_eq(k.s[2].key, "cad-3");
    cr_assert_float_eq(k.s[2].value, 300.0, 1e-9);

    int64_t c2 = poll_ok(st, c1, &k, NULL);
    cr_assert_eq(k.n, 3, "nothing new: no sample");

    src_rows(4, 5);
    poll_ok(st, c2, &k, NULL);
    cr_assert_eq(k.n, 5, "only the two new rows, got %zu", k.n);
    cr_assert_str_eq(k.s[3].key, "cad-4");
    cr_assert_str_eq(k.s[4].key, "cad-5");
    cr_assert_eq(k.nr, 0);
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, a_poll_the_collector_did_not_commit_is_read_again)
{
    src_create();
    src_rows(1, 2);
    mock_options o;
    void *st = OPEN(&o, QUERY, "cursor = id", MAPPING);
    mock_sink k;
    mock_sink_init(&k);
    int64_t c1 = poll_ok(st, 0, &k, NULL);
    src_rows(3, 4);
    poll_ok(st, c1, &k, NULL);
    cr_assert_eq(k.n, 4);
    /* that batch was not written: the collector hands the older cursor again */
    poll_ok(st, c1, &k, NULL);
    cr_assert_eq(k.n, 6, "rows 3 and 4 read again, got %zu samples", k.n);
    cr_assert_str_eq(k.s[4].key, "cad-3");
    cr_assert_str_eq(k.s[5].key, "cad-4");
    /* a cursor this adapter never reported (a restart): from cursor_start */
    poll_ok(st, 12345, &k, NULL);
    cr_assert_eq(k.n, 10);
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, sql_null_is_no_value_and_the_row_is_kept_as_a_reject)
{
    src_create();
    src_exec("INSERT INTO incidents VALUES (1, '2024-03-06T00:01:00Z', 'u1', 1, NULL),"
             "(2, '2024-03-06T00:02:00Z', NULL, 1, 20), (3, NULL, 'u3', 1, 30),"
             "(4, '2024-03-06T00:04:00Z', 'u4', 1, 40)");
    mock_options o;
    void *st = OPEN(&o, QUERY, "cursor = id", MAPPING);
    mock_sink k;
    mock_sink_init(&k);
    poll_ok(st, 0, &k, NULL);
    cr_assert_eq(k.n, 1, "only row 4 is whole, got %zu samples", k.n);
    cr_assert_str_eq(k.s[0].key, "cad-4");
    cr_assert_eq(k.nr, 3, "rows 1-3 rejected, got %zu", k.nr);
    cr_assert(strstr(k.r[0].reason, "secs"), "reason: %s", k.r[0].reason);
    cr_assert(strstr(k.r[0].where, "id=1"), "where: %s", k.r[0].where);
    cr_assert(strstr(k.r[0].raw, "secs=NULL"), "raw: %s", k.r[0].raw);
    cr_assert(strstr(k.r[0].raw, "unit=u1"), "raw: %s", k.r[0].raw);
    cr_assert(strstr(k.r[1].reason, "unit"), "reason: %s", k.r[1].reason);
    cr_assert(strstr(k.r[2].reason, "queued"), "reason: %s", k.r[2].reason);
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, max_rows_cuts_between_cursor_values_and_the_next_poll_goes_on)
{
    src_exec("CREATE TABLE incidents (id INTEGER PRIMARY KEY, batch INTEGER, secs REAL)");
    /* batches 1 1 2 2 2 3 4: ties must never be split */
    src_exec(
        "INSERT INTO incidents VALUES (1,1,1),(2,1,2),(3,2,3),(4,2,4),(5,2,5),(6,3,6),(7,4,7)");
    mock_options o;
    void *st = OPEN(&o,
                    "query = SELECT id, batch, secs FROM incidents WHERE batch > :last "
                    "ORDER BY batch",
                    "cursor = batch", "max_rows = 2", "metric = m", "entity = e", "value = secs",
                    "key = k{id}");
    mock_sink k;
    mock_sink_init(&k);
    int more;
    int64_t c = poll_ok(st, 0, &k, &more);
    cr_assert_eq(k.n, 2);
    cr_assert_eq(more, 1, "stopped after max_rows: more follows");
    c = poll_ok(st, c, &k, &more);
    cr_assert_eq(k.n, 5, "the three rows of batch 2 together, got %zu", k.n);
    cr_assert_eq(more, 1);
    c = poll_ok(st, c, &k, &more);
    cr_assert_eq(k.n, 7);
    cr_assert_eq(more, 0, "all read");
    for (size_t i = 0; i < k.n; i++)
        cr_assert_float_eq(k.s[i].value, (double)(i + 1), 1e-9, "row %zu once, in order", i);
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, a_cut_needs_rows_in_cursor_order_and_a_text_cursor_works)
{
    src_create();
    src_rows(1, 5);
    mock_options o;
    void *st = OPEN(&o, "query = SELECT * FROM incidents WHERE queued > :last ORDER BY queued DESC",
                    "cursor = queued", "cursor_start = 2024", "max_rows = 2", MAPPING);
    mock_sink k;
    mock_sink_init(&k);
    char err[512];
    poll_fails(st, 5000, &k, err, sizeof err);
    cr_assert(strstr(err, "ORDER BY queued"), "err: %s", err);
    sr_adapter_sqlite.close(st);

    st = OPEN(&o, "query = SELECT * FROM incidents WHERE queued > :last ORDER BY queued",
              "cursor = queued", "cursor_start = 2024", "max_rows = 3", MAPPING);
    mock_sink_fini(&k);
    mock_sink_init(&k);
    int more;
    int64_t c = poll_ok(st, 0, &k, &more);
    cr_assert_eq(k.n, 3);
    cr_assert_eq(more, 1);
    poll_ok(st, c, &k, &more);
    cr_assert_eq(k.n, 5, "a text cursor goes on from 00:03:00Z");
    cr_assert_eq(more, 0);
    cr_assert_str_eq(k.s[4].key, "cad-5");
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, without_a_cursor_every_poll_reads_everything_up_to_max_rows)
{
    src_create();
    src_rows(1, 3);
    mock_options o;
    void *st = OPEN(&o, "query = SELECT unit, count(*) AS n FROM incidents GROUP BY unit",
                    "metric = calls", "entity = force/{unit}", "value = n");
    mock_sink k;
    mock_sink_init(&k);
    int64_t c = poll_ok(st, 0, &k, NULL);
    poll_ok(st, c, &k, NULL);
    cr_assert_eq(k.n, 6, "three units, twice");
    sr_adapter_sqlite.close(st);

    st = OPEN(&o, "query = SELECT * FROM incidents", "max_rows = 2", MAPPING);
    char err[512];
    poll_fails(st, 5000, &k, err, sizeof err);
    cr_assert(strstr(err, "max_rows") && strstr(err, "cursor"), "err: %s", err);
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, since_ms_is_bound_as_the_collector_cursor)
{
    src_exec("CREATE TABLE incidents (id INTEGER, ts_ms INTEGER, secs REAL)");
    src_exec("INSERT INTO incidents VALUES (1, 1000, 10), (2, 2000, 20), (3, 3000, 30)");
    mock_options o;
    void *st = OPEN(&o, "query = SELECT * FROM incidents WHERE ts_ms > :since_ms", "metric = m",
                    "entity = e", "time = ts_ms", "time_format = epoch_ms", "value = secs");
    mock_sink k;
    mock_sink_init(&k);
    poll_ok(st, 1500, &k, NULL);
    cr_assert_eq(k.n, 2, "rows after 1500 ms, got %zu", k.n);
    cr_assert_eq(k.s[0].ts_ms, 2000);
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, the_database_is_only_read)
{
    src_create();
    src_rows(1, 3);
    static const char *const writes[] = {
        "query = DELETE FROM incidents",
        "query = INSERT INTO incidents (id) VALUES (99) RETURNING id",
        "query = SELECT * FROM incidents; DELETE FROM incidents",
        "query = UPDATE incidents SET secs = 0 RETURNING *",
        "query = ATTACH 'other.db' AS other",
        "query = PRAGMA journal_mode = WAL",
        "query = CREATE TABLE x AS SELECT * FROM incidents",
    };
    /* open() refuses each (so check-config does); the read-only
     * connection and its authorizer would refuse them at a poll too */
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        mock_options o;
        void *st = NULL;
        char err[512] = "";
        cr_assert_lt(sr_adapter_sqlite.open(MOCK_OPTS(&o, "cad", dir, "path = src.db", writes[i],
                                                      "metric = m", "entity = e", "value = 1"),
                                            &st, err, sizeof err),
                     0, "%s", writes[i]);
        cr_assert(strstr(err, "query:"), "%s: %s", writes[i], err);
    }
    cr_assert_eq(src_count(), 3, "nothing was written");
    char other[300];
    snprintf(other, sizeof other, "%s/other.db", dir);
    cr_assert_neq(access(other, F_OK), 0, "no file was created");
}

Test(sqlite, a_slow_query_is_stopped_at_the_budget)
{
    src_create();
    mock_options o;
    void *st = OPEN(&o,
                    "query = WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                    "SELECT x FROM c WHERE x < 0",
                    "metric = m", "entity = e", "value = x");
    mock_sink k;
    mock_sink_init(&k);
    char err[512];
    int64_t t0 = th_mono_ms();
    poll_fails(st, 300, &k, err, sizeof err);
    double took = (double)(th_mono_ms() - t0) / 1000;
    cr_assert(strstr(err, "budget"), "err: %s", err);
    cr_assert_lt(took, 1.0, "stopped soon after the budget, took %.3f s", took);
    cr_assert_gt(took, 0.2, "ran until the budget, took %.3f s", took);
    /* the connection is still good for the next poll */
    sr_adapter_sqlite.close(st);
    mock_sink_fini(&k);
}

Test(sqlite, a_locked_database_fails_the_poll_after_busy_timeout)
{
    src_create();
    src_rows(1, 2);
    sqlite3 *writer;
    cr_assert_eq(sqlite3_open(db_path, &writer), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(writer, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    mock_options o;
    void *st = OPEN(&o, QUERY, "cursor = id", "busy_timeout = 100ms", MAPPING);
    mock_sink k;
    mock_sink_init(&k);
    char err[512];
    poll_fails(st, 5000, &k, err, sizeof err);
    cr_assert(strstr(err, "lock"), "err: %s", err);
    cr_assert_eq(sqlite3_exec(writer, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(writer);
    poll_ok(st, 0, &k, NULL);
    cr_assert_eq(k.n, 2, "read once the writer is done");
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, a_missing_file_fails_each_poll_until_it_appears)
{
    mock_options o;
    void *st = OPEN(&o, QUERY, "cursor = id", MAPPING);
    mock_sink k;
    mock_sink_init(&k);
    char err[512];
    poll_fails(st, 5000, &k, err, sizeof err);
    cr_assert(strstr(err, "cannot open") && strstr(err, "src.db"), "err: %s", err);
    cr_assert_neq(access(db_path, F_OK), 0, "opening read-only creates no file");
    src_create();
    src_rows(1, 1);
    poll_ok(st, 0, &k, NULL);
    cr_assert_eq(k.n, 1);
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

static void open_fails(const char *want, const char *const *kv, size_t n)
{
    mock_options o;
    const sr_ad_options *opts = mock_opts(&o, "cad", dir, kv, n);
    void *state = NULL;
    char err[512] = "";
    cr_assert_lt(sr_adapter_sqlite.open(opts, &state, err, sizeof err), 0, "expected: %s", want);
    cr_assert_null(state);
    cr_assert(strstr(err, want), "error '%s' should mention '%s'", err, want);
}

#define FAILS(want, ...)                                                                           \
    open_fails((want), (const char *const[]){__VA_ARGS__},                                         \
               sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

Test(sqlite, bad_options_name_the_key)
{
    FAILS("path:", QUERY, MAPPING);
    FAILS("query:", "path = src.db", MAPPING);
    FAILS("cursor:", "path = src.db", "query = SELECT * FROM incidents", "cursor = id", MAPPING);
    FAILS("no cursor", "path = src.db", QUERY, MAPPING);
    FAILS(":nope", "path = src.db", "query = SELECT * FROM t WHERE a > :nope", MAPPING);
    FAILS("'?'", "path = src.db", "query = SELECT * FROM t WHERE a > ?", MAPPING);
    FAILS("'$x'", "path = src.db", "query = SELECT * FROM t WHERE a > $x", MAPPING);
    FAILS("max_rows:", "path = src.db", QUERY, "cursor = id", "max_rows = 0", MAPPING);
    FAILS("busy_timeout:", "path = src.db", QUERY, "cursor = id", "busy_timeout = soon", MAPPING);
    FAILS("metric", "path = src.db", QUERY, "cursor = id", "entity = e", "value = 1");
}

Test(sqlite, parameters_in_strings_and_comments_are_text)
{
    src_create();
    src_rows(1, 2);
    mock_options o;
    void *st = OPEN(&o,
                    "query = SELECT id, ':nope' AS t, \"unit\" AS \"u:x\", secs FROM incidents "
                    "/* :nope */ WHERE id > :last -- ? :nope",
                    "cursor = id", "metric = m{t}", "entity = e/{u:x}", "value = secs");
    mock_sink k;
    mock_sink_init(&k);
    poll_ok(st, 0, &k, NULL);
    cr_assert_eq(k.n, 2, "rejects: %zu %s", k.nr, k.nr ? k.r[0].reason : "");
    cr_assert_str_eq(k.s[0].metric, "m:nope");
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, a_result_without_a_mapped_column_fails_naming_it)
{
    src_create();
    src_rows(1, 1);
    mock_options o;
    void *st = OPEN(&o, "query = SELECT id, unit FROM incidents WHERE id > :last", "cursor = id",
                    "metric = m", "entity = e/{unit}", "value = secs");
    mock_sink k;
    mock_sink_init(&k);
    char err[512];
    poll_fails(st, 5000, &k, err, sizeof err);
    cr_assert(strstr(err, "secs"), "err: %s", err);
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}

Test(sqlite, a_sink_that_refuses_stops_the_poll_and_the_rows_come_again)
{
    src_create();
    src_rows(1, 4);
    mock_options o;
    void *st = OPEN(&o, QUERY, "cursor = id", MAPPING);
    mock_sink k;
    mock_sink_init(&k);
    k.refuse_after = 2;
    char err[512];
    poll_fails(st, 5000, &k, err, sizeof err);
    cr_assert(strstr(err, "sink"), "err: %s", err);
    k.refuse_after = -1;
    poll_ok(st, 0, &k, NULL);
    cr_assert_eq(k.n, 6, "2 before the refusal, then all 4 again: %zu", k.n);
    mock_sink_fini(&k);
    sr_adapter_sqlite.close(st);
}
