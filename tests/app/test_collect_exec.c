/*
 * End-to-end: exec sources through the real sitrep binary. `collect
 * --once` runs a command in each format and one that fails; `query` finds
 * the figures, `sources` the failing command's stderr, `rejects` the bad
 * lines; a second `collect --once` adds nothing twice; a poll that returns
 * nothing writes its source's status row and nothing else.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../helpers.h"

/* a fresh folder for each test, dir */
TH_TEMPDIR_SUITE(collect_exec, dir);

static void write_in(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    th_write_file(p, text);
}

static const char config[] =
    "[sitrep]\n"
    "cache = cache.db\n"
    "timezone = UTC\n"
    "[metric.rt]\n"
    "kind = event\n"
    "unit = s\n"
    "[metric.calls]\n"
    "kind = counter\n"
    "[metric.load]\n"
    "kind = gauge\n"
    "\n"
    "[adapter.lines]\n"
    "type = exec\n"
    "command = /bin/sh emit.sh\n"
    "timeout = 5s\n"
    "\n"
    "[adapter.table]\n"
    "type = exec\n"
    "format = csv\n"
    "command = printf \"unit,when,n\\nu1,2023-11-14T22:13:20Z,7\\nu2,2023-11-14T22:13:20Z,9\\n\"\n"
    "metric = load\n"
    "entity = force/b/{unit}\n"
    "time = when\n"
    "value = n\n"
    "\n"
    "[adapter.json]\n"
    "type = exec\n"
    "format = jsonl\n"
    "command = printf '{\"u\": \"u9\", \"t\": 1700000000, \"v\": 2}\\n{\"u\": \"u8\"}\\n'\n"
    "metric = load\n"
    "entity = force/c/{u}\n"
    "time = t\n"
    "value = v\n"
    "\n"
    "[adapter.broken]\n"
    "type = exec\n"
    "command = /bin/sh -c 'echo \"fetch: host unreachable\" >&2; exit 2'\n";

static char *run_ok(int want, char *const argv[])
{
    char *out, *err;
    int rc = th_run(NULL, argv, &out, &err);
    cr_assert_eq(rc, want, "%s: exit %d\n%s%s", argv[0], rc, out, err);
    free(err);
    return out;
}

static void query_is(const char *cfg, const char *metric, const char *want)
{
    char *argv[] = {"query", (char *)metric, "--config", (char *)cfg, "--entity", "force",
                    "--by",  "children",     "--agg",    "sum",       "--from",   "2023-11-14",
                    "--to",  "2023-11-15",   "--format", "csv",       NULL};
    char *out = run_ok(0, argv);
    cr_assert_str_eq(out, want, "query %s:\n%s", metric, out);
    free(out);
}

Test(collect_exec, every_format_then_query_sources_rejects)
{
    write_in("c.ini", config);
    write_in("emit.sh", "echo 'rt force/a/u1 5 1700000000'\n"
                        "echo 'rt force/a/u2 15 2023-11-14T22:14:20Z'\n"
                        "echo '# counted by hand'\n"
                        "echo 'calls force/a/u1 3 1700000000'\n"
                        "echo 'rt force/a/u3 fast 1700000000'\n");
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);

    char *check[] = {"check-config", "--config", cfg, NULL};
    free(run_ok(0, check));

    char *collect[] = {"collect", "--once", "--config", cfg, NULL};
    char *out = run_ok(1, collect);
    cr_assert(strstr(out, "lines: ok"), "%s", out);
    cr_assert(strstr(out, "table: ok"), "%s", out);
    cr_assert(strstr(out, "json: ok"), "%s", out);
    cr_assert(strstr(out, "broken: FAILED: '/bin/sh' exited with status 2: fetch: host "
                          "unreachable"),
              "%s", out);
    free(out);

    /* Twice: nothing is counted twice (a lines sample with its time is
     * deduplicated by the store on metric, time, entity and value). */
    out = run_ok(1, collect);
    free(out);

    query_is(cfg, "rt", "entity,agg,value,n\nforce/a,sum,20,2\nforce/b,sum,,0\nforce/c,sum,,0\n");
    query_is(cfg, "calls", "entity,agg,value,n\nforce/a,sum,3,1\nforce/b,sum,,0\nforce/c,sum,,0\n");
    query_is(cfg, "load",
             "entity,agg,value,n\nforce/a,sum,,0\nforce/b,sum,16,2\nforce/c,sum,2,1\n");

    char *sources[] = {"sources", "--config", cfg, NULL};
    out = run_ok(0, sources);
    cr_assert(strstr(out, "exited with status 2: fetch: host unreachable"), "%s", out);
    free(out);

    char *rejects[] = {"rejects", "--config", cfg, "--source", "lines", NULL};
    out = run_ok(0, rejects);
    cr_assert(strstr(out, "line 5: the value 'fast' is not a number"), "%s", out);
    cr_assert(strstr(out, "rt force/a/u3 fast 1700000000"), "%s", out);
    free(out);
    char *jrejects[] = {"rejects", "--config", cfg, "--source", "json", NULL};
    out = run_ok(0, jrejects);
    cr_assert(strstr(out, "line 2: no field 't'"), "%s", out);
    free(out);
}

Test(collect_exec, a_config_error_is_named)
{
    write_in("c.ini", "[sitrep]\ncache = cache.db\n[metric.rt]\nkind = event\n"
                      "[adapter.x]\ntype = exec\ncommnd = true\n");
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    char *check[] = {"check-config", "--config", cfg, NULL};
    char *out, *err;
    cr_assert_neq(th_run(NULL, check, &out, &err), 0);
    cr_assert(strstr(err, "did you mean 'command'"), "%s", err);
    cr_assert(strstr(err, "missing required key 'command'"), "%s", err);
    free(out);
    free(err);

    /* A mapping key with format = lines: collect says so. */
    write_in("c.ini", "[sitrep]\ncache = cache.db\n[metric.rt]\nkind = event\n"
                      "[adapter.x]\ntype = exec\ncommand = true\nmetric = rt\n");
    char *collect[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, collect, &out, &err), 1);
    cr_assert(strstr(out, "metric: applies to format = csv or jsonl") ||
                  strstr(err, "metric: applies to format = csv or jsonl"),
              "%s%s", out, err);
    free(out);
    free(err);
}

/*
 * Quiet when idle: a `collect --once` whose command prints nothing writes
 * the source's status row (after the poll, and again as it stops) and no
 * other page of the cache. Proved from the write-ahead log itself: a
 * connection held open keeps the log from being checkpointed away, and each
 * frame of it names the page it wrote (a 24-byte header, the page number
 * big-endian first, after the log's 32-byte header).
 */
Test(collect_exec, an_empty_poll_writes_only_its_status_row)
{
    write_in("c.ini", "[sitrep]\ncache = cache.db\ntimezone = UTC\n"
                      "[metric.rt]\nkind = event\nunit = s\n"
                      "[adapter.nothing]\ntype = exec\ncommand = /bin/true\n");
    char cfg[512], db[512], wal[512];
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    snprintf(db, sizeof db, "%s/cache.db", dir);
    snprintf(wal, sizeof wal, "%s/cache.db-wal", dir);
    char *collect[] = {"collect", "--once", "--config", cfg, NULL};
    free(run_ok(0, collect)); /* the cache, its schema and the source's first row */

    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_prepare_v2(h,
                                    "SELECT (SELECT rootpage FROM sqlite_master WHERE name = "
                                    "'source'), (SELECT page_size FROM pragma_page_size)",
                                    -1, &q, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    int64_t source_page = sqlite3_column_int64(q, 0), page_size = sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    FILE *f = fopen(wal, "rb");
    cr_assert(f, "no %s", wal);
    fseek(f, 0, SEEK_END);
    cr_assert_eq(ftell(f), 0, "the first run's log was not checkpointed away");
    fclose(f);

    free(run_ok(0, collect));
    f = fopen(wal, "rb");
    cr_assert(f);
    unsigned char hdr[24];
    int frames = 0;
    for (long off = 32;; off += 24 + page_size, frames++) {
        if (fseek(f, off, SEEK_SET) || fread(hdr, 1, sizeof hdr, f) != sizeof hdr)
            break;
        int64_t page = (int64_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
        cr_assert_eq(page, source_page,
                     "frame %d of the empty poll wrote page %lld; the source table is page %lld",
                     frames, (long long)page, (long long)source_page);
    }
    fclose(f);
    cr_assert(frames >= 1 && frames <= 2, "%d pages written", frames);
    sqlite3_close(h);

    char *sources[] = {"sources", "--config", cfg, NULL};
    char *out = run_ok(0, sources);
    cr_assert(strstr(out, "nothing"), "%s", out);
    free(out);
}
