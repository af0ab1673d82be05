/*
 * `sitrep query --agg baseline` as a real process on a real cache filled
 * by `sitrep ingest`: a district's Friday 22-23h against the same hour of
 * the last 8 Fridays in London (three of them in summer time, one a date
 * the config leaves out), in text, csv and json; a metric with too little
 * history; and a personal metric under the default role, whose figure and
 * band stay masked, against a commander who sees them.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../helpers.h"

#define FRI 1762552800L /* Fri 2025-11-07T22:00:00Z: 22:00 in London (GMT) */
#define HOUR 3600L
#define WEEK (7 * 86400L)

static char dir[256], cfg[512]; /* each test's folder and config, made by the test */

static void teardown(void)
{
    th_as(NULL, NULL);
    if (dir[0])
        th_rmtree(dir);
}

TestSuite(query_baseline, .fini = teardown);

/* Appends count rows of metric at entity spread over the hour from `from`
 * (epoch seconds) to the buffer *t of *len bytes, *o used. */
static void rows(char **t, size_t *len, size_t *o, const char *metric, const char *entity,
                 long from, int count)
{
    for (int i = 0; i < count; i++) {
        if (*len - *o < 256) {
            *len *= 2;
            *t = realloc(*t, *len);
            cr_assert_not_null(*t);
        }
        *o += (size_t)snprintf(*t + *o, *len - *o, "%s,%s,%ld,1\n", metric, entity,
                               from + (i + 1) * (HOUR / (count + 2)));
    }
}

/* 22:00 on the clock in London k Fridays before FRI: summer time (UTC+1)
 * until Sun 2025-10-26. */
static long local22(int k)
{
    return FRI - k * WEEK - (k >= 2 ? HOUR : 0);
}

/*
 * force/north: 20 to 24 calls in each Friday's 21-22h and 22-23h, 55 and
 * 60 this Friday (a step up); force/south 10 every time. Arrests: only the
 * last two Fridays. 2025-10-31 (the last Friday) is left out.
 */
static void calls_setup(void)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  "[sitrep]\n"
                  "cache = cache.db\n"
                  "timezone = Europe/London\n"
                  "baseline_exclude = 2025-10-31\n"
                  "[metric.calls]\n"
                  "kind = event\n"
                  "agg = count\n"
                  "[metric.arrests]\n"
                  "kind = event\n"
                  "agg = count\n");
    size_t len = 1 << 16, o = 0;
    char *t = malloc(len);
    cr_assert_not_null(t);
    o += (size_t)snprintf(t, len, "metric,entity,ts,value\n");
    rows(&t, &len, &o, "calls", "force/north", FRI - 10 * WEEK, 1);
    for (int k = 1; k <= 8; k++) {
        rows(&t, &len, &o, "calls", "force/north", local22(k) - HOUR, 20 + k % 5);
        rows(&t, &len, &o, "calls", "force/north", local22(k), 20 + k % 5);
        rows(&t, &len, &o, "calls", "force/south", local22(k) - HOUR, 10);
        rows(&t, &len, &o, "calls", "force/south", local22(k), 10);
    }
    rows(&t, &len, &o, "calls", "force/north", FRI - HOUR, 55);
    rows(&t, &len, &o, "calls", "force/north", FRI, 60);
    rows(&t, &len, &o, "calls", "force/south", FRI - HOUR, 10);
    rows(&t, &len, &o, "calls", "force/south", FRI, 10);
    rows(&t, &len, &o, "arrests", "force/north", local22(2) - HOUR, 1);
    rows(&t, &len, &o, "arrests", "force/north", local22(2), 5);
    rows(&t, &len, &o, "arrests", "force/north", local22(1), 6);
    rows(&t, &len, &o, "arrests", "force/north", FRI, 7);
    th_ingest_text(cfg, t, 0);
    free(t);
}

/* sitrep query METRIC --agg AGG (baseline, baseline:sum...) over Fri
 * 22-23h with the extra arguments (NULL-ended, at most 6); exit status,
 * stdout and stderr. */
static int query(char **out, char **err, const char *metric, const char *agg, const char *a,
                 const char *b, const char *c, const char *d, const char *e, const char *f)
{
    const char *const more[6] = {a, b, c, d, e, f};
    return th_query_span(cfg, "2025-11-07T22:00:00Z", "2025-11-07T23:00:00Z", out, err, metric, agg,
                         more);
}

/* The document of `query METRIC --agg baseline --entity ENTITY --format
 * json` over Fri 22-23h; caller owns it (json_decref). */
static json_t *query_json(const char *metric, const char *entity)
{
    char *out, *err;
    cr_assert_eq(
        query(&out, &err, metric, "baseline", "--entity", entity, "--format", "json", NULL, NULL),
        0, "%s", err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "not JSON: %s\n%s", je.text, out);
    free(out);
    free(err);
    return j;
}

Test(query_baseline, text)
{
    calls_setup();
    char *out, *err;
    cr_assert_eq(
        query(&out, &err, "calls", "baseline", "--entity", "force/north", NULL, NULL, NULL, NULL),
        0, "%s", err);
    /* weeks 2-8 (week 1 left out): 22 23 24 20 21 22 23, the band 20-24 */
    cr_assert(strstr(out, "NORMAL") && strstr(out, "UNUSUAL"), "%s", out);
    cr_assert(strstr(out, " 60 "), "%s", out);
    cr_assert(strstr(out, " 20–24 "), "%s", out);
    cr_assert(strstr(out, " 22 "), "%s", out);
    cr_assert(strstr(out, " 7/8 "), "%s", out);
    cr_assert(strstr(out, "Fri 22-23h"), "%s", out);
    cr_assert(strstr(out, "high ▲"), "%s", out);
    free(out);
    free(err);

    /* too little history: the reason instead of a band */
    cr_assert_eq(
        query(&out, &err, "arrests", "baseline", "--entity", "force/north", NULL, NULL, NULL, NULL),
        0, "%s", err);
    cr_assert(strstr(out, "(too few weeks: 1 of 8)"), "%s", out);
    free(out);
    free(err);

    /* a baseline of another aggregate; one that does not parse; a slice
     * of more than a week */
    cr_assert_eq(query(&out, &err, "calls", "baseline:bogus", NULL, NULL, NULL, NULL, NULL, NULL),
                 2, "%s", out);
    cr_assert(strstr(err, "baseline[:AGG]"), "%s", err);
    free(out);
    free(err);
    char *week[] = {"query", "calls",  "--agg",    "baseline", "--window", "8d",
                    "--at",  "latest", "--config", cfg,        NULL};
    cr_assert_eq(th_run(NULL, week, &out, &err), 2, "%s", out);
    cr_assert(strstr(err, "at most a week"), "%s", err);
    free(out);
    free(err);
}

Test(query_baseline, csv_by_children)
{
    calls_setup();
    char *out, *err;
    cr_assert_eq(query(&out, &err, "calls", "baseline", "--entity", "force", "--by", "children",
                       "--format", "csv"),
                 0, "%s", err);
    cr_assert_str_eq(out, "entity,agg,value,n,low,high,median,weeks_used,weeks,slice,unusual,"
                          "reason\n"
                          "force/north,count,60,60,20,24,22,7,8,Fri 22-23h,high,\n"
                          "force/south,count,10,10,10,10,10,7,8,Fri 22-23h,none,\n");
    free(out);
    free(err);
    /* the same slice of another aggregate, by the syntax baseline:AGG */
    cr_assert_eq(query(&out, &err, "calls", "baseline:sum", "--format", "csv", "--entity",
                       "force/south", NULL, NULL),
                 0, "%s", err);
    cr_assert(strstr(out, "\nforce/south,sum,10,10,10,10,10,7,8,Fri 22-23h,none,\n"), "%s", out);
    free(out);
    free(err);
}

Test(query_baseline, json)
{
    calls_setup();
    json_t *j = query_json("calls", "force/north");
    cr_assert_str_eq(json_string_value(json_object_get(j, "slice")), "Fri 22-23h");
    cr_assert_eq(json_integer_value(json_object_get(j, "weeks")), 8);
    cr_assert_eq(json_integer_value(json_object_get(j, "unusual_slices")), 2);
    json_t *row = json_array_get(json_object_get(j, "rows"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(row, "entity")), "force/north");
    cr_assert_eq(json_number_value(json_object_get(row, "value")), 60);
    cr_assert_eq(json_number_value(json_object_get(row, "low")), 20);
    cr_assert_eq(json_number_value(json_object_get(row, "high")), 24);
    cr_assert_eq(json_number_value(json_object_get(row, "median")), 22);
    cr_assert_eq(json_integer_value(json_object_get(row, "weeks_used")), 7);
    cr_assert_str_eq(json_string_value(json_object_get(row, "unusual")), "high");
    cr_assert(json_is_null(json_object_get(row, "reason")));
    json_t *weeks = json_object_get(row, "weeks");
    cr_assert_eq(json_array_size(weeks), 8);
    json_t *w1 = json_array_get(weeks, 0), *w2 = json_array_get(weeks, 1);
    cr_assert_str_eq(json_string_value(json_object_get(w1, "state")), "excluded");
    cr_assert(json_is_null(json_object_get(w1, "value")));
    /* 22:00 on the clock in summer time is 21:00Z */
    cr_assert_str_eq(json_string_value(json_object_get(w2, "from")), "2025-10-24T21:00:00.000Z");
    cr_assert_str_eq(json_string_value(json_object_get(w2, "state")), "used");
    cr_assert_eq(json_number_value(json_object_get(w2, "value")), 22);
    json_decref(j);
}

/*
 * Officer o1 of unit u1 logs 6 overtime records in each Friday's 21-22h
 * and 22-23h but 2 in week 5's 22-23h, and 3 this Friday 22-23h: for the
 * default role the figure (3) and the band (one week holds 2) are "<5";
 * the commander sees them.
 */
Test(query_baseline, personal_figure_stays_masked)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  TH_PRIVACY_SITREP "min_cell = 5\n"
                                    "[metric.ot]\n"
                                    "kind = event\n"
                                    "agg = count\n" TH_PRIVACY_ROLES);
    size_t len = 1 << 14, o = 0;
    char *t = malloc(len);
    cr_assert_not_null(t);
    o += (size_t)snprintf(t, len, "metric,entity,ts,value\n");
    const char *o1 = "force/north/d1/u1/o1";
    rows(&t, &len, &o, "ot", o1, FRI - 10 * WEEK, 6);
    for (int k = 1; k <= 8; k++) {
        rows(&t, &len, &o, "ot", o1, FRI - k * WEEK - HOUR, 6);
        rows(&t, &len, &o, "ot", o1, FRI - k * WEEK, k == 5 ? 2 : 6);
    }
    rows(&t, &len, &o, "ot", o1, FRI - HOUR, 6);
    rows(&t, &len, &o, "ot", o1, FRI, 3);
    rows(&t, &len, &o, "ot", o1, FRI + HOUR, 1); /* the slice is over: data after it */
    th_ingest_text(cfg, t, 0);
    free(t);
    char *out, *err;

    th_as("someone", NULL); /* the default role: no officers, no personal figures */
    cr_assert_eq(query(&out, &err, "ot", "baseline", "--entity", "force/north/d1/u1", "--format",
                       "csv", NULL, NULL),
                 0, "%s", err);
    cr_assert_str_eq(out, "entity,agg,value,n,low,high,median,weeks_used,weeks,slice,unusual,"
                          "reason\n"
                          "force/north/d1/u1,count,<5,,<5,<5,<5,,8,Fri 22-23h,,\n");
    free(out);
    free(err);
    json_t *j = query_json("ot", "force/north/d1/u1");
    json_t *row = json_array_get(json_object_get(j, "rows"), 0);
    cr_assert(json_is_null(json_object_get(row, "value")));
    cr_assert_str_eq(json_string_value(json_object_get(row, "suppressed")), "<5");
    cr_assert(json_is_null(json_object_get(row, "low")));
    cr_assert_str_eq(json_string_value(json_object_get(row, "band_suppressed")), "<5");
    cr_assert(json_is_null(json_object_get(row, "unusual")));
    cr_assert_eq(json_array_size(json_object_get(row, "weeks")), 0);
    json_decref(j);
    cr_assert_eq(query(&out, &err, "ot", "baseline", "--entity", "force/north/d1/u1", NULL, NULL,
                       NULL, NULL),
                 0, "%s", err);
    cr_assert(strstr(out, " <5 ") && !strstr(out, " 3 ") && !strstr(out, "2–6"), "%s", out);
    free(out);
    free(err);
    /* the officer: refused outright */
    cr_assert_eq(query(&out, &err, "ot", "baseline", "--entity", o1, NULL, NULL, NULL, NULL), 1,
                 "%s", out);
    cr_assert(strstr(err, "refused"), "%s", err);
    cr_assert_str_eq(out, "");
    free(out);
    free(err);

    th_as("cmd", NULL); /* the commander sees them (and the view is audited) */
    cr_assert_eq(query(&out, &err, "ot", "baseline", "--entity", "force/north/d1/u1", "--format",
                       "csv", NULL, NULL),
                 0, "%s", err);
    cr_assert_str_eq(out, "entity,agg,value,n,low,high,median,weeks_used,weeks,slice,unusual,"
                          "reason\n"
                          "force/north/d1/u1,count,3,3,2,6,6,8,8,Fri 22-23h,none,\n");
    free(out);
    free(err);
}
