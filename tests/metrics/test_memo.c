/*
 * Tests of metrics/memo.c: entries come back as they were put while their
 * stamp matches, lists of values bit for bit in their compact encoding; a
 * different stamp is a miss; the memo stays within its bound, keeps the
 * entries in use while others come and go, and never gives one key's bytes
 * for another as entries are replaced and evicted.
 */
#include <criterion/criterion.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/common.h"
#include "../../metrics/memo.h"

static sr_memo *memo_of(size_t max_bytes)
{
    sr_memo *m = NULL;
    cr_assert_eq(sr_memo_create(max_bytes, &m), 0);
    return m;
}

static sr_memo_key key_of(int64_t i)
{
    return (sr_memo_key){1, 7, 3, 1700000000000 + i * 3600000, i % 5, 0};
}

/* An entry's bytes for key i, version v: len bytes that name both. */
static void fill(unsigned char *b, size_t len, int64_t i, int v)
{
    for (size_t k = 0; k < len; k++)
        b[k] = (unsigned char)(i * 31 + v * 7 + (int64_t)k);
}

Test(memo, values_come_back_bit_for_bit)
{
    sr_memo *m = memo_of(1 << 20);
    double tenths[] = {0, 0.1, 12.5, 12.5, 899.9, 900, 1234.5};
    double odd[] = {-1e300, 1.0 / 3, 2.5e-9, 1e17};
    sr_memo_key kt = key_of(1), ko = key_of(2), ke = key_of(3);
    sr_memo_stamp st = {7, 3059.4};
    cr_assert_eq(sr_memo_put_values(m, &kt, &st, tenths, 7), 0);
    cr_assert_eq(sr_memo_put_values(m, &ko, &st, odd, 4), 0);
    cr_assert_eq(sr_memo_put_values(m, &ke, &st, NULL, 0), 0);

    double *v = NULL;
    size_t cap = 0, n = 99, len;
    cr_assert_eq(sr_memo_get_values(m, &kt, &st, &v, &cap, &n), 0);
    cr_assert_eq(n, 7);
    cr_assert_eq(memcmp(v, tenths, sizeof tenths), 0);
    /* kept compactly: one byte of format, then about one a value */
    cr_assert_not_null(sr_memo_get(m, &kt, &st, &len));
    cr_assert_lt(len, sizeof tenths / 2, "%zu bytes for 7 tenths of seconds", len);

    cr_assert_eq(sr_memo_get_values(m, &ko, &st, &v, &cap, &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(v, odd, sizeof odd), 0, "values no decimal scale keeps, as doubles");
    cr_assert_eq(sr_memo_get_values(m, &ke, &st, &v, &cap, &n), 0, "an empty list is an entry");
    cr_assert_eq(n, 0);

    /* bytes that are not a list of values are refused, not decoded */
    sr_memo_key kb = key_of(4);
    unsigned char junk[] = {9, 9, 9};
    cr_assert_eq(sr_memo_put(m, &kb, &st, junk, sizeof junk), 0);
    cr_assert_eq(sr_memo_get_values(m, &kb, &st, &v, &cap, &n), SR_ECORRUPT);
    free(v);
    sr_memo_destroy(m);
}

Test(memo, another_stamp_is_a_miss)
{
    sr_memo *m = memo_of(1 << 20);
    sr_memo_key k = key_of(1);
    sr_memo_stamp st = {3, 30.5};
    double v3[] = {10, 10.5, 10};
    cr_assert_eq(sr_memo_put_values(m, &k, &st, v3, 3), 0);
    double *v = NULL;
    size_t cap = 0, n;
    sr_memo_stamp more = {4, 40.5}, moved = {3, 31.5}, zero = {3, 0}, neg = {0, -0.0};
    cr_assert_eq(sr_memo_get_values(m, &k, &more, &v, &cap, &n), SR_ENOENT, "late data");
    cr_assert_eq(sr_memo_get_values(m, &k, &moved, &v, &cap, &n), SR_ENOENT, "another sum");
    cr_assert_eq(sr_memo_get_values(m, &k, &zero, &v, &cap, &n), SR_ENOENT);
    sr_memo_key other = key_of(2);
    cr_assert_eq(sr_memo_get_values(m, &other, &st, &v, &cap, &n), SR_ENOENT, "another key");
    /* the sum is compared bit for bit: -0 is not 0 */
    sr_memo_stamp pos = {0, 0.0};
    cr_assert_eq(sr_memo_put_values(m, &other, &pos, NULL, 0), 0);
    cr_assert_eq(sr_memo_get_values(m, &other, &neg, &v, &cap, &n), SR_ENOENT);

    /* put again with the new stamp: the new one hits, the old one no more */
    double v4[] = {10, 10, 10.5, 10};
    cr_assert_eq(sr_memo_put_values(m, &k, &more, v4, 4), 0);
    cr_assert_eq(sr_memo_get_values(m, &k, &more, &v, &cap, &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_eq(sr_memo_get_values(m, &k, &st, &v, &cap, &n), SR_ENOENT);
    int64_t hits, misses;
    sr_memo_counts(m, &hits, &misses);
    cr_assert_eq(hits, 1);
    cr_assert_eq(misses, 6);
    free(v);
    sr_memo_destroy(m);
}

Test(memo, a_result_is_read_in_place)
{
    sr_memo *m = memo_of(1 << 20);
    for (int64_t i = 0; i < 50; i++) {
        sr_memo_key k = key_of(i);
        sr_memo_stamp st = {i, 0};
        unsigned char b[40];
        fill(b, (size_t)i % 40, i, 0);
        cr_assert_eq(sr_memo_put(m, &k, &st, b, (size_t)i % 40), 0);
    }
    for (int64_t i = 0; i < 50; i++) {
        sr_memo_key k = key_of(i);
        sr_memo_stamp st = {i, 0};
        size_t len;
        const void *p = sr_memo_get(m, &k, &st, &len);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % alignof(max_align_t), 0, "entry %lld misaligned", (long long)i);
    }
    sr_memo_destroy(m);
}

Test(memo, the_memo_stays_within_its_bound)
{
    size_t bound = 64 << 10;
    sr_memo *m = memo_of(bound);
    unsigned char b[300];
    for (int64_t i = 0; i < 20000; i++) {
        sr_memo_key k = key_of(i);
        sr_memo_stamp st = {1, (double)i};
        size_t len = (size_t)(i * 37 % 300);
        fill(b, len, i, 0);
        cr_assert_eq(sr_memo_put(m, &k, &st, b, len), 0);
        cr_assert_leq(sr_memo_bytes(m), bound, "%zu bytes after %lld puts", sr_memo_bytes(m),
                      (long long)i + 1);
        size_t got;
        cr_assert_not_null(sr_memo_get(m, &k, &st, &got), "the entry just put");
        cr_assert_eq(got, len);
    }
    /* it is full, not emptied */
    cr_assert_gt(sr_memo_bytes(m), bound / 2);
    /* an entry that would take more than an eighth of the bound is not kept,
     * and pushes nothing out */
    size_t before = sr_memo_bytes(m);
    unsigned char *big = calloc(1, bound / 8);
    cr_assert_not_null(big);
    sr_memo_key kb = key_of(-1);
    sr_memo_stamp st = {1, 1};
    size_t got;
    cr_assert_eq(sr_memo_put(m, &kb, &st, big, bound / 8), 0);
    cr_assert_null(sr_memo_get(m, &kb, &st, &got));
    cr_assert_eq(sr_memo_bytes(m), before);
    free(big);
    sr_memo_destroy(m);
}

Test(memo, entries_in_use_stay_while_others_come_and_go)
{
    /* a screen's entries, read at every refresh, among entries computed once
     * (16 000 of 200 bytes: fifty times the bound) */
    sr_memo *m = memo_of(64 << 10);
    unsigned char b[200];
    enum { HOT = 60, COLD = 80, ROUNDS = 200 };
    for (int64_t i = 0; i < HOT; i++) {
        sr_memo_key k = key_of(i);
        sr_memo_stamp st = {1, 2};
        fill(b, sizeof b, i, 0);
        cr_assert_eq(sr_memo_put(m, &k, &st, b, sizeof b), 0);
    }
    int64_t cold = 1000;
    for (int r = 0; r < ROUNDS; r++) {
        for (int c = 0; c < COLD; c++, cold++) {
            sr_memo_key k = key_of(cold);
            sr_memo_stamp st = {1, 2};
            fill(b, sizeof b, cold, 0);
            cr_assert_eq(sr_memo_put(m, &k, &st, b, sizeof b), 0);
        }
        for (int64_t i = 0; i < HOT; i++) {
            sr_memo_key k = key_of(i);
            sr_memo_stamp st = {1, 2};
            size_t len;
            const unsigned char *got = sr_memo_get(m, &k, &st, &len);
            cr_assert_not_null(got, "round %d: entry %lld in use was evicted", r, (long long)i);
            fill(b, sizeof b, i, 0);
            cr_assert_eq(len, sizeof b);
            cr_assert_eq(memcmp(got, b, len), 0);
        }
    }
    sr_memo_destroy(m);
}

/* A small xorshift: the same sequence at every run. */
static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(memo, replaced_and_evicted_entries_never_answer_for_another)
{
    /* random puts and gets over few keys in a small memo: a get that hits
     * gives the bytes of the last put of that key and stamp, whatever was
     * replaced or evicted before it */
    enum { KEYS = 3000, OPS = 200000 };
    sr_memo *m = memo_of(48 << 10);
    int *version = calloc(KEYS, sizeof *version);
    cr_assert_not_null(version);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    unsigned char b[120];
    int64_t hits = 0;
    for (int op = 0; op < OPS; op++) {
        int64_t i = (int64_t)(next(&seed) % KEYS);
        sr_memo_key k = key_of(i);
        size_t len = (size_t)(i % 120);
        bool put = next(&seed) % 3 == 0;
        if (put) {
            version[i]++;
            sr_memo_stamp st = {version[i], 0.5};
            fill(b, len, i, version[i]);
            cr_assert_eq(sr_memo_put(m, &k, &st, b, len), 0);
        }
        sr_memo_stamp st = {version[i], 0.5};
        size_t got;
        const unsigned char *p = sr_memo_get(m, &k, &st, &got);
        cr_assert(p || !put, "key %lld: the entry just put is missing", (long long)i);
        if (!p)
            continue;
        hits++;
        fill(b, len, i, version[i]);
        cr_assert_eq(got, len, "key %lld", (long long)i);
        cr_assert_eq(memcmp(p, b, len), 0, "key %lld: another entry's bytes", (long long)i);
        if (version[i] > 1) {
            sr_memo_stamp old = {version[i] - 1, 0.5};
            cr_assert_null(sr_memo_get(m, &k, &old, &got), "a replaced entry answered");
        }
    }
    cr_assert_gt(hits, OPS / 4, "only %lld hits", (long long)hits);
    free(version);
    sr_memo_destroy(m);
}

/* A slower memo behind: key i answers with stamp {i, 0} and 3 bytes. */
static int loads;
static int fake_load(void *ctx, const sr_memo_key *key, const sr_memo_stamp *stamp, void **data,
                     size_t *len)
{
    (void)ctx;
    loads++;
    int64_t i = (key->d - 1700000000000) / 3600000;
    if (stamp->n != i || stamp->sum != 0)
        return SR_ENOENT;
    unsigned char *b = malloc(3);
    cr_assert_not_null(b);
    fill(b, 3, i, 9);
    *data = b;
    *len = 3;
    return 0;
}

static int handed;
static int count_fresh(void *ctx, const sr_memo_key *key, const sr_memo_stamp *stamp,
                       const void *data, size_t len)
{
    (void)ctx, (void)key, (void)stamp, (void)data, (void)len;
    handed++;
    return 0;
}

Test(memo, a_miss_asks_what_stands_behind_and_only_puts_are_handed_over)
{
    sr_memo *m = memo_of(1 << 20);
    sr_memo_set_load(m, fake_load, NULL);
    sr_memo_key k2 = key_of(2), k3 = key_of(3), k4 = key_of(4), k5 = key_of(5);
    size_t len;
    const unsigned char *got = sr_memo_get(m, &k2, &(sr_memo_stamp){2, 0}, &len);
    unsigned char want[3];
    fill(want, 3, 2, 9);
    cr_assert(got && len == 3 && memcmp(got, want, 3) == 0, "loaded from behind");
    cr_assert_eq(loads, 1);
    cr_assert_not_null(sr_memo_get(m, &k2, &(sr_memo_stamp){2, 0}, &len), "kept");
    cr_assert_eq(loads, 1, "the second time from the memo itself");
    cr_assert_null(sr_memo_get(m, &k3, &(sr_memo_stamp){99, 0}, &len), "another stamp: a miss");
    cr_assert_null(sr_memo_get_local(m, &k4, &(sr_memo_stamp){4, 0}, &len));
    cr_assert_eq(loads, 2, "a local get does not look behind");

    unsigned char b[8];
    fill(b, 8, 4, 1);
    cr_assert_eq(sr_memo_put(m, &k4, &(sr_memo_stamp){1, 0}, b, 8), 0);
    cr_assert_eq(sr_memo_put_local(m, &k5, &(sr_memo_stamp){1, 0}, b, 8), 0);
    cr_assert_eq(sr_memo_each_fresh(m, count_fresh, NULL), 0);
    cr_assert_eq(handed, 1, "only the put: not the loaded one, not the local one");
    cr_assert_eq(sr_memo_each_fresh(m, count_fresh, NULL), 0);
    cr_assert_eq(handed, 1, "handed over once");
    sr_memo_destroy(m);
}
