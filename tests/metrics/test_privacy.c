/*
 * Tests of the privacy policy (metrics/privacy.c) on crafted panel models:
 * hidden rows and events, <5 and n<10, and that a suppressed value does not
 * come back through the series, change, histogram or events; and of
 * sr_privacy_metric_personal on a real cache.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/privacy.h"
#include "../helpers.h"

/* force, region, district, unit, officer; officer personal. */
static sr_privacy policy(bool see_personal, int drill)
{
    sr_privacy p;
    sr_privacy_init(&p);
    static const char *const names[] = {"force", "region", "district", "unit", "officer"};
    for (size_t i = 0; i < 5; i++)
        snprintf(p.levels[i], sizeof p.levels[i], "%s", names[i]);
    p.n_levels = 5;
    p.personal[5] = true;
    p.see_personal = see_personal;
    p.drill = drill;
    p.min_cell = 5;
    snprintf(p.role, sizeof p.role, "%s", see_personal ? "commander" : "manager");
    return p;
}

static sr_metric_def def;

/* A model of entity with value v over n observations, and rows of the
 * given paths (each with value 10 + i over rn[i] observations). */
static void model(sr_panel_model *m, sr_agg agg, double v, int64_t n, const char *const *rows,
                  const int64_t *rn, size_t n_rows)
{
    memset(m, 0, sizeof *m);
    sr_metric_def_init(&def, "ot");
    def.kind = SR_KIND_COUNTER;
    def.warn = 1;
    def.crit = 2;
    m->def = &def;
    m->agg = agg;
    m->c.now = (sr_result){v, n, true};
    m->c.prev = (sr_result){v / 2, n, true};
    m->c.week_ago = (sr_result){v / 3, n, true};
    m->status = SR_STATUS_CRIT;
    m->change_pct = 100;
    m->within_pct = 50;
    for (size_t i = 0; i < SR_SERIES_MAX; i++)
        m->series[i] = m->series_n[i] = NAN;
    m->n_series = 4;
    for (size_t i = 0; i < 4; i++) {
        m->series[i] = v;
        m->series_n[i] = (double)n;
    }
    m->hist_lo = 0;
    m->hist_hi = 10;
    m->n_hist = 2;
    m->hist[0] = (uint64_t)n;
    if (n_rows) {
        m->rows = calloc(n_rows, sizeof *m->rows);
        m->n_rows = n_rows;
        for (size_t i = 0; i < n_rows; i++) {
            snprintf(m->rows[i].entity, sizeof m->rows[i].entity, "%s", rows[i]);
            m->rows[i].r = (sr_result){10.0 + (double)i, rn[i], true};
            m->rows[i].n_series = SR_ROW_SERIES;
            for (size_t k = 0; k < SR_ROW_SERIES; k++) {
                m->rows[i].series[k] = 1;
                m->rows[i].series_n[k] = (double)rn[i];
            }
        }
    }
    m->events = calloc(3, sizeof *m->events);
    m->n_events = 3;
    for (size_t i = 0; i < 3; i++) {
        snprintf(m->events[i].entity, sizeof m->events[i].entity, "f/n/d1/u1/officer-%zu", i);
        m->events[i].value = 1;
    }
}

static const sr_agg SUM = {SR_AGG_SUM, 0}, COUNT = {SR_AGG_COUNT, 0}, P90 = {SR_AGG_PCT, 90},
                    MAX = {SR_AGG_MAX, 0};

Test(privacy, levels_and_entities)
{
    sr_privacy p = policy(false, 3);
    cr_assert_eq(sr_privacy_level(""), 0);
    cr_assert_eq(sr_privacy_level(NULL), 0);
    cr_assert_eq(sr_privacy_level("f"), 1);
    cr_assert_eq(sr_privacy_level("f/n/d1/u1/o1"), 5);
    cr_assert(!sr_privacy_is_personal(&p, "f/n/d1/u1"));
    cr_assert(sr_privacy_is_personal(&p, "f/n/d1/u1/o1"));
    cr_assert(sr_privacy_is_personal(&p, "f/n/d1/u1/o1/below"));
    cr_assert_eq(sr_privacy_entity(&p, "f/n/d1"), SR_PRIV_SHOWN);
    cr_assert_eq(sr_privacy_entity(&p, "f/n/d1/u1"), SR_PRIV_TOO_DEEP);
    cr_assert_eq(sr_privacy_entity(&p, "f/n/d1/u1/o1"), SR_PRIV_PERSONAL);
    sr_privacy c = policy(true, SR_PRIV_ANY);
    cr_assert_eq(sr_privacy_entity(&c, "f/n/d1/u1/o1"), SR_PRIV_SHOWN);
}

Test(privacy, values)
{
    sr_privacy m = policy(false, 4), c = policy(true, SR_PRIV_ANY);
    cr_assert_str_eq(sr_privacy_value(&m, true, SR_KIND_COUNTER, COUNT, 4), "<5");
    cr_assert_str_eq(sr_privacy_value(&m, true, SR_KIND_COUNTER, SUM, 1), "<5");
    cr_assert_null(sr_privacy_value(&m, true, SR_KIND_COUNTER, COUNT, 5));
    cr_assert_null(sr_privacy_value(&m, true, SR_KIND_COUNTER, COUNT, 0));
    cr_assert_null(sr_privacy_value(&m, false, SR_KIND_COUNTER, COUNT, 2)); /* not people */
    cr_assert_null(sr_privacy_value(&c, true, SR_KIND_COUNTER, COUNT, 2)); /* may see them anyway */
    cr_assert_str_eq(sr_privacy_value(&m, true, SR_KIND_COUNTER, MAX, 50), "hidden");
    cr_assert_null(sr_privacy_value(&c, true, SR_KIND_COUNTER, MAX, 50));
    sr_agg last = {SR_AGG_LAST, 0};
    cr_assert_str_eq(sr_privacy_value(&m, true, SR_KIND_EVENT, last, 50), "hidden");
    cr_assert_null(sr_privacy_value(&m, true, SR_KIND_GAUGE, last, 50), "a gauge's parent sums");
    /* percentiles: for every role */
    cr_assert_str_eq(sr_privacy_value(&c, false, SR_KIND_COUNTER, P90, 9), "n<10");
    cr_assert_str_eq(sr_privacy_value(&m, false, SR_KIND_COUNTER, P90, 9), "n<10");
    cr_assert_null(sr_privacy_value(&c, false, SR_KIND_COUNTER, P90, 10));
}

Test(privacy, personal_rows_hidden_and_counted)
{
    sr_privacy p = policy(false, 4);
    const char *rows[] = {"f/n/d1/u1/o1", "f/n/d1/u1/o2", "f/n/d1/u1/o3"};
    int64_t rn[] = {8, 9, 10};
    sr_panel_model m;
    model(&m, SUM, 30, 27, rows, rn, 3);
    sr_privacy_report r;
    sr_privacy_apply(&p, "f/n/d1/u1", true, &m, &r);
    cr_assert_eq(m.n_rows, 0);
    cr_assert_null(m.rows);
    cr_assert_eq(r.rows_personal, 3);
    cr_assert_eq(m.n_events, 0, "officers' raw events are hidden");
    cr_assert_eq(r.events_hidden, 3);
    cr_assert_eq(m.n_hist, 0);
    cr_assert(!r.personal_shown);
    cr_assert_float_eq(m.c.now.value, 30, 1e-9, "the unit's total stays: 27 observations");
    cr_assert_str_eq(m.mask, "");
    char line[256];
    sr_privacy_hidden_text(&p, &r, line, sizeof line);
    cr_assert_str_eq(line, "3 rows hidden: officer is personal data, which role manager may not "
                           "see");
    sr_panel_model_fini(&m);
}

Test(privacy, commander_sees_officers_and_is_audited)
{
    sr_privacy p = policy(true, SR_PRIV_ANY);
    const char *rows[] = {"f/n/d1/u1/o1", "f/n/d1/u1/o2"};
    int64_t rn[] = {2, 3};
    sr_panel_model m;
    model(&m, SUM, 30, 5, rows, rn, 2);
    sr_privacy_report r;
    sr_privacy_apply(&p, "f/n/d1/u1", true, &m, &r);
    cr_assert_eq(m.n_rows, 2);
    cr_assert_str_eq(m.rows[0].mask, "");
    cr_assert_float_eq(m.rows[0].r.value, 10, 1e-9);
    cr_assert_eq(m.n_events, 3);
    cr_assert(r.personal_shown);
    sr_panel_model_fini(&m);
}

Test(privacy, too_deep_rows_and_entity)
{
    sr_privacy p = policy(false, 3);
    const char *rows[] = {"f/n/d1/u1", "f/n/d1/u2"};
    int64_t rn[] = {20, 20};
    sr_panel_model m;
    model(&m, SUM, 30, 40, rows, rn, 2);
    sr_privacy_report r;
    sr_privacy_apply(&p, "f/n/d1", false, &m, &r);
    cr_assert_eq(m.n_rows, 0);
    cr_assert_eq(r.rows_deep, 2);
    char line[256];
    sr_privacy_hidden_text(&p, &r, line, sizeof line);
    cr_assert_str_eq(line, "2 rows hidden: role manager may drill down to district (level 3)");
    sr_panel_model_fini(&m);

    /* the model's own entity is too deep: nothing of it is left */
    model(&m, SUM, 30, 40, rows, rn, 2);
    sr_privacy_apply(&p, "f/n/d1/u1", false, &m, &r);
    cr_assert(r.entity_hidden);
    cr_assert_eq(r.why, SR_PRIV_TOO_DEEP);
    cr_assert_str_eq(m.mask, "hidden");
    cr_assert(isnan(m.c.now.value) && isnan(m.c.prev.value) && isnan(m.c.week_ago.value));
    cr_assert(isnan(m.change_pct) && isnan(m.within_pct) && isnan(m.series[0]));
    cr_assert_eq(m.status, SR_STATUS_NONE);
    cr_assert_eq(m.n_rows + m.n_events + m.n_hist, 0);
    sr_panel_model_fini(&m);
}

/* A count of people below min_cell: <5, and nothing gives it away. */
Test(privacy, small_count_suppressed_everywhere)
{
    sr_privacy p = policy(false, 4);
    sr_panel_model m;
    model(&m, COUNT, 3, 3, NULL, NULL, 0);
    sr_privacy_apply(&p, "f/n/d1/u1", true, &m, NULL);
    cr_assert_str_eq(m.mask, "<5");
    cr_assert(isnan(m.c.now.value));
    cr_assert(isnan(m.c.prev.value), "the previous window has 3 too");
    cr_assert(isnan(m.c.week_ago.value));
    cr_assert(isnan(m.change_pct));
    cr_assert(isnan(m.within_pct));
    cr_assert_eq(m.status, SR_STATUS_NONE, "the status would tell the value's band");
    for (size_t i = 0; i < SR_SERIES_MAX; i++)
        cr_assert(isnan(m.series[i]), "slice %zu", i);
    cr_assert_eq(m.n_hist, 0);
    cr_assert_eq(m.n_events, 0);
    sr_panel_model_fini(&m);
}

Test(privacy, rows_masked_individually)
{
    sr_privacy p = policy(false, 4);
    const char *rows[] = {"f/n/d1", "f/n/d2"};
    int64_t rn[] = {2, 12};
    sr_panel_model m;
    model(&m, COUNT, 14, 14, rows, rn, 2);
    sr_privacy_report r;
    sr_privacy_apply(&p, "f/n", true, &m, &r);
    cr_assert_eq(m.n_rows, 2);
    cr_assert_str_eq(m.rows[0].mask, "<5");
    cr_assert(isnan(m.rows[0].r.value));
    cr_assert_eq(m.rows[0].status, SR_STATUS_NONE);
    for (size_t k = 0; k < SR_ROW_SERIES; k++)
        cr_assert(isnan(m.rows[0].series[k]));
    cr_assert_str_eq(m.rows[1].mask, "");
    cr_assert_float_eq(m.rows[1].r.value, 11, 1e-9);
    cr_assert_float_eq(m.rows[1].series[0], 1, 1e-9);
    cr_assert_str_eq(m.mask, "");
    sr_panel_model_fini(&m);
}

/* No percentile over fewer than 10 observations, whoever asks. */
Test(privacy, percentile_needs_ten)
{
    sr_privacy p = policy(true, SR_PRIV_ANY);
    sr_panel_model m;
    model(&m, P90, 600, 9, NULL, NULL, 0);
    sr_privacy_apply(&p, "f", false, &m, NULL);
    cr_assert_str_eq(m.mask, "n<10");
    cr_assert(isnan(m.c.now.value));
    cr_assert(isnan(m.series[0]) && isnan(m.series[3]));
    cr_assert(isnan(m.change_pct));
    cr_assert_eq(m.status, SR_STATUS_NONE);
    /* n<10 hides the percentile only: the observations of a metric that is not personal stay */
    cr_assert_eq(m.n_events, 3, "a unit's observations are listed whatever their number");
    cr_assert_eq(m.n_hist, 2);
    sr_panel_model_fini(&m);

    /* a personal metric's few observations go with the figure, for any role */
    model(&m, P90, 600, 9, NULL, NULL, 0);
    sr_privacy_apply(&p, "f", true, &m, NULL);
    cr_assert_str_eq(m.mask, "n<10");
    cr_assert_eq(m.n_events, 0);
    cr_assert_eq(m.n_hist, 0, "the histogram would show the 9 observations");
    sr_panel_model_fini(&m);

    /* enough in the window, but a slice with few: that slice goes */
    model(&m, P90, 600, 40, NULL, NULL, 0);
    m.series_n[1] = 3;
    m.series_n[2] = NAN; /* not counted: not shown */
    sr_privacy_apply(&p, "f", false, &m, NULL);
    cr_assert_str_eq(m.mask, "");
    cr_assert_float_eq(m.c.now.value, 600, 1e-9);
    cr_assert_float_eq(m.series[0], 600, 1e-9);
    cr_assert(isnan(m.series[1]));
    cr_assert(isnan(m.series[2]));
    cr_assert_float_eq(m.series[3], 600, 1e-9);
    cr_assert_eq(m.n_hist, 2);
    sr_panel_model_fini(&m);

    /* the previous window had 4: no change against it */
    model(&m, P90, 600, 40, NULL, NULL, 0);
    m.c.prev.n = 4;
    sr_privacy_apply(&p, "f", false, &m, NULL);
    cr_assert(isnan(m.c.prev.value));
    cr_assert(isnan(m.change_pct));
    cr_assert_float_eq(m.c.week_ago.value, 200, 1e-9);
    sr_panel_model_fini(&m);
}

/* A row's previous figure and its change follow the headline's rules: a
 * masked row or a previous window too thin shows no change; a row's status
 * (of the metric's own aggregate) only where that figure could be shown. */
Test(privacy, rows_change_and_status_suppressed_with_their_figures)
{
    sr_privacy p = policy(false, 4);
    const char *rows[] = {"f/n/d1", "f/n/d2", "f/n/d3"};
    int64_t rn[] = {2, 12, 12};
    sr_panel_model m;
    model(&m, COUNT, 26, 26, rows, rn, 3);
    for (size_t i = 0; i < 3; i++) {
        m.rows[i].prev = (sr_result){5, 12, true};
        m.rows[i].change_pct = 50;
        m.rows[i].status = SR_STATUS_WARN;
    }
    m.rows[2].prev.n = 3; /* the previous window of d3 under the minimum */
    sr_privacy_apply(&p, "f/n", true, &m, NULL);
    cr_assert_eq(m.n_rows, 3);
    cr_assert(isnan(m.rows[0].prev.value) && isnan(m.rows[0].change_pct), "masked: no change");
    cr_assert_float_eq(m.rows[1].change_pct, 50, 1e-9);
    cr_assert_float_eq(m.rows[1].prev.value, 5, 1e-9);
    cr_assert(isnan(m.rows[2].prev.value) && isnan(m.rows[2].change_pct),
              "a thin previous window: no change");
    sr_panel_model_fini(&m);

    /* the share within target of a row of 7 events: its p90 status would tell of 7 */
    sr_privacy q = policy(true, SR_PRIV_ANY);
    int64_t rn2[] = {7, 12, 40};
    model(&m, (sr_agg){SR_AGG_WITHIN, 0}, 80, 59, rows, rn2, 3);
    def.kind = SR_KIND_EVENT;
    def.agg = P90;
    for (size_t i = 0; i < 3; i++)
        m.rows[i].status = SR_STATUS_CRIT;
    sr_privacy_apply(&q, "f/n", false, &m, NULL);
    cr_assert_str_eq(m.rows[0].mask, "", "a share is shown over 7");
    cr_assert_eq(m.rows[0].status, SR_STATUS_NONE, "but not the status of a p90 of 7");
    cr_assert_eq(m.rows[1].status, SR_STATUS_CRIT);
    cr_assert_eq(m.rows[2].status, SR_STATUS_CRIT);
    sr_panel_model_fini(&m);
}

/* Only hidden rows that have data for the metric are counted: officers
 * under a unit-level metric have none and are not worth a line. */
Test(privacy, hidden_rows_counted_only_with_data)
{
    sr_privacy p = policy(false, 4);
    const char *rows[] = {"f/n/d1/u1/o1", "f/n/d1/u1/o2", "f/n/d1/u1/o3"};
    int64_t rn[] = {0, 0, 0};
    sr_panel_model m;
    model(&m, SUM, 30, 27, rows, rn, 3);
    for (size_t i = 0; i < 3; i++)
        m.rows[i].r.value = NAN; /* no data in the window */
    sr_privacy_report r;
    sr_privacy_apply(&p, "f/n/d1/u1", false, &m, &r);
    cr_assert_eq(m.n_rows, 0, "hidden all the same");
    cr_assert_eq(r.rows_personal, 0);
    char line[256];
    sr_privacy_hidden_text(&p, &r, line, sizeof line);
    cr_assert_str_eq(line, "");
    sr_panel_model_fini(&m);

    /* two with data, one without: two */
    int64_t rn2[] = {6, 0, 7};
    model(&m, SUM, 30, 27, rows, rn2, 3);
    m.rows[1].r.value = NAN;
    sr_privacy_apply(&p, "f/n/d1/u1", false, &m, &r);
    cr_assert_eq(r.rows_personal, 2);
    sr_privacy_hidden_text(&p, &r, line, sizeof line);
    cr_assert_str_eq(line, "2 rows hidden: officer is personal data, which role manager may not "
                           "see");
    sr_panel_model_fini(&m);

    /* too deep, the same: a gauge's row has a value without observations counted */
    sr_privacy d = policy(false, 3);
    const char *units[] = {"f/n/d1/u1", "f/n/d1/u2"};
    int64_t un[] = {0, 0};
    model(&m, SUM, 30, 40, units, un, 2);
    m.rows[1].r.value = NAN;
    sr_privacy_apply(&d, "f/n/d1", false, &m, &r);
    cr_assert_eq(m.n_rows, 0);
    cr_assert_eq(r.rows_deep, 1);
    sr_panel_model_fini(&m);
}

/* Cleared slices that held values are counted, so a widget can tell a
 * suppressed series from an empty one. */
Test(privacy, hidden_slices_counted)
{
    sr_privacy p = policy(true, SR_PRIV_ANY);
    const char *rows[] = {"f/n", "f/s"};
    int64_t rn[] = {40, 9};
    sr_panel_model m;
    model(&m, P90, 600, 40, rows, rn, 2);
    m.series_n[1] = 3;
    m.series_n[2] = 4;
    m.series[3] = NAN; /* empty: nothing to hide */
    m.series_n[3] = 0;
    m.rows[0].series_n[5] = 2;
    sr_privacy_apply(&p, "f", false, &m, NULL);
    cr_assert_eq(m.series_hidden, 2);
    cr_assert_eq(m.rows[0].series_hidden, 1);
    cr_assert_str_eq(m.rows[1].mask, "n<10");
    cr_assert_eq(m.rows[1].series_hidden, SR_ROW_SERIES, "the whole row's series went with it");
    sr_panel_model_fini(&m);

    /* nothing hidden: nothing counted */
    model(&m, P90, 600, 40, NULL, NULL, 0);
    sr_privacy_apply(&p, "f", false, &m, NULL);
    cr_assert_eq(m.series_hidden, 0);
    sr_panel_model_fini(&m);
}

Test(privacy, single_person_min_max_hidden)
{
    sr_privacy p = policy(false, 4);
    sr_panel_model m;
    model(&m, MAX, 7.5, 40, NULL, NULL, 0);
    sr_privacy_apply(&p, "f", true, &m, NULL);
    cr_assert_str_eq(m.mask, "hidden");
    cr_assert(isnan(m.c.now.value));
    sr_panel_model_fini(&m);
    /* not a personal metric: shown */
    model(&m, MAX, 7.5, 40, NULL, NULL, 0);
    sr_privacy_apply(&p, "f", false, &m, NULL);
    cr_assert_str_eq(m.mask, "");
    cr_assert_float_eq(m.c.now.value, 7.5, 1e-9);
    sr_panel_model_fini(&m);
}

Test(privacy, why_texts)
{
    sr_privacy p = policy(false, 0);
    char buf[256];
    sr_privacy_why_text(&p, SR_PRIV_TOO_DEEP, 1, buf, sizeof buf);
    cr_assert_str_eq(buf, "role manager may see the whole tree only");
    p.n_levels = 0;
    p.drill = 2;
    sr_privacy_why_text(&p, SR_PRIV_TOO_DEEP, 3, buf, sizeof buf);
    cr_assert_str_eq(buf, "role manager may drill down to level 2 (level 2)");
}

static char dir[256];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
}

static void teardown(void)
{
    th_rmtree(dir);
}

Test(privacy_store, metric_personal_from_its_newest_sample, .init = setup, .fini = teardown)
{
    char path[512];
    snprintf(path, sizeof path, "%s/c.db", dir);
    sr_store *st;
    cr_assert_eq(sr_store_open(path, 0, &st, NULL, 0), 0);
    cr_assert_eq(sr_store_define_metric(st, "ot", SR_KIND_COUNTER), 0);
    cr_assert_eq(sr_store_define_metric(st, "calls", SR_KIND_COUNTER), 0);
    sr_sample a = {.metric = "ot", .entity = "f/n/d1/u1/o1", .ts_ms = 1000, .value = 1};
    sr_sample b = {.metric = "calls", .entity = "f/n/d1/u1", .ts_ms = 1000, .value = 1};
    bool dup;
    cr_assert_eq(sr_store_begin(st), 0);
    cr_assert_eq(sr_store_put(st, &a, &dup), 0);
    cr_assert_eq(sr_store_put(st, &b, &dup), 0);
    cr_assert_eq(sr_store_commit(st), 0);
    sr_metric_def defs[3];
    sr_metric_def_init(&defs[0], "ot");
    sr_metric_def_init(&defs[1], "calls");
    sr_metric_def_init(&defs[2], "share");
    defs[2].kind = SR_KIND_RATIO;
    snprintf(defs[2].numerator, SR_NAME_MAX, "ot");
    snprintf(defs[2].denominator, SR_NAME_MAX, "calls");
    sr_catalog cat = {defs, 3};
    sr_privacy p = policy(false, 4);
    bool personal = true;
    cr_assert_eq(sr_privacy_metric_personal(st, &cat, &p, "calls", &personal), 0);
    cr_assert(!personal);
    cr_assert_eq(sr_privacy_metric_personal(st, &cat, &p, "ot", &personal), 0);
    cr_assert(personal);
    cr_assert_eq(sr_privacy_metric_personal(st, &cat, &p, "share", &personal), 0);
    cr_assert(personal, "a ratio with a personal part");
    cr_assert_eq(sr_privacy_metric_personal(st, &cat, &p, "nothing", &personal), 0);
    cr_assert(!personal);
    sr_store_close(st);
}
