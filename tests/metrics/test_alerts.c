/*
 * Tests of metrics/alerts.c on crafted series (no clock: time is an
 * argument) and of the alert table of metrics/store.c on real SQLite files:
 * round trip between a collector and viewers, and the migration from v5.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/alerts.h"
#include "../../metrics/store.h"
#include "../helpers.h"

/* response time: lower is better, warn at 100, crit at 200 */
static sr_metric_def rt(void)
{
    sr_metric_def d;
    sr_metric_def_init(&d, "rt");
    d.warn = 100;
    d.crit = 200;
    d.better = SR_BETTER_LOWER;
    return d;
}

static sr_alert fresh(void)
{
    sr_alert a;
    cr_assert_eq(sr_alert_init(&a, "response", "rt", 8 * SR_MS_HOUR, "north/a"), 0);
    return a;
}

/* Steps a series one value per minute from t0; counts the events by kind. */
static void run(sr_alert *a, const sr_metric_def *d, const sr_alert_params *p, const double *v,
                size_t n, sr_ms t0, int counts[5])
{
    for (size_t i = 0; i < n; i++)
        counts[sr_alert_step(a, d, p, v[i], t0 + (sr_ms)i * SR_MS_MIN)]++;
}

Test(alerts, key_names_metric_window_and_entity)
{
    char k[SR_ALERT_KEY_MAX];
    cr_assert_eq(sr_alert_key("rt", 8 * SR_MS_HOUR, "north/a", k, sizeof k), 0);
    cr_assert_str_eq(k, "rt:8h@north/a");
    cr_assert_eq(sr_alert_key("rt", SR_MS_DAY, "", k, sizeof k), 0);
    cr_assert_str_eq(k, "rt:1d");
    cr_assert_eq(sr_alert_key("rt", SR_MS_HOUR, "north", k, 5), SR_ERANGE);
    sr_alert a;
    cr_assert_eq(sr_alert_init(&a, "", "rt", SR_MS_HOUR, NULL), SR_EINVAL);
    cr_assert_eq(sr_alert_init(&a, "p", "rt", SR_MS_HOUR, NULL), 0);
    cr_assert_str_eq(a.key, "rt:1h");
    cr_assert_str_eq(a.panel, "p");
    cr_assert_eq(a.state, SR_ALERT_OK);
    cr_assert(isnan(a.value));
}

/* Two panels of one metric, entity and window share a key whatever their
 * names and widgets; another aggregate has no thresholds and so no alert. */
Test(alerts, panels_of_one_condition_share_a_key)
{
    sr_metric_def d = rt();
    d.agg = (sr_agg){SR_AGG_PCT, 90};
    char k1[SR_ALERT_KEY_MAX], k2[SR_ALERT_KEY_MAX];
    cr_assert_eq(sr_alert_key_for(&d, (sr_agg){SR_AGG_PCT, 90}, SR_MS_HOUR, "n", k1, sizeof k1), 0);
    cr_assert_eq(sr_alert_key_for(&d, (sr_agg){SR_AGG_VALUE, 0}, SR_MS_HOUR, "n", k2, sizeof k2),
                 0);
    cr_assert_str_eq(k1, k2);
    cr_assert_eq(sr_alert_key_for(&d, (sr_agg){SR_AGG_WITHIN, 0}, SR_MS_HOUR, "n", k2, sizeof k2),
                 SR_ENOENT);
    cr_assert_eq(sr_alert_key_for(&d, (sr_agg){SR_AGG_PCT, 50}, SR_MS_HOUR, "n", k2, sizeof k2),
                 SR_ENOENT);
    cr_assert_eq(sr_alert_key_for(&d, (sr_agg){SR_AGG_PCT, 90}, 2 * SR_MS_HOUR, "n", k2, sizeof k2),
                 0);
    cr_assert_str_neq(k1, k2, "another window is another condition");
}

Test(alerts, no_flapping_around_the_threshold)
{
    sr_metric_def d = rt();
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05}; /* warn margin 5 */
    sr_alert a = fresh();
    const double v[] = {99, 101, 99, 100, 96, 101, 95.5, 99.9, 100.1, 97};
    int c[5] = {0};
    run(&a, &d, &p, v, sizeof v / sizeof v[0], 0, c);
    cr_assert_eq(c[SR_ALERT_EV_RAISED], 1);
    cr_assert_eq(c[SR_ALERT_EV_CLEARED], 0);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(a.raised_at_ms, SR_MS_MIN);
    /* back past 100 - 5: cleared, once */
    cr_assert_eq(sr_alert_step(&a, &d, &p, 94.9, 20 * SR_MS_MIN), SR_ALERT_EV_CLEARED);
    cr_assert_eq(a.state, SR_ALERT_CLEARED);
    cr_assert_eq(a.cleared_at_ms, 20 * SR_MS_MIN);
    cr_assert_eq(a.severity, SR_STATUS_WARN);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 99, 21 * SR_MS_MIN), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_CLEARED);
}

Test(alerts, waits_the_minimum_duration)
{
    sr_metric_def d = rt();
    sr_alert_params p = {.for_ms = 2 * SR_MS_MIN, .hysteresis = 0.05};
    sr_alert a = fresh();
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, 0), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_PENDING);
    cr_assert_eq(a.severity, SR_STATUS_WARN);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, SR_MS_MIN), SR_ALERT_EV_NONE);
    /* one dip under the threshold starts the wait over */
    cr_assert_eq(sr_alert_step(&a, &d, &p, 99, 90 * SR_MS_SEC), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_OK);
    sr_ms t = 100 * SR_MS_SEC;
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, t), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, t + 2 * SR_MS_MIN - 1), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_PENDING);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, t + 2 * SR_MS_MIN), SR_ALERT_EV_RAISED);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(a.raised_at_ms, t + 2 * SR_MS_MIN);
    cr_assert_eq(a.threshold, 100);
    cr_assert_eq(a.value, 150);
}

Test(alerts, escalates_and_eases_with_hysteresis)
{
    sr_metric_def d = rt();
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05}; /* crit margin 10 */
    sr_alert a = fresh();
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, 0), SR_ALERT_EV_RAISED);
    cr_assert_eq(a.severity, SR_STATUS_WARN);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 250, 1), SR_ALERT_EV_ESCALATED);
    cr_assert_eq(a.severity, SR_STATUS_CRIT);
    cr_assert_eq(a.threshold, 200);
    cr_assert_eq(a.raised_at_ms, 0);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 195, 2), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 190.5, 3), SR_ALERT_EV_NONE);
    cr_assert_eq(a.severity, SR_STATUS_CRIT);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 185, 4), SR_ALERT_EV_EASED);
    cr_assert_eq(a.severity, SR_STATUS_WARN);
    cr_assert_eq(a.threshold, 100);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 199, 5), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 96, 6), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 94, 7), SR_ALERT_EV_CLEARED);
}

Test(alerts, higher_is_better_mirrors)
{
    sr_metric_def d;
    sr_metric_def_init(&d, "within");
    d.warn = 90;
    d.crit = 80;
    d.better = SR_BETTER_HIGHER;
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05}; /* warn margin 4.5 */
    sr_alert a = fresh();
    cr_assert_eq(sr_alert_step(&a, &d, &p, 91, 0), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 85, 1), SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 75, 2), SR_ALERT_EV_ESCALATED);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 83, 3), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 85, 4), SR_ALERT_EV_EASED);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 94, 5), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 95, 6), SR_ALERT_EV_CLEARED);
}

Test(alerts, acknowledged_comes_back_when_worse)
{
    sr_metric_def d = rt();
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05};
    sr_alert a = fresh();
    cr_assert_eq(sr_alert_ack(&a, "ana", "x", 0), SR_EINVAL);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, 0), SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_alert_ack(&a, "ana", "crew on its way", 10), 0);
    cr_assert_eq(a.state, SR_ALERT_ACKED);
    cr_assert_str_eq(a.acked_by, "ana");
    cr_assert_str_eq(a.note, "crew on its way");
    cr_assert_eq(a.acked_at_ms, 10);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 180, 20), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_ACKED);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 210, 30), SR_ALERT_EV_ESCALATED);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    /* who acknowledged the warning is still known */
    cr_assert_str_eq(a.acked_by, "ana");
    /* a new raise after a clear starts without the old acknowledgement */
    cr_assert_eq(sr_alert_step(&a, &d, &p, 50, 40), SR_ALERT_EV_CLEARED);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, 50), SR_ALERT_EV_RAISED);
    cr_assert_str_eq(a.acked_by, "");
    cr_assert_eq(a.acked_at_ms, 0);
    cr_assert_eq(a.cleared_at_ms, 0);
}

Test(alerts, silence_expires)
{
    sr_metric_def d = rt();
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05};
    sr_alert a = fresh();
    cr_assert_eq(sr_alert_silence(&a, NULL, 100, 0), SR_EINVAL);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, 0), SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_alert_silence(&a, NULL, 0, 0), SR_EINVAL);
    cr_assert_eq(sr_alert_silence(&a, "roadworks", 10 * SR_MS_MIN, 0), 0);
    cr_assert_eq(a.state, SR_ALERT_SILENCED);
    cr_assert_str_eq(a.note, "roadworks", "a silence has its reason, as an ack its note");
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, 5 * SR_MS_MIN), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_SILENCED);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, 10 * SR_MS_MIN), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(a.silenced_until_ms, 0);
    /* a silenced alert still clears */
    cr_assert_eq(sr_alert_silence(&a, NULL, 20 * SR_MS_MIN, 11 * SR_MS_MIN), 0);
    cr_assert_eq(sr_alert_step(&a, &d, &p, 10, 12 * SR_MS_MIN), SR_ALERT_EV_CLEARED);
    cr_assert_eq(a.state, SR_ALERT_CLEARED);
}

Test(alerts, no_data_changes_nothing_and_no_thresholds_clear)
{
    sr_metric_def d = rt();
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05};
    sr_alert a = fresh();
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, 0), SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_alert_step(&a, &d, &p, NAN, 1), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(a.value, 150);
    d.warn = NAN;
    d.crit = NAN;
    cr_assert_eq(sr_alert_step(&a, &d, &p, 150, 2), SR_ALERT_EV_CLEARED);
}

/* ---- unusual alerts: the verdict of a run of slices against the band ---- */

static sr_alert fresh_unusual(void)
{
    sr_metric_def d;
    sr_metric_def_init(&d, "calls");
    sr_alert a;
    cr_assert_eq(
        sr_alert_init_unusual(&a, "calls", &d, (sr_agg){SR_AGG_VALUE, 0}, SR_MS_HOUR, "north"), 0);
    return a;
}

/* One step a minute from t0 with the band 150-205 (width 55: 5% is 2.75). */
static sr_alert_event ustep(sr_alert *a, const sr_alert_params *p, sr_unusual u, double v,
                            int minute)
{
    return sr_alert_step_unusual(a, p, u, v, 150, 205, (sr_ms)minute * SR_MS_MIN);
}

Test(alerts, unusual_has_a_key_of_its_own)
{
    sr_metric_def d = rt();
    d.agg = (sr_agg){SR_AGG_PCT, 90};
    char k[SR_ALERT_KEY_MAX], t[SR_ALERT_KEY_MAX];
    cr_assert_eq(sr_alert_key_unusual(&d, (sr_agg){SR_AGG_PCT, 90}, SR_MS_HOUR, "n", k, sizeof k),
                 0);
    cr_assert_str_eq(k, "rt:1h:unusual@n");
    cr_assert_eq(sr_alert_key_for(&d, (sr_agg){SR_AGG_PCT, 90}, SR_MS_HOUR, "n", t, sizeof t), 0);
    cr_assert_str_neq(k, t, "a panel with when = both has two alerts");
    cr_assert_eq(sr_alert_key_unusual(&d, (sr_agg){SR_AGG_PCT, 50}, SR_MS_HOUR, "", k, sizeof k),
                 0);
    cr_assert_str_eq(k, "rt:1h:p50:unusual", "the band is of the aggregate shown");
    sr_alert a = fresh_unusual();
    cr_assert_str_eq(a.key, "calls:1h:unusual@north");
    cr_assert_eq(a.kind, SR_ALERT_UNUSUAL);
    cr_assert(isnan(a.band_low) && isnan(a.band_high));
    cr_assert_str_eq(sr_alert_kind_name(a.kind), "unusual");
}

Test(alerts, unusual_raises_after_for_and_clears_inside_the_band_by_the_margin)
{
    sr_alert_params p = {.for_ms = 2 * SR_MS_MIN, .hysteresis = 0.05};
    sr_alert a = fresh_unusual();
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_NONE, 180, 0), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_OK);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_HIGH, 240, 1), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_PENDING);
    cr_assert_eq(a.severity, SR_STATUS_WARN);
    cr_assert_eq(a.side, SR_UNUSUAL_HIGH);
    cr_assert_eq(a.threshold, 205, "the edge crossed");
    /* back to normal before `for`: ok again, nothing raised */
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_NONE, 200, 2), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_OK);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_HIGH, 240, 3), SR_ALERT_EV_NONE);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_HIGH, 250, 4), SR_ALERT_EV_NONE);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_HIGH, 245, 5), SR_ALERT_EV_RAISED);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(a.raised_at_ms, 5 * SR_MS_MIN);
    cr_assert_eq(a.value, 245);
    cr_assert_eq(a.band_low, 150);
    cr_assert_eq(a.band_high, 205);
    /* back inside, but within 2.75 of the edge: still raised (the verdict
     * is none, the latest figure is not inside by the margin) */
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_NONE, 203, 6), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_NONE, 202.25, 7), SR_ALERT_EV_CLEARED);
    cr_assert_eq(a.state, SR_ALERT_CLEARED);
    cr_assert_eq(a.cleared_at_ms, 7 * SR_MS_MIN);
    cr_assert_eq(a.side, SR_UNUSUAL_HIGH, "the last side is kept when cleared");
}

Test(alerts, unusual_low_clears_from_below_by_the_margin)
{
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.10}; /* 5.5 of 150-205 */
    sr_alert a = fresh_unusual();
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_LOW, 90, 0), SR_ALERT_EV_RAISED);
    cr_assert_eq(a.threshold, 150);
    cr_assert_eq(a.side, SR_UNUSUAL_LOW);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_NONE, 155, 1), SR_ALERT_EV_NONE);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_NONE, 155.5, 2), SR_ALERT_EV_CLEARED);
}

Test(alerts, unusual_acknowledged_comes_back_when_it_turns_and_silence_ends)
{
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05};
    sr_alert a = fresh_unusual();
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_LOW, 100, 0), SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_alert_ack(&a, "ana", "checked", 60000), 0);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_LOW, 90, 2), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_ACKED, "still low: the acknowledgement stands");
    /* far above the band at once, before the run says high: still raised, low */
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_NONE, 260, 3), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_ACKED);
    cr_assert_eq(a.side, SR_UNUSUAL_LOW);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_HIGH, 270, 4), SR_ALERT_EV_REVERSED);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE, "low to high is news: active again");
    cr_assert_eq(a.side, SR_UNUSUAL_HIGH);
    cr_assert_eq(a.threshold, 205);
    cr_assert_str_eq(a.acked_by, "ana", "who acknowledged it before is kept");
    cr_assert_eq(sr_alert_silence(&a, "known event", 10 * SR_MS_MIN, 5 * SR_MS_MIN), 0);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_HIGH, 280, 6), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_SILENCED);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_HIGH, 280, 10), SR_ALERT_EV_NONE);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE, "the silence ended");
    cr_assert_str_eq(sr_alert_event_name(SR_ALERT_EV_REVERSED), "reversed");
}

Test(alerts, unusual_unknown_changes_nothing)
{
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05};
    sr_alert a = fresh_unusual();
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_HIGH, 240, 0), SR_ALERT_EV_RAISED);
    sr_alert before = a;
    /* no band for a slice of the run, no figure, no band: nothing moves */
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_UNKNOWN, 180, 1), SR_ALERT_EV_NONE);
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_NONE, NAN, 2), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_alert_step_unusual(&a, &p, SR_UNUSUAL_NONE, 180, NAN, NAN, 3 * SR_MS_MIN),
                 SR_ALERT_EV_NONE);
    cr_assert_eq(memcmp(&a, &before, sizeof a), 0);
    sr_alert b = fresh_unusual();
    cr_assert_eq(ustep(&b, &p, SR_UNUSUAL_UNKNOWN, 240, 0), SR_ALERT_EV_NONE);
    cr_assert_eq(b.state, SR_ALERT_OK);
    cr_assert(isnan(b.value));
}

Test(alerts, format_reads_as_the_kind)
{
    sr_metric_def d;
    sr_metric_def_init(&d, "calls");
    d.kind = SR_KIND_EVENT;
    d.agg = (sr_agg){SR_AGG_COUNT, 0};
    sr_alert a = fresh_unusual();
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05};
    cr_assert_eq(ustep(&a, &p, SR_UNUSUAL_HIGH, 240, 0), SR_ALERT_EV_RAISED);
    char val[64], thr[64];
    sr_alert_format(&a, &d, d.agg, "–", val, thr, sizeof val);
    cr_assert_str_eq(val, "240");
    cr_assert_str_eq(thr, "normal 150–205");
    cr_assert_str_eq(sr_alert_thr_words(&a), "");
    sr_alert t = fresh();
    sr_metric_def r = rt();
    snprintf(r.unit, sizeof r.unit, "s");
    cr_assert_eq(sr_alert_step(&t, &r, &p, 150, 0), SR_ALERT_EV_RAISED);
    sr_alert_format(&t, &r, (sr_agg){SR_AGG_AVG, 0}, "–", val, thr, sizeof val);
    cr_assert_str_eq(thr, "1m40s", "a threshold alert's threshold, with the unit");
    cr_assert_str_eq(sr_alert_thr_words(&t), "threshold ");
}

/* ---- the alert table ---- */

/* a fresh folder for each test, dir, and the path of a cache in it */
TH_DIR_SUITE(alerts_store, dir, db, "cache.db");

static sr_store *open_store(unsigned flags)
{
    sr_store *st = NULL;
    char err[256] = "";
    int rc = sr_store_open(db, flags, &st, err, sizeof err);
    cr_assert_eq(rc, 0, "open: %s (%s)", sr_strerror(rc), err);
    return st;
}

/* The collector's step: read, step, write back in one batch. */
static sr_alert_event collect(sr_store *st, const char *entity, double v, sr_ms now)
{
    sr_metric_def d = rt();
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05};
    sr_alert a;
    char key[SR_ALERT_KEY_MAX];
    cr_assert_eq(sr_alert_key("rt", 8 * SR_MS_HOUR, entity, key, sizeof key), 0);
    cr_assert_eq(sr_store_begin(st), 0);
    int rc = sr_store_alert_get(st, key, &a);
    if (rc == SR_ENOENT)
        rc = sr_alert_init(&a, "response", "rt", 8 * SR_MS_HOUR, entity);
    cr_assert_eq(rc, 0);
    sr_alert_event ev = sr_alert_step(&a, &d, &p, v, now);
    cr_assert_eq(sr_store_alert_put(st, &a), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    return ev;
}

Test(alerts_store, viewers_share_alerts_and_acknowledgements)
{
    sr_store *col = open_store(0);
    cr_assert_eq(collect(col, "north/a", 150, 1000), SR_ALERT_EV_RAISED);
    cr_assert_eq(collect(col, "north/b", 250, 2000), SR_ALERT_EV_RAISED);
    cr_assert_eq(collect(col, "south", 50, 3000), SR_ALERT_EV_NONE);

    sr_store *view = open_store(SR_STORE_READONLY);
    sr_alert *v;
    size_t n;
    cr_assert_eq(sr_store_alert_list(view, SR_ALERTS_OPEN, &v, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(v[0].key, "rt:8h@north/b"); /* crit first */
    cr_assert_eq(v[0].severity, SR_STATUS_CRIT);
    cr_assert_eq(v[0].threshold, 200);
    cr_assert_eq(v[0].value, 250);
    cr_assert_eq(v[0].raised_at_ms, 2000);
    cr_assert_str_eq(v[1].entity, "north/a");
    cr_assert_eq(v[1].state, SR_ALERT_ACTIVE);
    cr_assert_eq(v[1].acked_at_ms, 0);
    free(v);
    cr_assert_eq(sr_store_alert_list(view, SR_ALERT_BIT(SR_ALERT_OK), &v, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(v[0].key, "rt:8h@south");
    cr_assert(isnan(v[0].threshold));
    free(v);
    /* a read-only handle cannot write */
    cr_assert_eq(sr_store_alert_ack(view, "rt:8h@north/a", "ana", NULL, 4000), SR_EINVAL);

    /* another viewer acknowledges through its writer (SR_STORE_VIEWER); everyone sees it */
    sr_store *ack = open_store(SR_STORE_VIEWER);
    cr_assert_eq(sr_store_alert_ack(ack, "rt:8h@north/a", "ana", "crew sent", 4000), 0);
    cr_assert_eq(sr_store_alert_ack(ack, "rt:8h@nowhere", "ana", NULL, 4000), SR_ENOENT);
    cr_assert_eq(sr_store_alert_ack(ack, "rt:8h@south", "ana", NULL, 4000), SR_EINVAL);
    cr_assert_eq(sr_store_alert_silence(ack, "rt:8h@north/b", "known fault", 9000, 4000), 0);
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(view, "rt:8h@north/a", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACKED);
    cr_assert_str_eq(a.acked_by, "ana");
    cr_assert_str_eq(a.note, "crew sent");
    cr_assert_eq(a.acked_at_ms, 4000);
    cr_assert_eq(sr_store_alert_get(view, "rt:8h@north/b", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_SILENCED);
    cr_assert_eq(a.silenced_until_ms, 9000);
    cr_assert_str_eq(a.note, "known fault", "the reason is kept as a note is");
    /* the viewer's writer may not step alerts: that is the collector's */
    cr_assert_eq(sr_store_alert_put(ack, &a), SR_EINVAL);

    /* the collector's next steps keep the acknowledgement, until it gets worse */
    cr_assert_eq(collect(col, "north/a", 160, 5000), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_store_alert_get(view, "rt:8h@north/a", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_ACKED);
    cr_assert_eq(a.value, 160);
    cr_assert_eq(collect(col, "north/a", 260, 6000), SR_ALERT_EV_ESCALATED);
    cr_assert_eq(collect(col, "north/b", 260, 10000), SR_ALERT_EV_NONE);
    cr_assert_eq(sr_store_alert_list(view, SR_ALERT_BIT(SR_ALERT_ACTIVE), &v, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(v[0].note, "crew sent");
    free(v);
    cr_assert_eq(collect(col, "north/a", 10, 11000), SR_ALERT_EV_CLEARED);
    cr_assert_eq(sr_store_alert_get(view, "rt:8h@north/a", &a), 0);
    cr_assert_eq(a.state, SR_ALERT_CLEARED);
    cr_assert_eq(a.cleared_at_ms, 11000);
    sr_store_close(ack);
    sr_store_close(view);
    sr_store_close(col);
}

Test(alerts_store, migrates_v5)
{
    /* a v5 file: today's schema without the alert table */
    sr_store *st = open_store(0);
    cr_assert_eq(sr_store_define_metric(st, "rt", SR_KIND_EVENT), 0);
    sr_source_health h = {.name = "feed", .type = "csv", .accepted = 7};
    cr_assert_eq(sr_store_source_put(st, &h), 0);
    sr_store_close(st);
    sqlite3 *db3;
    cr_assert_eq(
        sqlite3_open_v2(db, &db3, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    /* a v5 cache: neither the alert table (v6) nor the audit table (v7), nor
     * the change counters (v8) */
    cr_assert_eq(sqlite3_exec(db3,
                              "ALTER TABLE metric DROP COLUMN changes; DROP INDEX rollup_stamp; "
                              "DROP TABLE memo; DROP TABLE touch; "
                              "ALTER TABLE rollup DROP COLUMN vals; "
                              "DROP TABLE alert; DROP TRIGGER audit_no_update; "
                              "DROP TRIGGER audit_no_delete; DROP TABLE audit; "
                              "PRAGMA user_version = 5;",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db3);

    char err[256] = "";
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &st, err, sizeof err), SR_EVERSION);
    char want[64];
    snprintf(want, sizeof want, "version 5 needs migrating to %d", SR_STORE_SCHEMA);
    cr_assert(strstr(err, want), "%s", err);

    st = open_store(0);
    int ver;
    cr_assert_eq(sr_store_schema_version(st, &ver), 0);
    cr_assert_eq(ver, SR_STORE_SCHEMA);
    cr_assert_eq(sr_store_source_get(st, "feed", &h), 0);
    cr_assert_eq(h.accepted, 7);
    sr_alert *v;
    size_t n;
    cr_assert_eq(sr_store_alert_list(st, SR_ALERTS_OPEN, &v, &n), 0);
    cr_assert_eq(n, 0);
    free(v);
    sr_store_close(st);
    cr_assert_eq(collect(st = open_store(0), "", 300, 1), SR_ALERT_EV_RAISED);
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(st, "rt:8h", &a), 0);
    cr_assert_eq(a.severity, SR_STATUS_CRIT);
    sr_store_close(st);
}

/* Puts an alert under a key of an older sitrep ("panel@entity"). */
static void put_old(sr_store *st, const char *key, const char *panel, sr_alert_state state)
{
    sr_alert a;
    cr_assert_eq(sr_alert_init(&a, panel, "rt", 8 * SR_MS_HOUR, ""), 0);
    snprintf(a.key, sizeof a.key, "%s", key);
    a.state = state;
    a.severity = SR_STATUS_CRIT;
    a.raised_at_ms = 1000;
    a.value = 300;
    a.threshold = 200;
    if (state == SR_ALERT_ACKED) {
        snprintf(a.acked_by, sizeof a.acked_by, "ana");
        snprintf(a.note, sizeof a.note, "crew sent");
        a.acked_at_ms = 2000;
    }
    cr_assert_eq(sr_store_alert_put(st, &a), 0, "%s", sr_store_errmsg(st));
}

/* Two panels' alerts of one condition under the old keys become one, the
 * acknowledged one; moving again (the next step) changes nothing. */
Test(alerts_store, old_keys_move_to_the_shared_key_once)
{
    sr_store *st = open_store(0);
    cr_assert_eq(sr_store_begin(st), 0);
    put_old(st, "p1", "p1", SR_ALERT_ACTIVE);
    put_old(st, "p1_spread", "p1_spread", SR_ALERT_ACKED);
    put_old(st, "other@north", "other", SR_ALERT_ACTIVE);
    cr_assert_eq(sr_store_commit(st), 0);

    for (int round = 0; round < 2; round++) {
        cr_assert_eq(sr_store_begin(st), 0);
        cr_assert_eq(sr_store_alert_rekey(st, "p1", "rt:8h"), 0);
        cr_assert_eq(sr_store_alert_rekey(st, "p1_spread", "rt:8h"), 0);
        cr_assert_eq(sr_store_commit(st), 0);
        sr_alert *v;
        size_t n;
        cr_assert_eq(sr_store_alert_list(st, ~0u, &v, &n), 0);
        cr_assert_eq(n, 2, "round %d: %zu alerts", round, n);
        cr_assert_str_eq(v[0].key, "other@north", "an alert of no panel moved stays");
        cr_assert_str_eq(v[1].key, "rt:8h");
        cr_assert_eq(v[1].state, SR_ALERT_ACKED, "the acknowledgement is kept");
        cr_assert_str_eq(v[1].note, "crew sent");
        free(v);
    }
    sr_store *view = open_store(SR_STORE_VIEWER);
    cr_assert_eq(sr_store_alert_rekey(view, "other@north", "rt:8h@north"), SR_EINVAL);
    sr_store_close(view);
    sr_store_close(st);
}

/* The list puts what nobody has taken first: an active WARN before an
 * acknowledged CRIT, then crit before warn. */
Test(alerts_store, active_alerts_come_before_acknowledged_ones)
{
    sr_store *st = open_store(0);
    cr_assert_eq(collect(st, "north/b", 250, 1000), SR_ALERT_EV_RAISED);
    cr_assert_eq(collect(st, "north/a", 150, 2000), SR_ALERT_EV_RAISED);
    cr_assert_eq(collect(st, "south", 260, 3000), SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_store_alert_ack(st, "rt:8h@north/b", "ana", NULL, 4000), 0);
    sr_alert *v;
    size_t n;
    cr_assert_eq(sr_store_alert_list(st, SR_ALERTS_OPEN, &v, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(v[0].key, "rt:8h@south");
    cr_assert_str_eq(v[1].key, "rt:8h@north/a");
    cr_assert_str_eq(v[2].key, "rt:8h@north/b");
    free(v);
    sr_store_close(st);
}

/* An unusual alert keeps its kind, band and side through the cache; a v10
 * cache's alerts read back as threshold alerts after the migration. */
Test(alerts_store, unusual_round_trip_and_migration_from_v10)
{
    sr_store *st = open_store(0);
    cr_assert_eq(collect(st, "north", 300, 1000), SR_ALERT_EV_RAISED);
    sr_alert u = fresh_unusual();
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05};
    cr_assert_eq(ustep(&u, &p, SR_UNUSUAL_LOW, 90, 1), SR_ALERT_EV_RAISED);
    cr_assert_eq(sr_store_alert_put(st, &u), 0, "%s", sr_store_errmsg(st));
    sr_alert a;
    cr_assert_eq(sr_store_alert_get(st, "calls:1h:unusual@north", &a), 0);
    cr_assert_eq(a.kind, SR_ALERT_UNUSUAL);
    cr_assert_eq(a.band_low, 150);
    cr_assert_eq(a.band_high, 205);
    cr_assert_eq(a.side, SR_UNUSUAL_LOW);
    cr_assert_eq(a.threshold, 150);
    cr_assert_eq(a.severity, SR_STATUS_WARN);
    cr_assert_eq(sr_store_alert_get(st, "rt:8h@north", &a), 0);
    cr_assert_eq(a.kind, SR_ALERT_THRESHOLD);
    cr_assert(isnan(a.band_low));
    cr_assert_eq(a.side, SR_UNUSUAL_NONE);
    sr_store_close(st);

    sqlite3 *db3;
    cr_assert_eq(sqlite3_open_v2(db, &db3, SQLITE_OPEN_READWRITE, sr_store_vfs()), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db3,
                              "DELETE FROM alert WHERE kind = 'unusual'; "
                              "ALTER TABLE alert DROP COLUMN kind; "
                              "ALTER TABLE alert DROP COLUMN band_low; "
                              "ALTER TABLE alert DROP COLUMN band_high; "
                              "ALTER TABLE alert DROP COLUMN side; PRAGMA user_version = 10;",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db3));
    sqlite3_close(db3);
    st = open_store(0);
    int ver;
    cr_assert_eq(sr_store_schema_version(st, &ver), 0);
    cr_assert_eq(ver, SR_STORE_SCHEMA);
    cr_assert_eq(sr_store_alert_get(st, "rt:8h@north", &a), 0);
    cr_assert_eq(a.kind, SR_ALERT_THRESHOLD);
    cr_assert_eq(a.state, SR_ALERT_ACTIVE);
    cr_assert_eq(a.value, 300);
    cr_assert(isnan(a.band_low) && isnan(a.band_high));
    sr_store_close(st);
}
