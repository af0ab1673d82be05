/*
 * `sitrep query --agg spread` as a real process on a real cache filled by
 * `sitrep ingest`: calls per officer on duty across the districts of a
 * region (loads 2, 4, 4, 6 and 12, one district with no officer on duty),
 * in text, csv and json; and the officers of a unit (a personal level)
 * for a role without personal = yes (no row, no one named) and for the
 * commander (shown, audited).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../helpers.h"

#define T0 1762552800L /* 2025-11-07T22:00:00Z */

static char dir[256], cfg[512]; /* each test's folder and config, made by the test */

static void teardown(void)
{
    th_as(NULL, NULL);
    if (dir[0])
        th_rmtree(dir);
}

TestSuite(query_spread, .fini = teardown);

/* A buffer of len bytes for `sitrep ingest`, its header written; *o the
 * offset after it. Caller owns it; free with free(). */
static char *csv_start(size_t len, size_t *o)
{
    char *t = malloc(len);
    cr_assert_not_null(t);
    *o = (size_t)snprintf(t, len, "metric,entity,ts,value\n");
    return t;
}

/* Appends count events of metric at entity in the hour from T0 and returns
 * the new offset. */
static size_t events(char *t, size_t len, size_t o, const char *metric, const char *entity,
                     int count)
{
    for (int i = 0; i < count; i++)
        o += (size_t)snprintf(t + o, len - o, "%s,%s,%ld,1\n", metric, entity, T0 + 10 + i * 20);
    return o;
}

/* Appends a gauge held at level through the hour from T0. */
static size_t level(char *t, size_t len, size_t o, const char *metric, const char *entity, int v)
{
    for (long s = 0; s < 3600; s += 900)
        o += (size_t)snprintf(t + o, len - o, "%s,%s,%ld,%d\n", metric, entity, T0 + s, v);
    return o;
}

/* sitrep query METRIC --agg AGG over 22-23h with up to 6 more arguments
 * (NULL-ended): exit status, stdout and stderr. */
static int query(char **out, char **err, const char *metric, const char *agg, const char *a,
                 const char *b, const char *c, const char *d, const char *e, const char *f)
{
    const char *const more[6] = {a, b, c, d, e, f};
    return th_query_span(cfg, "2025-11-07T22:00:00Z", "2025-11-07T23:00:00Z", out, err, metric, agg,
                         more);
}

/* Districts d1..d6 of force/north: calls 20 40 12 60 120 30 over officers
 * on duty 10 10 3 10 10 0: loads 2 4 4 6 12 and none. */
static void districts_setup(void)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  "[sitrep]\n"
                  "cache = cache.db\n"
                  "[metric.calls]\n"
                  "kind = event\n"
                  "agg = count\n"
                  "unit = calls\n"
                  "[metric.officers_on_duty]\n"
                  "kind = gauge\n"
                  "unit = officers\n");
    static const int calls[] = {20, 40, 12, 60, 120, 30}, on_duty[] = {10, 10, 3, 10, 10, 0};
    size_t len = 1 << 16, o;
    char *t = csv_start(len, &o);
    for (int i = 0; i < 6; i++) {
        char e[64];
        snprintf(e, sizeof e, "force/north/d%d", i + 1);
        o = events(t, len, o, "calls", e, calls[i]);
        o = level(t, len, o, "officers_on_duty", e, on_duty[i]);
    }
    th_ingest_text(cfg, t, 0);
    free(t);
}

Test(query_spread, text)
{
    districts_setup();
    char *out, *err;
    cr_assert_eq(query(&out, &err, "calls", "spread", "--per", "officers_on_duty", "--entity",
                       "force/north", NULL, NULL),
                 0, "%s", err);
    /* highest load first, the one without a load last with its reason */
    char *d5 = strstr(out, "force/north/d5"), *d4 = strstr(out, "force/north/d4"),
         *d1 = strstr(out, "force/north/d1"), *d6 = strstr(out, "force/north/d6");
    cr_assert(d5 && d4 && d1 && d6 && d5 < d4 && d4 < d1 && d1 < d6, "%s", out);
    cr_assert(strstr(d5, "yes") && strstr(d5, "yes") < d4, "d5 is the outlier:\n%s", out);
    cr_assert(strstr(d6, "(denominator is 0)"), "%s", out);
    char *eol = strchr(d5, '\n');
    char *load = strstr(d5, " 12 calls/officers ");
    cr_assert(load && eol && load < eol, "the load in calls per officer:\n%s", out);
    cr_assert(strstr(out, "max/median 3.0× · busiest quarter (2 of 5) 64 % · outliers: "
                          "force/north/d5\n"),
              "%s", out);
    free(out);
    free(err);
    /* --per only with spread; an unknown denominator named */
    cr_assert_eq(
        query(&out, &err, "calls", "count", "--per", "officers_on_duty", NULL, NULL, NULL, NULL), 2,
        "%s", out);
    cr_assert(strstr(err, "--per goes with --agg spread"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(query(&out, &err, "calls", "spread", "--per", "officers", NULL, NULL, NULL, NULL),
                 2, "%s", out);
    cr_assert(strstr(err, "unknown metric 'officers'"), "%s", err);
    free(out);
    free(err);
}

Test(query_spread, csv)
{
    districts_setup();
    char *out, *err;
    cr_assert_eq(query(&out, &err, "calls", "spread", "--per", "officers_on_duty", "--entity",
                       "force/north", "--format", "csv"),
                 0, "%s", err);
    cr_assert_str_eq(out, "entity,agg,value,per,load,outlier,reason\n"
                          "force/north/d5,count,120,10,12,yes,\n"
                          "force/north/d4,count,60,10,6,no,\n"
                          "force/north/d2,count,40,10,4,no,\n"
                          "force/north/d3,count,12,3,4,no,\n"
                          "force/north/d1,count,20,10,2,no,\n"
                          "force/north/d6,count,30,0,,,denominator is 0\n"
                          "(spread),count,4,3,0.6428571428571429,1,\n");
    free(out);
    free(err);
}

Test(query_spread, json)
{
    districts_setup();
    char *out, *err;
    cr_assert_eq(query(&out, &err, "calls", "spread:count", "--per", "officers_on_duty", "--entity",
                       "force/north", "--format", "json"),
                 0, "%s", err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "not JSON: %s\n%s", je.text, out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "per")), "officers_on_duty");
    json_t *s = json_object_get(j, "spread");
    cr_assert_eq(json_integer_value(json_object_get(s, "children")), 5);
    cr_assert_float_eq(json_number_value(json_object_get(s, "median")), 4.0, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(s, "max_median")), 3.0, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(s, "busiest_quarter_share")), 18.0 / 28,
                       1e-9);
    json_t *outl = json_object_get(s, "outliers");
    cr_assert_eq(json_array_size(outl), 1);
    cr_assert_str_eq(json_string_value(json_array_get(outl, 0)), "force/north/d5");
    json_t *rows = json_object_get(j, "rows"), *last = json_array_get(rows, 5);
    cr_assert_eq(json_array_size(rows), 6);
    cr_assert(json_is_null(json_object_get(last, "load")), "no load is null, never 0");
    cr_assert_str_eq(json_string_value(json_object_get(last, "reason")), "denominator is 0");
    json_decref(j);
    free(out);
    free(err);
}

/* The cache's audit rows of a personal view of a spread. */
static int64_t spread_audits(void)
{
    char db[600];
    snprintf(db, sizeof db, "%s/cache.db", dir);
    return th_sql_int(db, "SELECT count(*) FROM audit WHERE action = 'view-personal' AND "
                          "detail LIKE '%spread%'");
}

/*
 * Officers o1..o5 of force/north/d1/u1 with 6, 6, 6, 6 and 30 overtime
 * records: for the default role no officer's row and no one named, and
 * no spread, on the command line and on the dashboard's spread panel; the
 * commander sees o5 named as the outlier there and here, audited.
 */
Test(query_spread, personal_level)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  TH_PRIVACY_SITREP "[metric.ot]\n"
                                    "kind = event\n"
                                    "agg = count\n"
                                    "[panel.load]\n"
                                    "metric = ot\n"
                                    "entity = force/north/d1/u1\n"
                                    "widget = spread\n"
                                    "window = 1h\n" TH_PRIVACY_ROLES);
    size_t len = 1 << 14, o;
    char *t = csv_start(len, &o);
    for (int i = 1; i <= 5; i++) {
        char e[64];
        snprintf(e, sizeof e, "force/north/d1/u1/o%d", i);
        o = events(t, len, o, "ot", e, i == 5 ? 30 : 6);
    }
    th_ingest_text(cfg, t, 0);
    free(t);
    char *out, *err;

    /* the dashboard's spread panel of the same unit, drawn by snapshot */
    char *snap[] = {"snapshot", "--format", "text",
                    "--width",  "100",      "--height",
                    "12",       "--at",     "2025-11-07T23:00:00Z",
                    "--config", cfg,        NULL};
    th_as("someone", NULL);
    cr_assert_eq(th_run(NULL, snap, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "5 rows hidden"), "%s", out);
    cr_assert_null(strstr(out, "o5"), "no officer named:\n%s", out);
    free(out);
    free(err);
    th_as("cmd", NULL);
    cr_assert_eq(th_run(NULL, snap, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "outliers: o5"), "%s", out);
    free(out);
    free(err);

    th_as("someone", NULL); /* the default role: no officers */
    cr_assert_eq(
        query(&out, &err, "ot", "spread", "--entity", "force/north/d1/u1", NULL, NULL, NULL, NULL),
        0, "%s", err);
    cr_assert_null(strstr(out, "/o"), "no officer named:\n%s", out);
    cr_assert(strstr(out, "no spread: no child has a load"), "%s", out);
    cr_assert(strstr(err, "5 rows hidden"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(query(&out, &err, "ot", "spread", "--entity", "force/north/d1/u1", "--format",
                       "json", NULL, NULL),
                 0, "%s", err);
    cr_assert_null(strstr(out, "/o"), "no officer named:\n%s", out);
    free(out);
    free(err);
    cr_assert_eq(spread_audits(), 0);

    th_as("cmd", NULL); /* the commander: shown, and the view audited */
    cr_assert_eq(
        query(&out, &err, "ot", "spread", "--entity", "force/north/d1/u1", NULL, NULL, NULL, NULL),
        0, "%s", err);
    cr_assert(strstr(out, "outliers: force/north/d1/u1/o5\n"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(spread_audits(), 1);
}

/*
 * A denominator that is personal data: overtime records of officers (ot,
 * per officer) under units u1..u5 of force/north/d1, 3 records under u1
 * (fewer than min_cell 5) and 6 under the others. For the default role u1's
 * denominator is masked, so it has no load and is not in the spread, on the
 * command line and on the dashboard.
 */
Test(query_spread, personal_denominator_masked)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  TH_PRIVACY_SITREP "min_cell = 5\n"
                                    "[metric.calls]\n"
                                    "kind = event\n"
                                    "agg = count\n"
                                    "[metric.ot]\n"
                                    "kind = event\n"
                                    "agg = count\n"
                                    "[panel.load]\n"
                                    "metric = calls\n"
                                    "entity = force/north/d1\n"
                                    "widget = spread\n"
                                    "per = ot\n"
                                    "window = 1h\n" TH_PRIVACY_ROLES);
    size_t len = 1 << 14, o;
    char *t = csv_start(len, &o);
    for (int i = 1; i <= 5; i++) {
        char u[64], e[80];
        snprintf(u, sizeof u, "force/north/d1/u%d", i);
        snprintf(e, sizeof e, "%s/o1", u);
        o = events(t, len, o, "calls", u, 12 * i);
        o = events(t, len, o, "ot", e, i == 1 ? 3 : 6);
    }
    th_ingest_text(cfg, t, 0);
    free(t);
    char *out, *err;
    th_as("someone", NULL);
    cr_assert_eq(query(&out, &err, "calls", "spread", "--per", "ot", "--entity", "force/north/d1",
                       "--format", "csv"),
                 0, "%s", err);
    cr_assert(strstr(out, "force/north/d1/u1,count,<5,<5,,,\n"), "%s", out);
    cr_assert(strstr(out, "force/north/d1/u5,count,60,6,10,"), "%s", out);
    free(out);
    free(err);
    char *snap[] = {"snapshot", "--format", "text",
                    "--width",  "100",      "--height",
                    "12",       "--at",     "2025-11-07T23:00:00Z",
                    "--config", cfg,        NULL};
    cr_assert_eq(th_run(NULL, snap, &out, &err), 0, "%s", err);
    char *u1 = strstr(out, "u1 ");
    cr_assert(u1 && strstr(u1, "<5") && strstr(u1, "<5") < strchr(u1, '\n'), "%s", out);
    cr_assert(strstr(out, "busiest quarter"), "four loads make a spread:\n%s", out);
    free(out);
    free(err);
}
