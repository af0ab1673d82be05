/*
 * `sitrep query --agg forecast` as a real process on a real cache filled
 * by `sitrep ingest`: 14 weeks of an hourly weekly pattern of calls in
 * force/north (forecast = the pattern, backtest error 0) in text, csv and
 * json; a noisy metric whose backtest error is above its limit (withheld,
 * the reason); too little history; and a personal metric under the
 * default role, whose forecast stays masked, against a commander who sees
 * it.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../helpers.h"
#include "weekly.h"

static char dir[256], cfg[512];

static void teardown(void)
{
    th_as(NULL, NULL);
    if (dir[0])
        th_rmtree(dir);
}

TestSuite(query_forecast, .fini = teardown);

/* calls: the pattern for 14 weeks; noisy: the pattern plus 0-3 (limit 1 %);
 * short: twice the pattern for 5 weeks; ot: an officer's pattern, personal. */
static void setup_cache(void)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  TH_PRIVACY_SITREP "timezone = UTC\n"
                                    "min_cell = 5\n"
                                    "[metric.calls]\n"
                                    "kind = event\n"
                                    "agg = count\n"
                                    "unit = calls\n"
                                    "[metric.noisy]\n"
                                    "kind = event\n"
                                    "agg = count\n"
                                    "forecast_max_error = 1\n"
                                    "[metric.short]\n"
                                    "kind = event\n"
                                    "agg = count\n"
                                    "[metric.ot]\n"
                                    "kind = event\n"
                                    "agg = count\n" TH_PRIVACY_ROLES);
    char *t = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&t, &len);
    cr_assert_not_null(f);
    fputs("metric,entity,ts,value\n", f);
    unsigned x = 99;
    for (int i = 0; i < NH; i++) {
        x = x * 1103515245u + 12345u;
        rows(f, "calls", "force/north", i, pattern(i));
        rows(f, "noisy", "force/north", i, pattern(i) + (int)((x >> 16) % 4u));
        if (i >= NH - 5 * WH)
            rows(f, "short", "force/north", i, 2 * pattern(i)); /* 4 weeks of >= 10 calls */
        rows(f, "ot", "force/north/d1/u1/o1", i, pattern(i));
    }
    cr_assert_eq(fclose(f), 0);
    th_ingest_text(cfg, t, 0);
    free(t);
}

/* sitrep query METRIC --agg forecast --at T0 --entity ENTITY [--format FMT]. */
static int query(char **out, char **err, const char *metric, const char *entity, const char *fmt)
{
    char *argv[] = {"query",
                    (char *)metric,
                    "--agg",
                    "forecast",
                    "--at",
                    "2025-11-10T00:00:00Z",
                    "--entity",
                    (char *)entity,
                    "--config",
                    cfg,
                    fmt ? "--format" : NULL,
                    (char *)fmt,
                    NULL};
    return th_run(NULL, argv, out, err);
}

/* Runs argv, asserts its exit status want and, unless NULL, that its
 * stderr says err_has; returns its stdout (caller frees). */
static char *run_status(char **argv, int want, const char *err_has)
{
    char *out, *err;
    int rc = th_run(NULL, argv, &out, &err);
    cr_assert_eq(rc, want, "%s%s", out, err);
    cr_assert(!err_has || strstr(err, err_has), "%s", err);
    free(err);
    return out;
}

Test(query_forecast, text_csv_json)
{
    setup_cache();
    char *out, *err;
    /* Mon 00-08h: 2 4 6 8 10 2 4 6 = 42, every week */
    cr_assert_eq(query(&out, &err, "calls", "force/north", NULL), 0, "%s", err);
    cr_assert(strstr(out, "2025-11-10T00:00:00.000Z to 2025-11-10T08:00:00.000Z"), "%s", out);
    cr_assert(strstr(out, "next 8h: 42–42 (expected 42)"), "%s", out);
    cr_assert(strstr(out, "backtest error 0 % (4 wk, 84 origins)"), "%s", out);
    free(out);
    free(err);

    cr_assert_eq(query(&out, &err, "calls", "force/north", "csv"), 0, "%s", err);
    cr_assert_str_eq(out,
                     "entity,agg,from,to,value,low,high,level,error,backtest_weeks,origins,"
                     "origins_used,shown,reason\n"
                     "force/north,count,2025-11-10T00:00:00.000Z,2025-11-10T08:00:00.000Z,42,42,42,"
                     "1,0,4,84,84,yes,\n");
    free(out);
    free(err);

    cr_assert_eq(query(&out, &err, "calls", "force/north", "json"), 0, "%s", err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "not JSON: %s\n%s", je.text, out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "from")), "2025-11-10T00:00:00.000Z");
    cr_assert_str_eq(json_string_value(json_object_get(j, "to")), "2025-11-10T08:00:00.000Z");
    json_t *row = json_array_get(json_object_get(j, "rows"), 0);
    cr_assert_float_eq(json_number_value(json_object_get(row, "value")), 42.0, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(row, "high")), 42.0, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(row, "error")), 0.0, 1e-12);
    cr_assert_eq(json_integer_value(json_object_get(row, "origins_used")), 84);
    cr_assert(json_is_true(json_object_get(row, "shown")));
    cr_assert(json_is_null(json_object_get(row, "reason")));
    json_decref(j);
    free(out);
    free(err);

    /* --horizon: 4 h (Mon 00-04h: 2 4 6 8), 168 origins; part of an hour: a usage error */
    char *four[] = {"query",     "calls", "--agg",    "forecast", "--at", "2025-11-10T00:00:00Z",
                    "--horizon", "4h",    "--config", cfg,        NULL};
    out = run_status(four, 0, NULL);
    cr_assert(strstr(out, "next 4h: 20–20 (expected 20)") && strstr(out, "(4 wk, 168 origins)"),
              "%s", out);
    free(out);
    four[7] = "90m";
    free(run_status(four, 2, "whole hours"));

    /* by children: a row per child of force (north, the only one with calls) */
    char *kids[] = {
        "query",    "calls",    "--agg",    "forecast", "--at",     "2025-11-10T00:00:00Z",
        "--by",     "children", "--entity", "force",    "--format", "csv",
        "--config", cfg,        NULL};
    out = run_status(kids, 0, NULL);
    cr_assert(strstr(out, "\nforce/north,count,") && strstr(out, ",42,42,42,1,0,4,84,84,yes,\n"),
              "%s", out);
    free(out);
    /* a percentile has no forecast */
    char *pct[] = {"query", "calls", "--agg", "forecast:p90", "--config", cfg, NULL};
    free(run_status(pct, 2, "not of a percentile"));
}

Test(query_forecast, withheld_with_the_reason)
{
    setup_cache();
    char *out, *err;
    cr_assert_eq(query(&out, &err, "noisy", "force/north", NULL), 0, "%s", err);
    cr_assert(strstr(out, "no forecast: backtest error ") &&
                  strstr(out, " % over 4 wk is above the limit of 1 %"),
              "%s", out);
    cr_assert_null(strstr(out, "next 8h"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(query(&out, &err, "noisy", "force/north", "json"), 0, "%s", err);
    json_t *j = json_loads(out, 0, NULL);
    json_t *row = json_array_get(json_object_get(j, "rows"), 0);
    cr_assert(json_is_null(json_object_get(row, "value")));
    cr_assert(json_number_value(json_object_get(row, "error")) > 0.01);
    cr_assert(json_is_false(json_object_get(row, "shown")));
    cr_assert(strstr(json_string_value(json_object_get(row, "reason")), "above the limit"));
    json_decref(j);
    free(out);
    free(err);

    cr_assert_eq(query(&out, &err, "short", "force/north", "csv"), 0, "%s", err);
    cr_assert(strstr(out, ",no,\"too little history: the backtest has 20 of 84 "), "%s", out);
    free(out);
    free(err);
}

Test(query_forecast, personal_forecast_stays_masked)
{
    setup_cache();
    char *out, *err;
    th_as("someone", NULL); /* the default role: hours of 2 records are "<5" */
    cr_assert_eq(query(&out, &err, "ot", "force/north/d1/u1", "csv"), 0, "%s", err);
    cr_assert_str_eq(out,
                     "entity,agg,from,to,value,low,high,level,error,backtest_weeks,origins,"
                     "origins_used,shown,reason\n"
                     "force/north/d1/u1,count,2025-11-10T00:00:00.000Z,2025-11-10T08:00:00.000Z,"
                     "<5,<5,<5,<5,<5,4,84,,,\n");
    free(out);
    free(err);
    cr_assert_eq(query(&out, &err, "ot", "force/north/d1/u1", NULL), 0, "%s", err);
    cr_assert(strstr(out, "next 8h: <5") && !strstr(out, "42"), "%s", out);
    free(out);
    free(err);

    th_as("cmd", NULL); /* the commander sees it */
    cr_assert_eq(query(&out, &err, "ot", "force/north/d1/u1", NULL), 0, "%s", err);
    cr_assert(strstr(out, "next 8h: 42–42"), "%s", out);
    free(out);
    free(err);
}
