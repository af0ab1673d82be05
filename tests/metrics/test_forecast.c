/*
 * Tests of metrics/forecast.c on crafted hourly series in a real store,
 * with answers computed here from the counts put: a pure weekly pattern
 * (the forecast is the pattern, the backtest error 0), the pattern times
 * 1.5 over the last two days (the level factor is 1.5), the pattern plus
 * noise (the backtest's WAPE recomputed here from the counts), too little
 * history (the reason), the limit withholding the forecast, and a
 * backlog (a gauge's average: the mean of its hours).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/forecast.h"
#include "../../metrics/store.h"
#include "../helpers.h"
#include "catalog.h"

#define H SR_MS_HOUR
#define WH 168                     /* hours in a week */
#define T0 1762732800000LL         /* Mon 2025-11-10T00:00:00Z: the origin */
#define WEEKS 14                   /* of history before T0 */
#define NH (WEEKS * WH)            /* hours of history */
#define START (T0 - (sr_ms)NH * H) /* hour 0 */

static char dir[256];
static sr_store *st;
static sr_metric_def defs[2];
static sr_catalog cat = {defs, 0};
static int cnt[NH]; /* the count put in each hour */

static void setup(void)
{
    st = th_store_in(dir, sizeof dir, "f.db");
    cat.n = 0;
    sr_metric_def *d = th_add_def(&cat, 2, st, "calls", SR_KIND_EVENT);
    d->agg = (sr_agg){SR_AGG_COUNT, 0};
}

static void teardown(void)
{
    sr_store_close(st);
    th_rmtree(dir);
}

TestSuite(forecast, .init = setup, .fini = teardown);

static int pattern(int i)
{
    return 2 + 2 * ((i % WH) % 5);
}

/* Puts cnt[from..NH) as calls of force/north, the first at hour from's start. */
static void put_all(int from)
{
    static int seq;
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = from; i < NH; i++)
        for (int c = 0; c < cnt[i]; c++) {
            char key[32];
            snprintf(key, sizeof key, "c%d", seq++);
            sr_sample s = {"calls", "force/north", START + (sr_ms)i * H + c * (H / (cnt[i] + 1)),
                           1.0, key};
            bool dup;
            cr_assert_eq(sr_store_put(st, &s, &dup), 0);
        }
    cr_assert_eq(sr_store_commit(st), 0);
}

/* Puts the pattern plus 0-3 from a fixed sequence started at seed. */
static void put_noisy(unsigned seed)
{
    for (int i = 0; i < NH; i++) {
        seed = seed * 1103515245u + 12345u;
        cnt[i] = pattern(i) + (int)((seed >> 16) % 4u);
    }
    put_all(0);
}

static sr_forecast run(double max_error)
{
    sr_query q = {.metric = "calls",
                  .entity = "force/north",
                  .agg = {SR_AGG_COUNT, 0},
                  .from_ms = T0 - H,
                  .to_ms = T0 + 17 * 60000}; /* rounded down to T0 */
    sr_forecast_opts o = {
        .base = {.weeks = 8}, .horizon_ms = 8 * H, .additive = true, .max_error = max_error};
    sr_forecast f;
    cr_assert_eq(sr_forecast_compute(st, &cat, &q, &o, &f), 0);
    cr_assert_eq(f.now.from_ms, T0);
    cr_assert_eq(f.now.to_ms, T0 + 8 * H);
    return f;
}

static int cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The median of the 8 weeks before hour i (computed here, not by baseline.c). */
static double median8(int i)
{
    int v[8];
    for (int k = 1; k <= 8; k++)
        v[k - 1] = i - k * WH >= NH ? pattern(i - k * WH) : cnt[i - k * WH];
    qsort(v, 8, sizeof *v, cmp);
    return (v[3] + v[4]) / 2.0;
}

/* The forecast of the 8 hours from hour i, computed here from cnt. */
static double forecast_at(int i)
{
    double act = 0, med = 0, v = 0;
    for (int k = i - 4; k < i; k++) {
        act += cnt[k];
        med += median8(k);
    }
    double f = med > 0 ? act / med : 1;
    for (int k = i; k < i + 8; k++)
        v += median8(k) * f;
    return v;
}

Test(forecast, pure_weekly_pattern_is_forecast_exactly)
{
    for (int i = 0; i < NH; i++)
        cnt[i] = pattern(i);
    put_all(0);
    sr_forecast f = run(0.25);
    double want = 0;
    for (int i = NH; i < NH + 8; i++)
        want += pattern(i);
    cr_assert(f.shown, "%s", f.why);
    cr_assert_float_eq(f.now.level, 1.0, 1e-12);
    cr_assert_float_eq(f.now.value, want, 1e-9);
    cr_assert_float_eq(f.now.low, want, 1e-9);
    cr_assert_float_eq(f.now.high, want, 1e-9);
    cr_assert_eq(f.origins, 84); /* 4 weeks of 8-hour steps */
    cr_assert_eq(f.used, 84);
    cr_assert_float_eq(f.error, 0.0, 1e-12);
}

Test(forecast, level_step_is_picked_up)
{
    for (int i = 0; i < NH; i++)
        cnt[i] = pattern(i) * (i >= NH - 48 ? 3 : 2) / 2; /* x1.5 over the last two days */
    put_all(0);
    sr_forecast f = run(NAN);
    double want = 0;
    for (int i = NH; i < NH + 8; i++)
        want += pattern(i) * 1.5;
    cr_assert(f.now.ok, "%s", f.now.why);
    cr_assert_float_eq(f.now.level, 1.5, 1e-12);
    cr_assert_float_eq(f.now.value, want, 1e-9);
    cr_assert(f.error > 0); /* the step was not foreseen by the origins before it */
}

Test(forecast, noise_backtest_error_matches_wape_computed_here)
{
    put_noisy(777u);
    sr_forecast f = run(NAN);
    double abs_err = 0, act = 0;
    for (int j = 1; j <= 84; j++) {
        int i = NH - j * 8;
        double a = 0;
        for (int k = i; k < i + 8; k++)
            a += cnt[k];
        abs_err += fabs(a - forecast_at(i));
        act += a;
    }
    cr_assert(f.shown, "%s", f.why);
    cr_assert_eq(f.used, 84);
    cr_assert_float_eq(f.actual, act, 1e-9);
    cr_assert_float_eq(f.error, abs_err / act, 1e-9);
    cr_assert(f.error > 0.01);
}

Test(forecast, the_limit_withholds_it_with_the_reason)
{
    put_noisy(4242u);
    sr_forecast f = run(0.001);
    cr_assert(f.now.ok);
    cr_assert_not(f.shown);
    char want[128];
    snprintf(want, sizeof want, "backtest error %.0f %% over 4 wk is above the limit of 0 %%",
             f.error * 100.0);
    cr_assert_str_eq(f.why, want);
}

Test(forecast, too_little_history_says_so)
{
    for (int i = 0; i < NH; i++)
        cnt[i] = 2 * pattern(i); /* 4 weeks of 4 calls are observations enough for a band */
    put_all(NH - 5 * WH);        /* 5 weeks: a baseline now (4 weeks needed), 20 origins with one */
    sr_forecast f = run(0.25);
    cr_assert(f.now.ok, "%s", f.now.why);
    cr_assert_not(f.shown);
    cr_assert_eq(f.used, 20);
    cr_assert_eq(f.needed, 21);
    cr_assert(strstr(f.why, "too little history"), "%s", f.why);

    sr_store_close(st);
    th_rmtree(dir);
    setup();
    put_all(NH - 2 * WH); /* 2 weeks: no baseline at all */
    f = run(0.25);
    cr_assert_not(f.now.ok);
    cr_assert_not(f.shown);
    cr_assert(strstr(f.why, "too few weeks"), "%s", f.why);
}

Test(forecast, a_backlog_is_the_mean_of_its_hours)
{
    sr_metric_def *d = th_add_def(&cat, 2, st, "queue", SR_KIND_GAUGE);
    d->agg = (sr_agg){SR_AGG_AVG, 0};
    cr_assert_eq(sr_store_begin(st), 0);
    for (int i = 0; i < NH; i++) {
        char key[32];
        snprintf(key, sizeof key, "q%d", i);
        sr_sample s = {"queue", "force/north", START + (sr_ms)i * H, (double)pattern(i), key};
        bool dup;
        cr_assert_eq(sr_store_put(st, &s, &dup), 0);
        /* read twice an hour: 8 weeks of one reading would be too few observations */
        snprintf(key, sizeof key, "r%d", i);
        s.ts_ms += H / 2;
        cr_assert_eq(sr_store_put(st, &s, &dup), 0);
    }
    cr_assert_eq(sr_store_commit(st), 0);
    sr_query q = {.metric = "queue",
                  .entity = "force/north",
                  .agg = {SR_AGG_AVG, 0},
                  .from_ms = T0 - H,
                  .to_ms = T0};
    sr_forecast_opts o = {.base = {.weeks = 8}, .horizon_ms = 8 * H, .max_error = 0.25};
    sr_forecast f;
    cr_assert_eq(sr_forecast_compute(st, &cat, &q, &o, &f), 0);
    cr_assert(f.shown, "%s", f.why);
    cr_assert_float_eq(f.now.value, 42.0 / 8, 1e-9); /* Mon 00-08h: 2 4 6 8 10 2 4 6 */
    cr_assert_float_eq(f.error, 0.0, 1e-12);

    o.horizon_ms = 90 * 60000; /* not whole hours */
    cr_assert_eq(sr_forecast_compute(st, &cat, &q, &o, &f), SR_EINVAL);
}
