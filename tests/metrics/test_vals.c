/*
 * Tests of metrics/vals.c: sorted observations come back bit for bit from
 * both encodings, the scaled one is chosen where it is exact and smaller,
 * the count is read from the bytes, and damaged input is refused.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/common.h"
#include "../../metrics/vals.h"
#include "../helpers.h"

/* Encodes v[0..n) (sorted), checks the count and the decoding bit for bit,
 * and returns the encoding's format byte and length. */
static void round_trip(const double *v, size_t n, int *k, size_t *len)
{
    unsigned char *b = NULL;
    cr_assert_eq(sr_vals_encode(v, n, &b, len), 0);
    size_t got;
    cr_assert_eq(sr_vals_count(b, *len, &got), 0);
    cr_assert_eq(got, n, "count %zu, want %zu", got, n);
    double *out = malloc((n ? n : 1) * sizeof *out);
    cr_assert_not_null(out);
    cr_assert_eq(sr_vals_decode(b, *len, n, out), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert(memcmp(&out[i], &v[i], sizeof *v) == 0, "value %zu: %.17g, want %.17g", i, out[i],
                  v[i]);
    if (n > 0)
        cr_assert_eq(sr_vals_decode(b, *len, n + 1, out), SR_ECORRUPT, "one value too many");
    *k = b[0];
    free(out);
    free(b);
}

Test(vals, tenths_of_seconds_take_the_scaled_form)
{
    double v[] = {-12.5, 0, 0, 0.1, 3, 899.9, 900, 900, 7200.4};
    int k;
    size_t len;
    round_trip(v, sizeof v / sizeof *v, &k, &len);
    cr_assert_eq(k, 2, "tenths: scale 10 (k 2), got %d", k);
    cr_assert_lt(len, 1 + 3 * sizeof v / sizeof *v, "at most 3 bytes a value, got %zu", len);
}

Test(vals, values_no_scale_keeps_exactly_are_stored_as_doubles)
{
    double v[] = {-1e300, -M_PI, 1.0 / 3, 2.5e-9, 1e17};
    int k;
    size_t len;
    round_trip(v, sizeof v / sizeof *v, &k, &len);
    cr_assert_eq(k, 0);
    cr_assert_eq(len, 1 + 8 * sizeof v / sizeof *v);
}

Test(vals, a_scaled_form_no_shorter_than_the_doubles_gives_the_doubles)
{
    /* whole numbers, but far apart: eight bytes of varint each */
    double v[] = {-4e15, 4e15};
    int k;
    size_t len;
    round_trip(v, sizeof v / sizeof *v, &k, &len);
    cr_assert_eq(k, 0);
    cr_assert_eq(len, 1 + 8 * sizeof v / sizeof *v);
    /* one byte shorter, and it is the scaled form */
    double w[] = {-4e15, 4e15, 4e15};
    round_trip(w, sizeof w / sizeof *w, &k, &len);
    cr_assert_eq(k, 1);
    cr_assert_eq(len, 1 + 8 + 8 + 1);
}

Test(vals, an_empty_list_and_a_sort)
{
    int k;
    size_t len;
    round_trip(NULL, 0, &k, &len);
    cr_assert_eq(len, 1);
    double v[] = {3, -1, 2, 2, -7.25, 0};
    sr_vals_sort(v, sizeof v / sizeof *v);
    for (size_t i = 1; i < sizeof v / sizeof *v; i++)
        cr_assert_leq(v[i - 1], v[i]);
    sr_vals_sort(NULL, 0);
}

Test(vals, damaged_input_is_refused)
{
    size_t n;
    unsigned char bad_k[] = {8, 1};
    cr_assert_eq(sr_vals_count(bad_k, sizeof bad_k, &n), SR_ECORRUPT, "unknown format");
    unsigned char cut[] = {1, 2, 0x81};
    cr_assert_eq(sr_vals_count(cut, sizeof cut, &n), SR_ECORRUPT, "a varint cut short");
    unsigned char odd[] = {0, 1, 2, 3};
    cr_assert_eq(sr_vals_count(odd, sizeof odd, &n), SR_ECORRUPT, "doubles cut short");
    cr_assert_eq(sr_vals_count(NULL, 0, &n), SR_ECORRUPT);
    double out[2];
    cr_assert_eq(sr_vals_decode(cut, sizeof cut, 2, out), SR_ECORRUPT);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* A value of a small set (0, -0 and a few others, so that ties are many)
 * or of a wide one. */
static double some_value(uint64_t *s, int narrow)
{
    static const double few[] = {0.0, -0.0, 1.5, -3, 900, 0.0, -0.0};
    if (narrow)
        return few[lcg(s) % (sizeof few / sizeof *few)];
    return (double)(lcg(s) % 20000) / 10 - 500;
}

Test(vals, the_sort_is_stable_and_takes_sorted_runs_as_they_are)
{
    uint64_t seed = 11;
    for (int round = 0; round < 400; round++) {
        size_t n = round < 40 ? (size_t)round : lcg(&seed) % 3000;
        int shape = round % 5, narrow = round % 3 == 0;
        double *v = malloc((n ? n : 1) * sizeof *v);
        double *want = malloc((n ? n : 1) * sizeof *want);
        cr_assert(v && want);
        for (size_t i = 0; i < n; i++)
            v[i] = some_value(&seed, narrow);
        if (shape == 1 || shape == 2) {
            /* sorted runs one after the other (a cell of an upper level);
             * shape 2: long ones, as a day of hour cells */
            for (size_t lo = 0; lo < n;) {
                size_t len = 1 + lcg(&seed) % (shape == 1 ? 60 : 700);
                size_t hi = lo + len < n ? lo + len : n;
                for (size_t i = lo + 1; i < hi; i++)
                    for (size_t j = i; j > lo && v[j] < v[j - 1]; j--) {
                        double t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                    }
                lo = hi;
            }
        } else if (shape == 3) {
            for (size_t i = 0; i < n; i++)
                v[i] = -(double)i + (double)(lcg(&seed) % 3); /* descending, with noise */
        }
        memcpy(want, v, n * sizeof *v);
        th_sort_stable(want, n);
        sr_vals_sort(n ? v : NULL, n);
        for (size_t i = 0; i < n; i++)
            cr_assert(memcmp(&v[i], &want[i], sizeof *v) == 0,
                      "round %d (n %zu, shape %d) [%zu]: %g, want %g", round, n, shape, i, v[i],
                      want[i]);
        free(v);
        free(want);
    }
}
