/*
 * The forecast and the baseline in `sitrep snapshot` (app/report.c) as a
 * real process on a real cache filled by `sitrep ingest`: 14 weeks of an
 * hourly weekly pattern of calls in force/north, whose forecast from Mon
 * 00:00Z is the pattern (Mon 00-08h: 2 4 6 8 10 2 4 6 = 42 calls) with a
 * backtest error of 0, as `query --agg forecast` says too
 * (tests/app/test_query_forecast.c); a noisy metric whose error is above
 * its limit (withheld: the reason); and a unit's officers' calls, personal
 * data, that the default role sees nothing of and the commander sees.
 * Markdown's "Expected next shift", JSON's panels and expected_next_shift,
 * CSV's columns after the older ones.
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

TestSuite(report_forecast, .fini = teardown);

static void setup_cache(void)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  TH_PRIVACY_SITREP
                  "timezone = UTC\n"
                  "min_cell = 5\n"
                  "[metric.calls]\nkind = event\nagg = count\n"
                  "[metric.noisy]\nkind = event\nagg = count\n"
                  "forecast_max_error = 1\n"
                  "[metric.ot]\nkind = event\nagg = count\n"
                  "[panel.calls]\ntitle = Calls\nmetric = calls\n"
                  "entity = force/north\nwindow = 1h\nbaseline = yes\n"
                  "forecast = yes\n"
                  "[panel.noisy]\ntitle = Noisy\nmetric = noisy\n"
                  "entity = force/north\nforecast = yes\n"
                  "[panel.ot]\ntitle = Unit\nmetric = ot\n"
                  "entity = force/north/d1/u1\nforecast = yes\n"
                  "[panel.plain]\ntitle = Plain\nmetric = calls\n"
                  "[page.main]\npanels = calls, noisy, ot, plain\n" TH_PRIVACY_ROLES);
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
        rows(f, "ot", "force/north/d1/u1/o1", i, pattern(i));
    }
    cr_assert_eq(fclose(f), 0);
    th_ingest_text(cfg, t, 0);
    free(t);
}

/* sitrep snapshot --format FMT --at T0; its stdout (caller frees). */
static char *snapshot(const char *fmt)
{
    char *out, *err;
    char *argv[] = {"snapshot", "--format", (char *)fmt, "--at", "2025-11-10T00:00:00Z",
                    "--config", cfg,        NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    free(err);
    return out;
}

Test(report_forecast, markdown_expected_next_shift)
{
    setup_cache();
    th_as("cmd", NULL);
    char *out = snapshot("markdown");
    const char *sec = strstr(out, "\n## Expected next shift\n");
    cr_assert_not_null(sec, "%s", out);
    cr_assert(strstr(sec, "\n2025-11-10 00:00 to 2025-11-10 08:00 (8h), "), "%s", out);
    cr_assert(strstr(sec, "\n- Calls: 42–42 (expected 42) · backtest error 0 % (4 wk)\n"), "%s",
              out);
    cr_assert(strstr(sec, "\n- Noisy: no forecast: backtest error ") &&
                  strstr(sec, " is above the limit of 1 %"),
              "withheld, with the reason:\n%s", out);
    cr_assert(strstr(sec, "\n- Unit: 42–42 (expected 42)"), "the commander sees it:\n%s", out);
    cr_assert_null(strstr(sec, "- Plain"), "a panel without forecast = yes:\n%s", out);
    cr_assert(strstr(sec, "## Sources"), "before the sources:\n%s", out);
    free(out);

    /* the default role: nothing of the officers' figures */
    th_as("someone", NULL);
    out = snapshot("markdown");
    sec = strstr(out, "\n## Expected next shift\n");
    cr_assert_not_null(sec, "%s", out);
    cr_assert(strstr(sec, "\n- Unit: <5\n"), "%s", out);
    cr_assert(strstr(sec, "\n- Calls: 42–42"), "%s", out);
    free(out);
}

Test(report_forecast, json_panels_and_expected_next_shift)
{
    setup_cache();
    th_as("cmd", NULL);
    char *out = snapshot("json");
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "not JSON: %s\n%s", je.text, out);
    json_t *next = json_object_get(j, "expected_next_shift");
    cr_assert_str_eq(json_string_value(json_object_get(next, "from")), "2025-11-10T00:00:00.000Z");
    cr_assert_str_eq(json_string_value(json_object_get(next, "to")), "2025-11-10T08:00:00.000Z");
    json_t *list = json_object_get(next, "panels");
    cr_assert_eq(json_array_size(list), 3, "calls, noisy, ot:\n%s", out);
    json_t *c = json_array_get(list, 0);
    cr_assert_str_eq(json_string_value(json_object_get(c, "panel")), "calls");
    cr_assert_float_eq(json_number_value(json_object_get(c, "value")), 42.0, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(c, "low")), 42.0, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(c, "error")), 0.0, 1e-12);
    cr_assert(json_is_true(json_object_get(c, "shown")));
    json_t *n = json_array_get(list, 1);
    cr_assert(json_is_false(json_object_get(n, "shown")));
    cr_assert(json_is_null(json_object_get(n, "value")));
    cr_assert(strstr(json_string_value(json_object_get(n, "reason")), "above the limit"));

    /* the panel carries its baseline and forecast; the 8 weeks of Sun 23h: 6 calls each */
    json_t *p = json_array_get(json_object_get(j, "panels"), 0);
    json_t *b = json_object_get(p, "baseline");
    cr_assert_not_null(b, "%s", out);
    cr_assert_str_eq(json_string_value(json_object_get(b, "slice")), "Sun 23-24h");
    cr_assert_eq(json_integer_value(json_object_get(b, "weeks_used")), 8);
    cr_assert_str_eq(json_string_value(json_object_get(b, "unusual")), "none");
    cr_assert_float_eq(json_number_value(json_object_get(b, "median")), 6.0, 1e-9);
    json_t *f = json_object_get(p, "forecast");
    cr_assert_float_eq(json_number_value(json_object_get(f, "value")), 42.0, 1e-9);
    cr_assert_null(json_object_get(json_array_get(json_object_get(j, "panels"), 3), "forecast"));
    json_decref(j);
    free(out);

    /* the default role: the officers' forecast suppressed, no figure */
    th_as("someone", NULL);
    out = snapshot("json");
    j = json_loads(out, 0, NULL);
    json_t *o =
        json_array_get(json_object_get(json_object_get(j, "expected_next_shift"), "panels"), 2);
    cr_assert_str_eq(json_string_value(json_object_get(o, "suppressed")), "<5", "%s", out);
    cr_assert(json_is_null(json_object_get(o, "value")) &&
              json_is_null(json_object_get(o, "error")) &&
              json_is_null(json_object_get(o, "reason")));
    json_decref(j);
    free(out);
}

Test(report_forecast, csv_columns_at_the_end)
{
    setup_cache();
    th_as("cmd", NULL);
    char *out = snapshot("csv");
    cr_assert(
        strncmp(out,
                "panel,title,metric,entity,agg,window,value,unit,status,n,previous,change_pct,"
                "week_ago,as_of,baseline_low,baseline_high,baseline_median,"
                "baseline_weeks_used,baseline_weeks,baseline_slice,unusual,forecast_from,"
                "forecast_to,forecast_value,forecast_low,forecast_high,forecast_error,"
                "forecast_shown,forecast_reason\n",
                strlen("panel,title,metric,")) == 0 &&
            strstr(out, ",forecast_shown,forecast_reason\n"),
        "%s", out);
    cr_assert(strstr(out, ",Sun 23-24h,none,2025-11-10T00:00:00.000Z,2025-11-10T08:00:00.000Z,42,"
                          "42,42,0,yes,\n"),
              "%s", out);
    cr_assert(strstr(out, "\nnoisy,Noisy,") && strstr(out, ",no,backtest error "), "%s", out);
    cr_assert(strstr(out, "\nplain,Plain,calls,,count,8h,") && strstr(out, ",,,,,,,,,,,,,,,\n"),
              "no baseline nor forecast: empty columns:\n%s", out);
    free(out);
}
