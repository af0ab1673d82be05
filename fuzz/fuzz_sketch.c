/*
 * fuzz_sketch.c - libFuzzer target for sr_sketch_merge_encoded(), which
 * decodes sketches read from the cache file (outside input).
 *
 * Each input is tried twice: as it is, and with its last four bytes
 * replaced by the right CRC-32C, since the checksum alone would refuse
 * nearly every mutation and the fuzzer would never reach the parser behind
 * it. Each try decodes into a fresh sketch and into one that already holds
 * values. A refusal must leave both as they were; an accepted input must
 * give a consistent sketch (count, monotone quantiles, count_le) whose
 * encoding decodes back to the same encoding.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/common.h"
#include "../metrics/sketch.h"
#include "fuzz.h"

static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

static sr_sketch *new_sketch(void)
{
    sr_sketch *s = NULL;
    CHECK(sr_sketch_create(SR_SKETCH_ALPHA, &s) == 0);
    return s;
}

static void encode(const sr_sketch *s, unsigned char **buf, size_t *len)
{
    CHECK(sr_sketch_encode(s, buf, len) == 0);
}

static void check_consistent(const sr_sketch *s)
{
    uint64_t n = sr_sketch_count(s);
    CHECK(sr_sketch_count_le(s, INFINITY) == n);
    CHECK(sr_sketch_count_le(s, -INFINITY) == 0);
    if (n == 0) {
        CHECK(isnan(sr_sketch_quantile(s, 0.5)));
        return;
    }
    double prev = -INFINITY;
    for (int k = 0; k <= 64; k++) {
        double x = sr_sketch_quantile(s, k / 64.0);
        CHECK(isfinite(x));
        CHECK(x >= prev);
        prev = x;
    }
    CHECK(sr_sketch_at_rank(s, 1) == sr_sketch_quantile(s, 0.0));
    CHECK(sr_sketch_at_rank(s, n) == sr_sketch_quantile(s, 1.0));
    CHECK(isnan(sr_sketch_at_rank(s, 0)));
    if (n < UINT64_MAX)
        CHECK(isnan(sr_sketch_at_rank(s, n + 1)));
    /* The rank-r value's own bucket is counted: count_le(at_rank(r)) >= r. */
    uint64_t ranks[] = {1, n / 4 + 1, n / 2 + 1, n - n / 10, n};
    for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++) {
        double x = sr_sketch_at_rank(s, ranks[i]);
        CHECK(sr_sketch_count_le(s, x) >= ranks[i]);
    }
}

static void try_decode(const uint8_t *data, size_t size)
{
    static const double seed[] = {-2.5, 0, 3, 600, 601, 86400};
    sr_sketch *fresh = new_sketch(), *full = new_sketch();
    for (size_t i = 0; i < sizeof seed / sizeof seed[0]; i++)
        CHECK(sr_sketch_add(full, seed[i]) == 0);
    unsigned char *before;
    size_t before_len;
    encode(full, &before, &before_len);

    int rc = sr_sketch_merge_encoded(fresh, data, size);
    int rc_full = sr_sketch_merge_encoded(full, data, size);
    CHECK(rc == rc_full || (rc == 0 && rc_full == SR_ERANGE));
    CHECK(rc == 0 || rc == SR_ECORRUPT || rc == SR_EVERSION || rc == SR_EINVAL || rc == SR_ERANGE);

    if (rc_full != 0) {
        unsigned char *after;
        size_t after_len;
        encode(full, &after, &after_len);
        CHECK(after_len == before_len && memcmp(after, before, before_len) == 0);
        free(after);
    } else {
        check_consistent(full);
    }

    if (rc != 0) {
        CHECK(sr_sketch_count(fresh) == 0);
    } else {
        check_consistent(fresh);
        unsigned char *e1, *e2;
        size_t l1, l2;
        encode(fresh, &e1, &l1);
        sr_sketch *again = new_sketch();
        CHECK(sr_sketch_merge_encoded(again, e1, l1) == 0);
        CHECK(sr_sketch_count(again) == sr_sketch_count(fresh));
        encode(again, &e2, &l2);
        CHECK(l1 == l2 && memcmp(e1, e2, l1) == 0);
        for (int k = 0; k <= 16; k++) {
            double x = sr_sketch_quantile(again, k / 16.0), y = sr_sketch_quantile(fresh, k / 16.0);
            CHECK(x == y || (isnan(x) && isnan(y)));
        }
        /* A merge into an empty sketch is a copy. */
        sr_sketch *copy = new_sketch();
        unsigned char *e3;
        size_t l3;
        CHECK(sr_sketch_merge(copy, fresh) == 0);
        encode(copy, &e3, &l3);
        CHECK(l1 == l3 && memcmp(e1, e3, l1) == 0);
        free(e3);
        sr_sketch_destroy(copy);
        /* Merging with itself doubles the count, or refuses to overflow. */
        uint64_t n = sr_sketch_count(again);
        int mrc = sr_sketch_merge(again, again);
        CHECK(mrc == 0 ? sr_sketch_count(again) == 2 * n
                       : mrc == SR_ERANGE && sr_sketch_count(again) == n);
        free(e1);
        free(e2);
        sr_sketch_destroy(again);
    }
    free(before);
    sr_sketch_destroy(fresh);
    sr_sketch_destroy(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_decode(data, size);
    if (size > 4) {
        uint8_t *fixed = malloc(size);
        CHECK(fixed != NULL);
        memcpy(fixed, data, size);
        uint32_t crc = crc32c(fixed, size - 4);
        for (int k = 0; k < 4; k++)
            fixed[size - 4 + k] = (uint8_t)(crc >> (8 * k));
        try_decode(fixed, size);
        free(fixed);
    }
    return 0;
}
