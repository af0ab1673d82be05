/*
 * test_exact.c - what the figures look like in every output (issue 13):
 * JSON and CSV numbers as the shortest text that reads back as the same
 * double, text with every cent of an amount and every unit of a count, one
 * CSV writer (a field holding `,"` stays one field), a count of nothing is
 * 0 while a suppressed figure stays suppressed (value and n null), `query
 * --at TIME|latest`, and an aggregate that overflows says so. The real
 * binary on a real cache filled by `sitrep ingest`.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/store.h"
#include "../helpers.h"

static char dir[256], cfg[512];

/* An old export (2017): amounts with cents, one tiny value, two huge ones,
 * and a unit of two officers (a count of 2: "<5" for a manager). */
static void setup(void)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  "[sitrep]\n"
                  "cache = cache.db\n"
                  "timezone = UTC\n"
                  "levels = force, unit, officer\n"
                  "personal = officer\n"
                  "min_cell = 5\n"
                  "[metric.cost]\n"
                  "kind = counter\n"
                  "unit = USD\n"
                  "[metric.tiny]\n"
                  "kind = counter\n"
                  "[metric.big]\n"
                  "kind = counter\n"
                  "[metric.ot]\n"
                  "kind = counter\n"
                  "unit = h\n"
                  "[panel.cost]\n"
                  "metric = cost\n"
                  "entity = force/a,\"b\"\n"
                  "window = 1d\n"
                  "[panel.big]\n"
                  "metric = big\n"
                  "window = 1d\n"
                  "[page.main]\n"
                  "panels = cost, big\n"
                  "[role.manager]\n"
                  "users = srdigits_mgr\n"
                  "drill = unit\n");
    /* 2017-06-01T00:00:00Z = 1496275200 */
    th_ingest_text(cfg,
                   "metric,entity,ts,value\n"
                   "cost,\"force/a,\"\"b\"\"\",1496275200,192793629.14\n"
                   "tiny,force/u1,1496275200,0.1\n"
                   "big,force/u1,1496275200,1e15\n"
                   "big,force/u1,1496282400,1e15\n"
                   "ot,force/u2/o1,1496275200,2\n"
                   "ot,force/u2/o2,1496275260,2\n",
                   0);
    unsetenv("SITREP_TEST_USER");
}

static void teardown(void)
{
    unsetenv("SITREP_TEST_USER");
    th_rmtree(dir);
}

TestSuite(exact, .init = setup, .fini = teardown);

#define FROM "2017-06-01T00:00:00Z"
#define TO "2017-06-02T00:00:00Z"

/* sitrep query METRIC --config cfg ARGS... (up to 8); exit status, out, err. */
static int query(char **out, char **err, const char *metric, const char *const *args)
{
    char *argv[16] = {"query", (char *)metric, "--config", cfg};
    size_t n = 4;
    for (; *args && n < 15; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    return th_run(NULL, argv, out, err);
}

/* `query METRIC --agg sum` over June 1st 2017 in fmt: exit 0 and out holds want. */
static void sum_says(const char *metric, const char *fmt, const char *want)
{
    char *o, *e;
    const char *args[] = {"--agg", "sum", "--from", FROM, "--to", TO, "--format", fmt, NULL};
    cr_assert_eq(query(&o, &e, metric, args), 0, "%s", e);
    cr_assert(strstr(o, want), "%s: expected '%s' in:\n%s", fmt, want, o);
    free(o);
    free(e);
}

Test(exact, json_and_csv_numbers_keep_every_digit_and_no_more)
{
    sum_says("cost", "json", "\"value\": 192793629.14,"); /* was 192793629.1 */
    sum_says("tiny", "json", "\"value\": 0.1,");          /* not 0.10000000000000001 */
    sum_says("cost", "csv", ",sum,192793629.14,1\n");
    sum_says("cost", "text", "192 793 629.14 USD"); /* was 192.8M USD */
}

/* The fields of one CSV line (RFC 4180 quoting). */
static int csv_fields(const char *line)
{
    int n = 1;
    bool quoted = false;
    for (const char *c = line; *c && *c != '\n'; c++) {
        if (*c == '"')
            quoted = !quoted; /* a doubled quote toggles twice */
        else if (*c == ',' && !quoted)
            n++;
    }
    return n;
}

Test(exact, snapshot_csv_quotes_what_needs_it)
{
    char *o, *e;
    char *argv[] = {"snapshot", "--format", "csv", "--config", cfg, "--at", TO, NULL};
    cr_assert_eq(th_run(NULL, argv, &o, &e), 0, "%s", e);
    int header = csv_fields(o), rows = 0;
    cr_assert_eq(header, 14 + 15, "%s", o); /* 15 baseline and forecast columns at the end */
    for (const char *l = strchr(o, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        cr_assert_eq(csv_fields(l + 1), header, "a row with another number of fields:\n%s", o);
        rows++;
    }
    cr_assert_eq(rows, 2, "%s", o);
    cr_assert(strstr(o, "cost,cost,cost,\"force/a,\"\"b\"\"\",sum,1d,192793629.14,USD,"), "%s", o);
    free(o);
    free(e);
}

Test(exact, a_count_of_nothing_is_0_and_suppressed_stays_suppressed)
{
    char *o, *e;
    const char *csv[] = {"--agg",      "count",    "--from", "2016-01-01", "--to",
                         "2016-02-01", "--format", "csv",    NULL};
    cr_assert_eq(query(&o, &e, "cost", csv), 0, "%s", e);
    cr_assert(strstr(o, ",count,0,0\n"), "%s", o); /* was ,count,,0 */
    free(o);
    free(e);
    const char *text[] = {"--agg", "count", "--from", "2016-01-01", "--to", "2016-02-01", NULL};
    cr_assert_eq(query(&o, &e, "cost", text), 0, "%s", e);
    cr_assert(strstr(o, "count                 0          0"), "%s", o);
    free(o);
    free(e);

    /* a manager sees no officers: a count of 2 is "<5", value and n null */
    setenv("SITREP_TEST_USER", "srdigits_mgr", 1);
    const char *json[] = {"--agg", "count", "--entity", "force/u2", "--from", FROM,
                          "--to",  TO,      "--format", "json",     NULL};
    cr_assert_eq(query(&o, &e, "ot", json), 0, "%s", e);
    json_t *root = json_loads(o, 0, NULL), *row = json_array_get(json_object_get(root, "rows"), 0);
    cr_assert_not_null(row, "%s", o);
    cr_assert(json_is_null(json_object_get(row, "value")), "%s", o);
    cr_assert(json_is_null(json_object_get(row, "n")), "%s", o);
    cr_assert_str_eq(json_string_value(json_object_get(row, "suppressed")), "<5", "%s", o);
    json_decref(root);
    free(o);
    free(e);
    /* over an empty window the same manager sees 0: nothing happened */
    const char *none[] = {"--agg", "count",      "--entity", "force/u2", "--from", "2016-01-01",
                          "--to",  "2016-02-01", "--format", "json",     NULL};
    cr_assert_eq(query(&o, &e, "ot", none), 0, "%s", e);
    root = json_loads(o, 0, NULL);
    row = json_array_get(json_object_get(root, "rows"), 0);
    cr_assert(json_is_number(json_object_get(row, "value")) &&
                  json_number_value(json_object_get(row, "value")) == 0,
              "%s", o);
    json_decref(root);
    free(o);
    free(e);
}

Test(exact, query_at_time_and_latest)
{
    char *o, *e;
    const char *now[] = {"--agg", "sum", "--window", "1d", "--format", "csv", NULL};
    cr_assert_eq(query(&o, &e, "cost", now), 0, "%s", e);
    cr_assert(strstr(o, ",sum,,0\n"), "an old export has nothing in the last day: %s", o);
    free(o);
    free(e);
    const char *latest[] = {"--agg",  "sum",      "--window", "1d", "--at",
                            "latest", "--format", "csv",      NULL};
    cr_assert_eq(query(&o, &e, "cost", latest), 0, "%s", e);
    cr_assert(strstr(o, ",sum,192793629.14,1\n"), "%s", o);
    free(o);
    free(e);
    const char *at[] = {"--agg",    "sum", "--window", "1h", "--at", "2017-06-01T00:30:00Z",
                        "--format", "csv", NULL};
    cr_assert_eq(query(&o, &e, "cost", at), 0, "%s", e);
    cr_assert(strstr(o, ",sum,192793629.14,1\n"), "%s", o);
    free(o);
    free(e);
    const char *both[] = {"--at", "latest", "--to", TO, NULL};
    cr_assert_eq(query(&o, &e, "cost", both), 2, "%s", e);
    cr_assert(strstr(e, "--at or --from/--to"), "%s", e);
    free(o);
    free(e);
    const char *bad[] = {"--at", "yesterday", NULL};
    cr_assert_eq(query(&o, &e, "cost", bad), 2, "%s", e);
    cr_assert(strstr(e, "--at: expected"), "%s", e);
    free(o);
    free(e);
}

/* A value beyond +-1e15 is refused at ingest (store.c's sample rule), so
 * only a cache written before that rule holds one: made here by hand, each
 * hour's sum 1.7e308, two hours in the window. */
static void old_cache_with_huge_values(void)
{
    char db[600];
    snprintf(db, sizeof db, "%s/cache.db", dir);
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(h,
                          "UPDATE rollup SET sum = 1.7e308, min = 1.7e308, max = 1.7e308, "
                          "last = 1.7e308 WHERE metric = (SELECT id FROM metric WHERE name = "
                          "'big'); UPDATE sample SET value = 1.7e308 WHERE metric = (SELECT id "
                          "FROM metric WHERE name = 'big')",
                          NULL, NULL, &err);
    cr_assert_eq(rc, SQLITE_OK, "%s", err ? err : "");
    sqlite3_close(h);
}

Test(exact, an_aggregate_that_overflows_says_so)
{
    old_cache_with_huge_values();
    char *o, *e;
    const char *text[] = {"--agg", "sum", "--from", FROM, "--to", TO, NULL};
    cr_assert_eq(query(&o, &e, "big", text), 0, "%s", e);
    cr_assert(strstr(o, "overflow"), "%s", o);
    cr_assert(strstr(e, "overflows"), "%s", e);
    free(o);
    free(e);
    sum_says("big", "csv", ",sum,overflow,2\n");
    const char *json[] = {"--agg", "sum", "--from", FROM, "--to", TO, "--format", "json", NULL};
    cr_assert_eq(query(&o, &e, "big", json), 0, "%s", e);
    json_t *root = json_loads(o, 0, NULL), *row = json_array_get(json_object_get(root, "rows"), 0);
    cr_assert_not_null(row, "%s", o);
    cr_assert(json_is_null(json_object_get(row, "value")), "value is there, null: %s", o);
    cr_assert(json_is_true(json_object_get(row, "overflow")), "%s", o);
    json_decref(root);
    free(o);
    free(e);
    /* one of two values: no overflow, the value as it is */
    const char *one[] = {"--agg", "max", "--from", FROM, "--to", TO, "--format", "json", NULL};
    cr_assert_eq(query(&o, &e, "big", one), 0, "%s", e);
    cr_assert(strstr(o, "\"value\": 1.7e308") || strstr(o, "\"value\": 1.7e+308"), "%s", o);
    free(o);
    free(e);

    char *snap[] = {"snapshot", "--format", "json", "--config", cfg, "--at", TO, NULL};
    cr_assert_eq(th_run(NULL, snap, &o, &e), 0, "%s", e);
    root = json_loads(o, 0, NULL);
    json_t *panels = json_object_get(root, "panels"), *big = NULL;
    for (size_t i = 0; i < json_array_size(panels); i++) {
        json_t *p = json_array_get(panels, i);
        if (strcmp(json_string_value(json_object_get(p, "panel")), "big") == 0)
            big = p;
    }
    cr_assert_not_null(big, "%s", o);
    cr_assert(json_is_null(json_object_get(big, "value")), "%s", o);
    cr_assert(json_is_true(json_object_get(big, "overflow")), "%s", o);
    json_decref(root);
    free(o);
    free(e);
}
