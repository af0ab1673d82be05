/*
 * test_reference_baseline.c - `sitrep query --agg baseline` and `--agg
 * forecast` on real data: tests/fixtures/seattle-response.csv (13 years of
 * one sector's calls, East precinct, Sector Charlie; README there) ingested
 * by the real binary in America/Los_Angeles, against figures this file
 * computes from the CSV itself.
 *
 * The counts here are of the CSV's rows by their local wall-clock time as
 * written (the ISO-8601 digits before the offset), so the week k back of a
 * slice is the same digits 7k days earlier: no time-zone code of sitrep's
 * is used to get the answer. The data are sparse (about 8 priority 3
 * calls a year), which is the point:
 *   - a week of priority 3 calls against the same week over 52 weeks (the
 *     metric's baseline_weeks) rests on the year's calls: a band, equal to
 *     the one computed here (10th to 90th percentile by rank), also where
 *     the year held exactly 10 calls;
 *   - a day against 52 weeks rests on a call or a few: no band, the
 *     reason with the count computed here;
 *   - the forecast's hourly slices rest on none: withheld, the reason
 *     naming the first slice of its level and its count computed here.
 */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../helpers.h"

#define DAY 86400L
#define WEEKS 52 /* [metric.response_p3] baseline_weeks */

typedef struct {
    char metric[32];
    long local; /* wall-clock time as written, read as if UTC (seconds) */
} call;

static call calls[512];
static size_t n_calls;
static char dir[256], cfg[512];

/* Reads "2016-10-17T00:00:00-07:00" into its wall-clock seconds (the
 * digits before the offset, as if UTC). */
static long local_of(const char *iso)
{
    struct tm tm = {0};
    cr_assert_eq(sscanf(iso, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                        &tm.tm_min, &tm.tm_sec),
                 6, "not a time: %s", iso);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long)timegm(&tm);
}

static void setup(void)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  "[sitrep]\n"
                  "cache = cache.db\n"
                  "timezone = America/Los_Angeles\n"
                  "[metric.response_p1]\nkind = event\nunit = s\n"
                  "[metric.response_p2]\nkind = event\nunit = s\n"
                  "[metric.response_p3]\nkind = event\nunit = s\nbaseline_weeks = 52\n"
                  "[metric.response_p4]\nkind = event\nunit = s\n"
                  "[metric.response_p5]\nkind = event\nunit = s\n"
                  "[metric.response_p6]\nkind = event\nunit = s\n");
    char path[1024];
    th_fixture(path, sizeof path, "seattle-response.csv");
    th_ingest(cfg, path, 0);

    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char line[512];
    n_calls = 0;
    cr_assert_not_null(fgets(line, sizeof line, f)); /* the header */
    while (fgets(line, sizeof line, f)) {
        char *metric = strtok(line, ","), *entity = strtok(NULL, ","), *ts = strtok(NULL, ",");
        cr_assert(metric && entity && ts && n_calls < sizeof calls / sizeof calls[0]);
        snprintf(calls[n_calls].metric, sizeof calls[n_calls].metric, "%s", metric);
        calls[n_calls++].local = local_of(ts);
    }
    fclose(f);
    cr_assert_eq(n_calls, 158, "the README's 158 calls");
}

static void teardown(void)
{
    if (dir[0])
        th_rmtree(dir);
}

TestSuite(reference_baseline, .init = setup, .fini = teardown);

/* Calls of metric in local [from, to). */
static int count(const char *metric, long from, long to)
{
    int n = 0;
    for (size_t i = 0; i < n_calls; i++)
        n += strcmp(calls[i].metric, metric) == 0 && calls[i].local >= from && calls[i].local < to;
    return n;
}

/* The oldest call of metric, local. */
static long oldest(const char *metric)
{
    long t = 0;
    for (size_t i = 0; i < n_calls; i++)
        if (strcmp(calls[i].metric, metric) == 0 && (t == 0 || calls[i].local < t))
            t = calls[i].local;
    return t;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The baseline of the count of metric in local [from, to) over weeks
 * weeks, every one of them after the metric's first call. */
typedef struct {
    int n; /* calls under the band */
    int low, high, max;
    double median;
    bool band;
} expect;

static expect baseline_of(const char *metric, long from, long to, int weeks)
{
    int v[WEEKS];
    expect e = {0};
    cr_assert_leq(weeks, WEEKS);
    cr_assert_lt(oldest(metric) + DAY, from - weeks * 7 * DAY, "every week has history");
    for (int k = 1; k <= weeks; k++) {
        v[k - 1] = count(metric, from - k * 7 * DAY, to - k * 7 * DAY);
        e.n += v[k - 1];
    }
    qsort(v, (size_t)weeks, sizeof *v, cmp_int);
    int cut = weeks / 10;
    e.band = e.n >= 10;
    e.low = v[cut];
    e.high = v[weeks - 1 - cut];
    e.max = v[weeks - 1];
    e.median = weeks % 2 ? v[weeks / 2] : (v[weeks / 2 - 1] + v[weeks / 2]) / 2.0;
    return e;
}

/* Runs argv, asserts exit status 0; returns stdout (caller frees). */
static char *run_ok(char **argv)
{
    char *out, *err;
    int rc = th_run(NULL, argv, &out, &err);
    cr_assert_eq(rc, 0, "exit %d: %s%s", rc, out, err);
    free(err);
    return out;
}

/* The fields of the CSV's second line (no quoted fields in these rows),
 * split in place into f[0..max); their number. */
static size_t row_fields(char *csv, char **f, size_t max)
{
    char *row = strchr(csv, '\n');
    cr_assert_not_null(row, "%s", csv);
    row++;
    row[strcspn(row, "\n")] = 0;
    size_t n = 0;
    for (char *p = row; n < max; p++) {
        f[n++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p = 0;
    }
    return n;
}

/* sitrep query response_p3 --agg baseline:count over [from, to) of the
 * whole sector, csv; the stdout. */
static char *baseline_csv(const char *from, const char *to)
{
    char *argv[] = {"query",    "response_p3", "--agg",    "baseline:count",
                    "--from",   (char *)from,  "--to",     (char *)to,
                    "--entity", "seattle",     "--format", "csv",
                    "--config", cfg,           NULL};
    return run_ok(argv);
}

/*
 * The week [from, to) against the same week in each of the 52 before it,
 * by `query --format csv`: the figure, and the band and median computed
 * here; the week before is the run's other slice, so the verdict is
 * computed here too (none when either slice has no band). Returns the
 * band computed here.
 */
static expect check_week(const char *from, const char *to, const char *label)
{
    long lf = local_of(from), lt = local_of(to);
    expect e = baseline_of("response_p3", lf, lt, WEEKS);
    expect before = baseline_of("response_p3", lf - 7 * DAY, lf, WEEKS);
    cr_assert(e.band, "premise: %d calls under the band", e.n);
    int now = count("response_p3", lf, lt), prev = count("response_p3", lf - 7 * DAY, lf);
    const char *verdict = !before.band                         ? ""
                          : now > e.high && prev > before.high ? "high"
                          : now < e.low && prev < before.low   ? "low"
                                                               : "none";

    char *out = baseline_csv(from, to);
    cr_assert(strncmp(out,
                      "entity,agg,value,n,low,high,median,weeks_used,weeks,slice,unusual,reason\n",
                      72) == 0,
              "%s", out);
    char *f[12];
    cr_assert_eq(row_fields(out, f, 12), 12, "%s", out);
    cr_assert_str_eq(f[0], "seattle");
    cr_assert_str_eq(f[1], "count");
    cr_assert_eq(atoi(f[2]), now, "the week's calls: %s", f[2]);
    cr_assert_eq(atoi(f[3]), now);
    cr_assert_eq(strtod(f[4], NULL), e.low, "low %s, computed %d", f[4], e.low);
    cr_assert_eq(strtod(f[5], NULL), e.high, "high %s, computed %d", f[5], e.high);
    cr_assert_eq(strtod(f[6], NULL), e.median, "median %s, computed %g", f[6], e.median);
    cr_assert_str_eq(f[7], "52");
    cr_assert_str_eq(f[8], "52");
    cr_assert_str_eq(f[9], label);
    cr_assert_str_eq(f[10], verdict);
    cr_assert_str_eq(f[11], "");
    free(out);
    return e;
}

/* The week Mon 2016-10-17 to Mon 2016-10-24 (Pacific daylight time): the
 * year before it holds 17 priority 3 calls, a band. */
Test(reference_baseline, a_week_against_a_year_has_the_band_computed_here)
{
    check_week("2016-10-17T00:00:00-07:00", "2016-10-24T00:00:00-07:00", "Mon 00h-Mon 00h");
}

/* The week from Wed 2015-12-30 (Pacific standard time): exactly 10 calls
 * in the year before, the fewest a band rests on; its busiest week held
 * more than the band's top, the 90th percentile by rank. */
Test(reference_baseline, ten_calls_are_enough_for_a_band)
{
    expect e =
        check_week("2015-12-30T00:00:00-08:00", "2016-01-06T00:00:00-08:00", "Wed 00h-Wed 00h");
    cr_assert_eq(e.n, 10, "premise: %d calls", e.n);
    cr_assert_gt(e.max, e.high, "premise: the busiest week is above the band");
}

/*
 * A day, Mon 2016-10-17, against 52 Mondays: a call or a few, too few
 * for a band. The reason says how many, and that is the count here; the
 * text output says it after the row, and gives no verdict.
 */
Test(reference_baseline, a_day_against_a_year_is_too_sparse_for_a_band)
{
    const char *from = "2016-10-17T00:00:00-07:00", *to = "2016-10-18T00:00:00-07:00";
    expect e = baseline_of("response_p3", local_of(from), local_of(to), WEEKS);
    cr_assert(e.n > 0 && !e.band, "premise: a few calls, not 10 (%d)", e.n);
    char why[64];
    snprintf(why, sizeof why, "too few observations: %d in 52 weeks", e.n);

    char *out = baseline_csv(from, to);
    char *f[12];
    cr_assert_eq(row_fields(out, f, 12), 12, "%s", out);
    cr_assert_str_eq(f[4], "", "no low: %s", f[4]);
    cr_assert_str_eq(f[5], "");
    cr_assert_str_eq(f[6], "");
    cr_assert_str_eq(f[9], "Mon 00-24h");
    cr_assert_str_eq(f[10], "", "no verdict without a band");
    cr_assert_str_eq(f[11], why);
    free(out);

    char *argv[] = {"query",      "response_p3", "--agg",    "baseline:count", "--from",
                    (char *)from, "--to",        (char *)to, "--entity",       "seattle",
                    "--config",   cfg,           NULL};
    out = run_ok(argv);
    char tail[96];
    snprintf(tail, sizeof tail, " -  (%s)\n", why); /* no verdict, and why */
    cr_assert(strstr(out, "Mon 00-24h ") && strstr(out, tail), "%s", out);
    free(out);
}

/*
 * The forecast of priority 3 calls from Mon 2016-10-24 00:00: its level
 * rests on the 4 hours before, whose first, Sun 20-21h, held a few calls
 * at most in 52 weeks. Withheld, with that slice and its count.
 */
Test(reference_baseline, the_forecast_is_withheld_with_the_reason)
{
    const char *at = "2016-10-24T00:00:00-07:00";
    long la = local_of(at);
    expect e = baseline_of("response_p3", la - 4 * 3600, la - 3 * 3600, WEEKS);
    cr_assert(!e.band, "premise: fewer than 10 calls (%d)", e.n);
    char why[128];
    snprintf(why, sizeof why, "no baseline for Sun 20-21h: too few observations: %d in 52 weeks",
             e.n);

    char *argv[] = {"query",    "response_p3", "--agg",   "forecast:count", "--at",
                    (char *)at, "--entity",    "seattle", "--format",       "csv",
                    "--config", cfg,           NULL};
    char *out = run_ok(argv);
    char *f[14];
    cr_assert_eq(row_fields(out, f, 14), 14, "%s", out);
    cr_assert_str_eq(f[0], "seattle");
    cr_assert_str_eq(f[2], "2016-10-24T07:00:00.000Z");
    cr_assert_str_eq(f[3], "2016-10-24T15:00:00.000Z");
    cr_assert_str_eq(f[4], "", "no figure: %s", f[4]);
    cr_assert_str_eq(f[5], "");
    cr_assert_str_eq(f[6], "");
    cr_assert_str_eq(f[12], "no");
    cr_assert_str_eq(f[13], why);
    free(out);

    char *text[] = {"query",    "response_p3", "--agg",    "forecast:count",
                    "--at",     (char *)at,    "--entity", "seattle",
                    "--config", cfg,           NULL};
    out = run_ok(text);
    char line[160];
    snprintf(line, sizeof line, "no forecast: %s\n", why);
    cr_assert(strstr(out, line), "%s", out);
    free(out);
}
