/*
 * Tests of metrics/baseline.c on crafted series with a known answer, in a
 * real store: a weekly pattern plus noise (the band computed here from the
 * counts put), a step change (the band lags, the run is unusual), a
 * holiday left out, sparse history and a sparse series (the reasons), a week across the end of
 * British Summer Time (the same hour on the clock), the slice's label, the
 * verdict on crafted runs, and the excluded dates' parser.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/baseline.h"
#include "../../metrics/query.h"
#include "../../metrics/store.h"
#include "../helpers.h"
#include "catalog.h"

#define H SR_MS_HOUR
#define WEEK (7 * SR_MS_DAY)
#define FRI 1762552800000LL /* Fri 2025-11-07T22:00:00Z: 22:00 in London (GMT) */
#define THU 1768514400000LL /* Thu 2026-01-15T22:00:00Z: week 3 back is Christmas Day */

static char dir[256];
static sr_store *st;
static sr_metric_def defs[2];
static sr_catalog cat = {defs, 0};

static void setup(void)
{
    st = th_store_in(dir, sizeof dir, "b.db");
    cat.n = 0;
    sr_metric_def *d = th_add_def(&cat, 2, st, "calls", SR_KIND_EVENT);
    d->agg = (sr_agg){SR_AGG_COUNT, 0};
    cr_assert_eq(sr_store_begin(st), 0);
}

static void teardown(void)
{
    sr_store_close(st);
    th_rmtree(dir);
}

TestSuite(baseline, .init = setup, .fini = teardown);

/* count calls of entity spread inside the hour from `from`. */
static void put_calls(const char *entity, sr_ms from, int count)
{
    static int seq;
    for (int i = 0; i < count; i++) {
        char key[32];
        snprintf(key, sizeof key, "c%d", seq++);
        sr_sample s = {"calls", entity, from + (i + 1) * (H / (count + 2)), 1.0, key};
        bool dup;
        cr_assert_eq(sr_store_put(st, &s, &dup), 0);
    }
}

static void commit(void)
{
    cr_assert_eq(sr_store_commit(st), 0);
}

/* Noise: 0..span-1 from a fixed sequence. */
static int noise(int span)
{
    static unsigned x = 12345;
    x = x * 1103515245u + 12345u;
    return (int)((x >> 16) % (unsigned)span);
}

static sr_query slice_of(const char *entity, sr_ms from, sr_ms to)
{
    return (sr_query){.metric = "calls",
                      .entity = entity,
                      .agg = {SR_AGG_COUNT, 0},
                      .from_ms = from,
                      .to_ms = to};
}

/* Commits what the test put and computes into *b the 8-week baseline in
 * zone tz of force's count in Fri 22-23h (FRI). */
static void baseline_8w(const char *tz, sr_baseline *b)
{
    commit();
    sr_query q = slice_of("force", FRI, FRI + H);
    sr_baseline_opts o = {.weeks = 8, .tz = tz};
    cr_assert_eq(sr_baseline_compute(st, &cat, &q, &o, b), 0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

Test(baseline, weekly_pattern_plus_noise)
{
    enum { N = 20 };
    int c[N + 1];
    put_calls("force/a", FRI - (N + 2) * WEEK, 1); /* the cache's history starts before */
    for (int k = 1; k <= N; k++) {
        c[k] = 20 + noise(10);
        put_calls("force/a", FRI - k * WEEK, c[k]);
        put_calls("force/a", FRI - k * WEEK - H, 5 + noise(3)); /* the quieter hour before */
        put_calls("force/b", FRI - k * WEEK, 50);               /* not under force/a */
    }
    put_calls("force/a", FRI, 24);
    put_calls("force/b", FRI + H, 1); /* the slice is over: data after it */
    commit();

    /* 8 weeks: the band is the lowest and the highest of the 8 */
    sr_query q = slice_of("force/a", FRI, FRI + H);
    sr_baseline_opts o = {.weeks = 8, .tz = "UTC"};
    sr_baseline b;
    cr_assert_eq(sr_baseline_compute(st, &cat, &q, &o, &b), 0);
    double v[N];
    for (int k = 1; k <= 8; k++) {
        v[k - 1] = c[k];
        cr_assert_eq(b.week[k - 1].state, SR_WEEK_USED);
        cr_assert_eq(b.week[k - 1].from_ms, FRI - k * WEEK);
        cr_assert_eq(b.week[k - 1].r.value, c[k], "week %d: %g, put %d", k, b.week[k - 1].r.value,
                     c[k]);
    }
    qsort(v, 8, sizeof *v, cmp_double);
    cr_assert(b.has_band);
    cr_assert_eq(b.used, 8);
    cr_assert_eq(b.low, v[0]);
    cr_assert_eq(b.high, v[7]);
    cr_assert_eq(b.median, (v[3] + v[4]) / 2);
    cr_assert_str_eq(b.why, "");

    /* 20 weeks: the two lowest and the two highest (a tenth) are left out */
    o.weeks = N;
    cr_assert_eq(sr_baseline_compute(st, &cat, &q, &o, &b), 0);
    for (int k = 1; k <= N; k++)
        v[k - 1] = c[k];
    qsort(v, N, sizeof *v, cmp_double);
    cr_assert_eq(b.used, N);
    cr_assert_eq(b.low, v[2]);
    cr_assert_eq(b.high, v[N - 3]);
    cr_assert_eq(b.median, (v[9] + v[10]) / 2);
}

Test(baseline, step_change_is_unusual_and_the_band_lags)
{
    put_calls("force", FRI - 10 * WEEK, 1);
    static const char *const ents[] = {"force/up", "force/once", "force/down"};
    for (int k = 1; k <= 8; k++)
        for (size_t e = 0; e < 3; e++) {
            put_calls(ents[e], FRI - k * WEEK, 20 + noise(5));
            put_calls(ents[e], FRI - k * WEEK - H, 20 + k % 5); /* 20 to 24 */
        }
    put_calls("force/up", FRI - H, 55); /* a step up, two slices running */
    put_calls("force/up", FRI, 60);
    put_calls("force/once", FRI - H, 22); /* one slice only */
    put_calls("force/once", FRI, 60);
    put_calls("force/down", FRI - H, 3); /* a step down */
    put_calls("force/down", FRI, 2);
    commit();
    sr_baseline_opts o = {.weeks = 8, .tz = "UTC"};
    sr_baseline_slice run[2];
    static const sr_unusual want[] = {SR_UNUSUAL_HIGH, SR_UNUSUAL_NONE, SR_UNUSUAL_LOW};
    for (size_t e = 0; e < 3; e++) {
        sr_query q = slice_of(ents[e], FRI, FRI + H);
        cr_assert_eq(sr_baseline_run(st, &cat, &q, &o, 2, run), 0);
        cr_assert_eq(run[1].from_ms, FRI);
        cr_assert_eq(run[0].from_ms, FRI - H);
        cr_assert_eq(run[0].to_ms, FRI);
        /* the band rests on the weeks before the step: it has not moved */
        cr_assert(run[1].base.has_band);
        cr_assert_leq(run[1].base.high, 24);
        cr_assert_geq(run[1].base.low, 20);
        cr_assert_eq(sr_baseline_unusual(run, 2), want[e], "%s: %s", ents[e],
                     sr_unusual_name(sr_baseline_unusual(run, 2)));
    }
    /* one slice is enough when the metric asks for one */
    sr_query q = slice_of("force/once", FRI, FRI + H);
    cr_assert_eq(sr_baseline_run(st, &cat, &q, &o, 1, run), 0);
    cr_assert_eq(run[0].figure.value, 60);
    cr_assert_eq(sr_baseline_unusual(run, 1), SR_UNUSUAL_HIGH);
}

Test(baseline, holiday_excluded)
{
    put_calls("force", THU - 10 * WEEK, 1);
    double others[8];
    size_t n = 0;
    for (int k = 1; k <= 8; k++) {
        int count = k == 3 ? 90 : 20 + noise(10); /* week 3: Christmas Day, 22-23h */
        put_calls("force", THU - k * WEEK, count);
        if (k != 3)
            others[n++] = count;
    }
    commit();
    sr_query q = slice_of("force", THU, THU + H);
    sr_baseline_opts o = {.weeks = 8, .tz = "UTC"};
    sr_baseline b;
    cr_assert_eq(sr_baseline_compute(st, &cat, &q, &o, &b), 0);
    cr_assert_eq(b.high, 90, "without the exclusion the holiday is the high end");
    int32_t xmas[] = {20251226, 20251225};
    o.exclude = xmas;
    o.n_exclude = 2;
    cr_assert_eq(sr_baseline_compute(st, &cat, &q, &o, &b), 0);
    cr_assert_eq(b.week[2].state, SR_WEEK_EXCLUDED);
    cr_assert_eq(b.week[2].from_ms, 1766700000000LL); /* 2025-12-25T22:00:00Z */
    cr_assert_eq(b.excluded, 1);
    cr_assert_eq(b.used, 7);
    qsort(others, n, sizeof *others, cmp_double);
    cr_assert_eq(b.low, others[0]);
    cr_assert_eq(b.high, others[6]);
    cr_assert_eq(b.median, others[3]);
}

Test(baseline, sparse_history_gives_the_reason)
{
    /* the cache begins two weeks and an hour back */
    put_calls("force", FRI - 2 * WEEK - H, 1);
    put_calls("force", FRI - 2 * WEEK, 30);
    put_calls("force", FRI - WEEK, 31);
    commit();
    sr_query q = slice_of("force", FRI, FRI + H);
    sr_baseline_opts o = {.weeks = 8, .tz = "UTC"};
    sr_baseline b;
    cr_assert_eq(sr_baseline_compute(st, &cat, &q, &o, &b), 0);
    cr_assert_not(b.has_band);
    cr_assert_eq(b.used, 2);
    cr_assert_str_eq(b.why, "too few weeks: 2 of 8");
    cr_assert(isnan(b.low) && isnan(b.high) && isnan(b.median));
    for (int k = 3; k <= 8; k++)
        cr_assert_eq(b.week[k - 1].state, SR_WEEK_NO_HISTORY, "week %d", k);
    sr_baseline_slice run[2];
    cr_assert_eq(sr_baseline_run(st, &cat, &q, &o, 2, run), 0);
    cr_assert_eq(sr_baseline_unusual(run, 2), SR_UNUSUAL_UNKNOWN);
}

Test(baseline, quiet_weeks_count_as_zero_once_the_cache_covers_them)
{
    put_calls("force", FRI - 9 * WEEK, 1);
    put_calls("force", FRI - WEEK, 12);
    sr_baseline b;
    baseline_8w("UTC", &b);
    cr_assert_eq(b.used, 8);
    cr_assert_eq(b.n, 12);
    cr_assert_eq(b.low, 0);
    cr_assert_eq(b.high, 12);
    cr_assert_eq(b.median, 0);
}

/*
 * A sparse series: a quiet hour whose 8 weeks held 0, 0, 1, 0, 0, 0, 0, 0
 * calls would have the band 0-1, and one call now would read as unusual.
 * Fewer than 10 observations under the band (the fewest a percentile is
 * shown over): no band, the reason, and no verdict. 9 are still too few;
 * 10 are enough.
 */
Test(baseline, sparse_series_has_no_band_but_the_reason)
{
    put_calls("force", FRI - 9 * WEEK, 1); /* the cache's history starts before */
    put_calls("force", FRI - 3 * WEEK, 1);
    put_calls("force", FRI - H, 2); /* the slice before: the run's first */
    put_calls("force", FRI, 2);
    put_calls("force", FRI + H, 1); /* the slice is over: weeks compared whole */
    sr_baseline b;
    baseline_8w("UTC", &b);
    cr_assert_eq(b.used, 8);
    cr_assert_eq(b.n, 1);
    cr_assert_not(b.has_band);
    cr_assert_str_eq(b.why, "too few observations: 1 in 8 weeks");
    cr_assert(isnan(b.low) && isnan(b.high) && isnan(b.median));
    sr_baseline_slice run[2];
    sr_query q = slice_of("force", FRI, FRI + H);
    sr_baseline_opts o = {.weeks = 8, .tz = "UTC"};
    cr_assert_eq(sr_baseline_run(st, &cat, &q, &o, 2, run), 0);
    cr_assert_eq(run[1].figure.value, 2);
    cr_assert_eq(sr_baseline_unusual(run, 2), SR_UNUSUAL_UNKNOWN);

    cr_assert_eq(sr_store_begin(st), 0);
    put_calls("force", FRI - 5 * WEEK, 8); /* 9 in all */
    baseline_8w("UTC", &b);
    cr_assert_eq(b.n, 9);
    cr_assert_not(b.has_band);
    cr_assert_str_eq(b.why, "too few observations: 9 in 8 weeks");

    cr_assert_eq(sr_store_begin(st), 0);
    put_calls("force", FRI - 6 * WEEK, 1); /* 10: a band */
    baseline_8w("UTC", &b);
    cr_assert_eq(b.n, 10);
    cr_assert(b.has_band, "%s", b.why);
    cr_assert_str_eq(b.why, "");
    cr_assert_eq(b.low, 0);
    cr_assert_eq(b.high, 8);
    cr_assert_eq(b.median, 0); /* 0 0 0 0 0 1 1 8 */
}

/* The weeks come first: too few of them is the reason even when their
 * observations are also too few. */
Test(baseline, too_few_weeks_is_said_before_too_few_observations)
{
    put_calls("force", FRI - 2 * WEEK - H, 1); /* the cache's history: weeks 1 and 2 */
    put_calls("force", FRI - WEEK, 1);
    sr_baseline b;
    baseline_8w("UTC", &b);
    cr_assert_eq(b.used, 2);
    cr_assert_eq(b.n, 1);
    cr_assert_str_eq(b.why, "too few weeks: 2 of 8");
}

Test(baseline, same_local_hour_across_the_end_of_summer_time)
{
    /* London: clocks went back on Sun 2025-10-26; Fri 22:00 is 22:00Z in
     * GMT (weeks 0 and 1) and 21:00Z in BST (weeks 2 and on) */
    put_calls("force", FRI - 10 * WEEK, 1);
    for (int k = 1; k <= 8; k++) {
        sr_ms local22 = FRI - k * WEEK - (k >= 2 ? H : 0);
        put_calls("force", local22, 10 + k);
        if (k >= 2)
            put_calls("force", local22 + H, 99); /* 23:00 on the clock */
    }
    sr_baseline b;
    baseline_8w("Europe/London", &b);
    cr_assert_eq(b.week[1].from_ms, 1761339600000LL); /* 2025-10-24T21:00:00Z, 22:00 BST */
    for (int k = 1; k <= 8; k++) {
        cr_assert_eq(b.week[k - 1].to_ms - b.week[k - 1].from_ms, H);
        cr_assert_eq(b.week[k - 1].r.value, 10 + k, "week %d: %g", k, b.week[k - 1].r.value);
    }
    cr_assert_eq(b.low, 11);
    cr_assert_eq(b.high, 18);

    /* the week across the change itself: a slice of Sunday 00-03h local */
    sr_ms sun = 1762041600000LL; /* Sun 2025-11-02T00:00:00Z, GMT */
    sr_ms f, t;
    cr_assert_eq(sr_baseline_week_slice("Europe/London", sun, sun + 3 * H, 1, &f, &t), 0);
    cr_assert_eq(f, sun - WEEK - H, "00:00 BST is 23:00Z the day before");
    cr_assert_eq(t, sun - WEEK + 3 * H, "03:00 GMT, after the clocks went back");
    /* Chicago: the clocks went forward on Sun 2025-03-09 */
    sr_ms chi = 1742014800000LL; /* Sat 2025-03-15T05:00:00Z, 00:00 CDT */
    cr_assert_eq(sr_baseline_week_slice("America/Chicago", chi, chi + H, 1, &f, &t), 0);
    cr_assert_eq(f, chi - WEEK + H, "00:00 CST a week earlier is 06:00Z");
}

/* London's clocks went forward at 01:00 on Sun 2026-03-29: a week later,
 * Sun 01-02h's first week back is an hour that did not exist. It has no
 * figure (it is not an error, nor a count of 0); the other 7 make the band. */
Test(baseline, an_hour_the_clocks_skipped_has_no_figure)
{
    sr_ms sun = 1775350800000LL; /* Sun 2026-04-05T01:00:00Z, 02:00 BST */
    sr_ms hour = sun - H;        /* 01:00 BST */
    put_calls("force", hour - 10 * WEEK, 1);
    for (int k = 2; k <= 8; k++)
        put_calls("force", hour - k * WEEK + H, 10 + k); /* 01:00 GMT: 01:00Z */
    commit();
    sr_query q = slice_of("force", hour, sun);
    sr_baseline_opts o = {.weeks = 8, .tz = "Europe/London"};
    sr_baseline b;
    cr_assert_eq(sr_baseline_compute(st, &cat, &q, &o, &b), 0);
    cr_assert_eq(b.week[0].from_ms, b.week[0].to_ms, "01:00 and 02:00 were the same instant");
    cr_assert_eq(b.week[0].state, SR_WEEK_NO_DATA);
    cr_assert_eq(b.used, 7);
    cr_assert(b.has_band, "%s", b.why);
    cr_assert_eq(b.low, 12);
    cr_assert_eq(b.high, 18);
}

Test(baseline, slice_label)
{
    char buf[64];
    sr_baseline_label("Europe/London", FRI, FRI + H, buf, sizeof buf);
    cr_assert_str_eq(buf, "Fri 22-23h");
    sr_baseline_label("Europe/London", FRI + H, FRI + 2 * H, buf, sizeof buf);
    cr_assert_str_eq(buf, "Fri 23-24h");
    sr_baseline_label("Europe/London", FRI + H / 2, FRI + H + H / 4, buf, sizeof buf);
    cr_assert_str_eq(buf, "Fri 22:30-23:15");
    sr_baseline_label("Europe/London", FRI, FRI + 8 * H, buf, sizeof buf);
    cr_assert_str_eq(buf, "Fri 22h-Sat 06h");
    sr_baseline_label("America/Chicago", FRI, FRI + H, buf, sizeof buf);
    cr_assert_str_eq(buf, "Fri 16-17h");
}

static sr_baseline_slice crafted(double figure, double low, double high)
{
    sr_baseline_slice s;
    memset(&s, 0, sizeof s);
    s.figure = (sr_result){figure, 1, true};
    s.base.has_band = !isnan(low);
    s.base.low = low;
    s.base.high = high;
    return s;
}

Test(baseline, unusual_verdict)
{
    sr_baseline_slice r[3];
    r[0] = crafted(30, 10, 20);
    r[1] = crafted(25, 12, 22);
    cr_assert_eq(sr_baseline_unusual(r, 2), SR_UNUSUAL_HIGH);
    r[1] = crafted(22, 12, 22); /* on the edge: normal */
    cr_assert_eq(sr_baseline_unusual(r, 2), SR_UNUSUAL_NONE);
    r[0] = crafted(5, 10, 20);
    r[1] = crafted(30, 12, 22); /* below, then above: not one way */
    cr_assert_eq(sr_baseline_unusual(r, 2), SR_UNUSUAL_NONE);
    r[1] = crafted(11, 12, 22);
    r[2] = crafted(0, 1, 3);
    cr_assert_eq(sr_baseline_unusual(r, 3), SR_UNUSUAL_LOW);
    r[2] = crafted(0, NAN, NAN); /* no band */
    cr_assert_eq(sr_baseline_unusual(r, 3), SR_UNUSUAL_UNKNOWN);
    r[2] = crafted(NAN, 1, 3); /* no figure */
    cr_assert_eq(sr_baseline_unusual(r, 3), SR_UNUSUAL_UNKNOWN);
    cr_assert_eq(sr_baseline_unusual(r, 0), SR_UNUSUAL_UNKNOWN);
}

Test(baseline, refuses_a_slice_longer_than_a_week)
{
    commit();
    sr_query q = slice_of("force", FRI - WEEK - H, FRI);
    sr_baseline_opts o = {.weeks = 8, .tz = "UTC"};
    sr_baseline b;
    cr_assert_eq(sr_baseline_compute(st, &cat, &q, &o, &b), SR_ERANGE);
    o.weeks = 3;
    q = slice_of("force", FRI, FRI + H);
    cr_assert_eq(sr_baseline_compute(st, &cat, &q, &o, &b), SR_EINVAL);
}

Test(baseline, excluded_dates)
{
    int32_t d[4];
    size_t n;
    char why[256];
    cr_assert_eq(
        sr_baseline_parse_dates("2026-12-25, 2026-12-26 2027-01-01", d, 4, &n, why, sizeof why), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(d[0], 20261225);
    cr_assert_eq(d[2], 20270101);
    cr_assert_eq(sr_baseline_parse_dates("", d, 4, &n, why, sizeof why), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(sr_baseline_parse_dates("2026-02-30", d, 4, &n, why, sizeof why), SR_EINVAL);
    cr_assert(strstr(why, "got '2026-02-30'"), "%s", why);
    cr_assert_eq(sr_baseline_parse_dates("2026-12-5", d, 4, &n, why, sizeof why), SR_EINVAL);
    cr_assert_eq(sr_baseline_parse_dates("20261225", d, 4, &n, why, sizeof why), SR_EINVAL);
    cr_assert_eq(sr_baseline_parse_dates("2026-01-01,2026-01-02", d, 1, &n, why, sizeof why),
                 SR_ERANGE);
}

/*
 * The slice that ends now is still filling: a source reports a quarter
 * hour once it is over, so at 22:59 the cache holds 22:00-22:45. The
 * weeks are cut where the data ends (one past the newest sample), so that
 * three quarters of an hour are compared with three quarters, not with
 * whole hours; once data after the slice arrives it is compared whole.
 */
Test(baseline, a_slice_still_filling_is_compared_with_the_same_part_of_each_week)
{
    put_calls("force", FRI - 9 * WEEK, 1);
    for (int k = 1; k <= 8; k++) {
        for (int q = 0; q < 4; q++) /* 10 calls a quarter, one at its start */
            for (int i = 0; i < 10; i++) {
                char key[32];
                snprintf(key, sizeof key, "w%d-%d-%d", k, q, i);
                sr_sample s = {"calls", "force", FRI - k * WEEK + q * (H / 4) + i * 60000, 1.0,
                               key};
                bool dup;
                cr_assert_eq(sr_store_put(st, &s, &dup), 0);
            }
    }
    for (int q = 0; q < 3; q++) /* now: three quarters reported */
        for (int i = 0; i < 10; i++) {
            char key[32];
            snprintf(key, sizeof key, "n%d-%d", q, i);
            sr_sample s = {"calls", "force", FRI + q * (H / 4) + i * 60000, 1.0, key};
            bool dup;
            cr_assert_eq(sr_store_put(st, &s, &dup), 0);
        }
    sr_baseline b;
    baseline_8w("UTC", &b);
    /* the newest call is at 22:39: each week up to 22:39 and one ms, on the next whole
     * minute, 30 calls */
    for (int k = 1; k <= 8; k++) {
        cr_assert_eq(b.week[k - 1].to_ms, FRI - k * WEEK + 2 * (H / 4) + 10 * 60000);
        cr_assert_eq(b.week[k - 1].r.value, 30);
    }
    cr_assert(b.has_band);
    cr_assert_eq(b.low, 30);
    cr_assert_eq(b.high, 30);

    /* a call after the slice: the slice is over and the weeks are whole */
    cr_assert_eq(sr_store_begin(st), 0);
    put_calls("force", FRI + H, 1);
    baseline_8w("UTC", &b);
    cr_assert_eq(b.week[0].to_ms, FRI - WEEK + H);
    cr_assert_eq(b.low, 40);
    cr_assert_eq(b.high, 40);
}
