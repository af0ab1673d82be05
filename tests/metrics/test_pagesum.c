/*
 * test_pagesum.c - the page checksum (metrics/store_pagesum.c) against its
 * definition written out here one word at a time: word i of the page
 * (little-endian) into lane i % 8, Fletcher's two sums a lane, the lanes
 * weighed apart. Whatever path the build takes (vectors or not), a page
 * summed by that definition checks, and a change to it does not.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "../../metrics/store_int.h"

/* The definition: the sum of page[0 .. len - 8) into its last 8 bytes. */
static void sum_by_definition(unsigned char *page, size_t len)
{
    uint32_t s1[8], s2[8] = {0};
    for (uint32_t k = 0; k < 8; k++)
        s1[k] = k + 1;
    for (size_t i = 0; i < (len - 8) / 4; i++) {
        const unsigned char *p = page + i * 4;
        s1[i % 8] +=
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        s2[i % 8] += s1[i % 8];
    }
    uint32_t a = 0, b = 0;
    for (uint32_t k = 0; k < 8; k++) {
        a += s1[k] * (2 * k + 1);
        b += s2[k] * (2 * k + 3);
    }
    for (int j = 0; j < 4; j++) {
        page[len - 8 + j] = (unsigned char)(a >> (8 * j));
        page[len - 4 + j] = (unsigned char)(b >> (8 * j));
    }
}

static void fill(unsigned char *page, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        page[i] = (unsigned char)(seed >> 16);
    }
}

Test(pagesum, a_page_summed_by_the_definition_checks_at_every_size)
{
    static unsigned char page[65536];
    for (size_t len = 512; len <= sizeof page; len *= 2) {
        fill(page, len, (unsigned)len);
        sum_by_definition(page, len);
        cr_assert(store_pagesum_ok(page, len), "a page of %zu bytes", len);
    }
}

Test(pagesum, any_change_fails)
{
    static unsigned char page[16384], copy[16384];
    fill(page, sizeof page, 7);
    sum_by_definition(page, sizeof page);
    /* one bit anywhere, the sum's own bytes included */
    for (size_t at = 0; at < sizeof page; at += 97) {
        memcpy(copy, page, sizeof page);
        copy[at] ^= 0x10;
        cr_assert(!store_pagesum_ok(copy, sizeof copy), "a bit flipped at byte %zu", at);
    }
    /* two words swapped, in one lane and across lanes */
    static const size_t pairs[][2] = {{0, 32}, {4, 8}, {100, 4000}, {16364, 16368}};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        memcpy(copy, page, sizeof page);
        unsigned char w[4];
        memcpy(w, copy + pairs[i][0], 4);
        memcpy(copy + pairs[i][0], copy + pairs[i][1], 4);
        memcpy(copy + pairs[i][1], w, 4);
        if (memcmp(copy, page, sizeof page) != 0)
            cr_assert(!store_pagesum_ok(copy, sizeof copy), "words at %zu and %zu swapped",
                      pairs[i][0], pairs[i][1]);
    }
    /* a block the disk lost: zeros, sum and all */
    memset(copy, 0, sizeof copy);
    cr_assert(!store_pagesum_ok(copy, sizeof copy), "a page of zeros");
}
