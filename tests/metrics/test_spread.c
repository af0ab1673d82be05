/*
 * Tests of metrics/spread.c: crafted children with known loads give the
 * median, the max/median ratio, the busiest quarter's share and the
 * outliers by hand; a denominator of 0, a missing one, no data and a
 * masked row have no load and say why; fewer than 4 loads give no spread.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "../../metrics/spread.h"

/* A child with value v over denominator d (NAN: none). */
static sr_spread_row kid(const char *name, double v, double d)
{
    return (sr_spread_row){.entity = name,
                           .value = {.value = v, .n = isnan(v) ? 0 : 1, .exact = true},
                           .denom = {.value = d, .n = isnan(d) ? 0 : 1, .exact = true}};
}

Test(spread, known_loads)
{
    /* loads 2, 4, 4, 6, 12: median 4, max/median 3, quarter = 2 children
     * (12 + 6) of 28, outlier: 12 > 6 only (6 is exactly 1.5 × 4) */
    sr_spread_row r[] = {kid("d1", 20, 10), kid("d2", 40, 10), kid("d3", 12, 3), kid("d4", 60, 10),
                         kid("d5", 120, 10)};
    sr_spread s;
    sr_spread_compute(r, 5, &s);
    cr_assert_null(s.why);
    cr_assert_eq(s.n, 5);
    cr_assert_eq(s.top_n, 2);
    cr_assert_float_eq(s.median, 4.0, 1e-12);
    cr_assert_float_eq(s.max, 12.0, 1e-12);
    cr_assert_float_eq(s.max_median, 3.0, 1e-12);
    cr_assert_float_eq(s.top_share, 18.0 / 28.0, 1e-12);
    cr_assert_eq(s.outliers, 1);
    cr_assert_str_eq(r[0].entity, "d5");
    cr_assert(r[0].outlier);
    cr_assert_str_eq(r[1].entity, "d4");
    cr_assert_not(r[1].outlier, "6 is not above 1.5 × 4");
    cr_assert_str_eq(r[4].entity, "d1");
}

Test(spread, even_median_and_even_spread)
{
    /* four equal loads: median 5, ratio 1, quarter share 1/4, no outlier */
    sr_spread_row r[] = {kid("a", 5, 1), kid("b", 10, 2), kid("c", 15, 3), kid("d", 20, 4)};
    sr_spread s;
    sr_spread_compute(r, 4, &s);
    cr_assert_float_eq(s.median, 5.0, 1e-12);
    cr_assert_float_eq(s.max_median, 1.0, 1e-12);
    cr_assert_float_eq(s.top_share, 0.25, 1e-12);
    cr_assert_eq(s.outliers, 0);
    /* an even count's median is the mean of the middle two */
    sr_spread_row t[] = {kid("a", 1, 1), kid("b", 2, 1), kid("c", 4, 1), kid("d", 9, 1)};
    sr_spread_compute(t, 4, &s);
    cr_assert_float_eq(s.median, 3.0, 1e-12);
    cr_assert_float_eq(s.max_median, 3.0, 1e-12);
}

Test(spread, no_load_says_why)
{
    sr_spread_row r[] = {kid("zero", 10, 0),  kid("gone", 10, NAN), kid("quiet", NAN, 4),
                         kid("a", 4, 2),      kid("b", 6, 2),       kid("c", 8, 2),
                         kid("masked", 9, 3), kid("d", 10, 2)};
    r[6].mask = "(fewer than 5)";
    sr_spread s;
    sr_spread_compute(r, 8, &s);
    cr_assert_eq(s.n, 4, "only the four with a load count, not %zu", s.n);
    cr_assert_float_eq(s.median, 3.5, 1e-12);
    /* the rows without a load come last, in their order, each with its why */
    cr_assert_str_eq(r[4].entity, "zero");
    cr_assert_str_eq(r[4].why, "denominator is 0");
    cr_assert_str_eq(r[5].entity, "gone");
    cr_assert_str_eq(r[5].why, "no denominator");
    cr_assert_str_eq(r[6].entity, "quiet");
    cr_assert_str_eq(r[6].why, "no data");
    cr_assert_str_eq(r[7].entity, "masked");
    cr_assert_str_eq(r[7].why, "(fewer than 5)");
    for (int i = 4; i < 8; i++) {
        cr_assert(isnan(r[i].load), "%s: no data is NAN, never 0", r[i].entity);
        cr_assert_not(r[i].outlier);
    }
}

Test(spread, too_few_children)
{
    sr_spread_row r[] = {kid("a", 4, 2), kid("b", 6, 2), kid("c", 8, 2), kid("d", 8, 0)};
    sr_spread s;
    sr_spread_compute(r, 4, &s);
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(s.why, "fewer than 4 children have a load");
    cr_assert(isnan(s.median) && isnan(s.max_median) && isnan(s.top_share));
    cr_assert_eq(s.outliers, 0);
    cr_assert_float_eq(r[0].load, 4.0, 1e-12, "the rows still have their loads");
    sr_spread_compute(r, 0, &s);
    cr_assert_str_eq(s.why, "no child has a load");
}

Test(spread, median_zero_has_no_ratio)
{
    sr_spread_row r[] = {kid("a", 0, 2), kid("b", 0, 2), kid("c", 0, 2), kid("d", 0, 2)};
    sr_spread s;
    sr_spread_compute(r, 4, &s);
    cr_assert_float_eq(s.median, 0.0, 1e-12);
    cr_assert(isnan(s.max_median), "max/median of a median of 0 is not a number");
    cr_assert(isnan(s.top_share), "no workload at all: no share");
    cr_assert_eq(s.outliers, 0);
}

Test(spread, gauge_denominator_is_its_mean_level)
{
    cr_assert_eq(sr_spread_denom_agg(SR_KIND_GAUGE).kind, SR_AGG_AVG);
    cr_assert_eq(sr_spread_denom_agg(SR_KIND_EVENT).kind, SR_AGG_VALUE);
}
