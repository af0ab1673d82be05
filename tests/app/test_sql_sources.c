/*
 * test_sql_sources.c - the sqlite adapter end to end through the sitrep
 * binary: `collect --once` reads a real SQLite file, `query` aggregates
 * what it stored, `rejects` shows the row with a NULL, a second collector
 * run (a restart: the cursor starts over) stores nothing twice, and a
 * source whose file is missing makes `collect --once` exit 1 naming it.
 */
#include <criterion/criterion.h>

#include <sqlite3.h>

#include "../helpers.h"

/* a fresh folder for each test, dir */
TH_TEMPDIR_SUITE(sql_sources, dir);

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void src_exec(const char *sql)
{
    char path[300];
    path_in(path, sizeof path, "cad.db");
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    sqlite3_close(db);
}

static const char config[] = "[sitrep]\n"
                             "cache = cache.db\n"
                             "timezone = Europe/London\n"
                             "[metric.response_p1]\n"
                             "kind = event\n"
                             "unit = s\n"
                             "[metric.response_p2]\n"
                             "kind = event\n"
                             "unit = s\n"
                             "[adapter.cad]\n"
                             "type = sqlite\n"
                             "path = cad.db\n"
                             "query = SELECT id, queued, arrived, unit, prio FROM incidents\n"
                             "  WHERE id > :last ORDER BY id\n"
                             "cursor = id\n"
                             "max_rows = 2\n"
                             "metric = response_p{prio}\n"
                             "entity = force/{unit}\n"
                             "time = queued\n"
                             "time_format = %Y-%m-%d %H:%M:%S\n"
                             "value = duration(queued, arrived)\n"
                             "key = cad-{id}\n";

static char *run(int want, char *const argv[])
{
    char *out = NULL, *err = NULL;
    int rc = th_run(NULL, argv, &out, &err);
    cr_assert_eq(rc, want, "sitrep %s exited %d (want %d)\nstdout: %s\nstderr: %s", argv[0], rc,
                 want, out, err);
    free(err);
    return out;
}

static void expect_query(const char *cfg, const char *metric, const char *want)
{
    char *argv[] = {"query",      (char *)metric, "--config",   (char *)cfg, "--from",
                    "2024-03-01", "--to",         "2024-04-01", "--agg",     "count",
                    "--format",   "csv",          NULL};
    char *out = run(0, argv);
    cr_assert_str_eq(out, want, "sitrep query %s", metric);
    free(out);
}

Test(sql_sources, collect_once_then_query_and_rejects)
{
    char cfg[300];
    path_in(cfg, sizeof cfg, "sitrep.ini");
    th_write_file(cfg, config);
    src_exec("CREATE TABLE incidents (id INTEGER PRIMARY KEY, queued TEXT, arrived TEXT, "
             "unit TEXT, prio INTEGER)");
    /* local times in London (GMT in March before the change) */
    src_exec("INSERT INTO incidents VALUES "
             "(1, '2024-03-06 10:00:00', '2024-03-06 10:09:30', 'north/u1', 1),"
             "(2, '2024-03-06 10:05:00', '2024-03-06 10:35:00', 'north/u2', 2),"
             "(3, '2024-03-06 11:00:00', NULL, 'south/u3', 1),"
             "(4, '2024-03-06 12:00:00', '2024-03-06 12:12:00', 'south/u4', 1),"
             "(5, '2024-03-06 13:00:00', '2024-03-06 13:20:00', 'south/u4', 2)");

    char *collect[] = {"collect", "--once", "--config", cfg, NULL};
    char *out = run(0, collect);
    free(out);
    expect_query(cfg, "response_p1", "entity,agg,value,n\n,count,2,2\n");
    expect_query(cfg, "response_p2", "entity,agg,value,n\n,count,2,2\n");

    char *max[] = {"query",      "response_p1", "--config",   cfg,     "--from",
                   "2024-03-01", "--to",        "2024-04-01", "--agg", "max",
                   "--format",   "csv",         NULL};
    out = run(0, max);
    cr_assert_str_eq(out, "entity,agg,value,n\n,max,720,2\n", "12 minutes for incident 4");
    free(out);

    char *rejects[] = {"rejects", "--source", "cad", "--config", cfg, NULL};
    out = run(0, rejects);
    cr_assert(strstr(out, "id=3") && strstr(out, "arrived"), "the NULL row is kept:\n%s", out);
    free(out);

    /* a new run starts the cursor over: nothing is stored twice, new rows come in */
    src_exec("INSERT INTO incidents VALUES "
             "(6, '2024-03-06 14:00:00', '2024-03-06 14:08:00', 'north/u1', 1)");
    out = run(0, collect);
    free(out);
    expect_query(cfg, "response_p1", "entity,agg,value,n\n,count,3,3\n");
    expect_query(cfg, "response_p2", "entity,agg,value,n\n,count,2,2\n");
}

Test(sql_sources, a_missing_database_fails_collect_once)
{
    char cfg[300];
    path_in(cfg, sizeof cfg, "sitrep.ini");
    th_write_file(cfg, config);
    char *collect[] = {"collect", "--once", "--config", cfg, NULL};
    char *out = NULL, *err = NULL;
    int rc = th_run(NULL, collect, &out, &err);
    cr_assert_eq(rc, 1, "exit %d\n%s%s", rc, out, err);
    cr_assert(strstr(out, "cad.db") || strstr(err, "cad.db"), "names the file:\n%s%s", out, err);
    free(out);
    free(err);
    char *sources[] = {"sources", "--config", cfg, NULL};
    out = run(0, sources);
    cr_assert(strstr(out, "cannot open"), "the error is kept:\n%s", out);
    free(out);
}
