/*
 * Tests of metrics/stamps.c: the cells come back as the store would read
 * them; only what is missing or marked changed is read again; a change
 * marked before everything (retention) and emptying on the byte bound.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "../../metrics/common.h"
#include "../../metrics/stamps.h"

#define H SR_MS_HOUR

/* The "table": n and sum of hour h of node 1 or 2 (metric 7); n 0: no row. */
static int64_t cell_n[2][48];
static double cell_sum[2][48];
static int reads;                /* calls of the read function */
static sr_ms read_from, read_to; /* the last one's range */

static int fake_read(void *ctx, int64_t metric, int64_t node, sr_ms from, sr_ms to, sr_stamps *s)
{
    (void)ctx;
    cr_assert_eq(metric, 7);
    cr_assert_eq(from % H, 0);
    cr_assert_eq(to % H, 0);
    reads++;
    read_from = from;
    read_to = to;
    for (sr_ms t = from; t < to; t += H) {
        int h = (int)(t / H);
        if (h >= 0 && h < 48 && cell_n[node - 1][h] > 0)
            cr_assert_eq(sr_stamps_push(s, t, cell_n[node - 1][h], cell_sum[node - 1][h]), 0);
    }
    return 0;
}

/* Checks the cells of node in [from, to) against the table. */
static void expect(sr_stamps *s, int64_t node, sr_ms from, sr_ms to)
{
    const sr_stamp_cell *c;
    size_t n;
    cr_assert_eq(sr_stamps_get(s, 7, node, from, to, fake_read, NULL, &c, &n), 0);
    size_t k = 0;
    for (sr_ms t = sr_floor_ms(from, H); t < sr_floor_ms(to, H); t += H) {
        int h = (int)(t / H);
        if (cell_n[node - 1][h] == 0)
            continue;
        cr_assert_lt(k, n, "hour %d missing", h);
        cr_assert_eq(c[k].bucket, t, "hour %d", h);
        cr_assert_eq(c[k].n, cell_n[node - 1][h], "hour %d", h);
        cr_assert_eq(c[k].sum, cell_sum[node - 1][h], "hour %d", h);
        k++;
    }
    cr_assert_eq(k, n, "%zu cells, want %zu", n, k);
}

static void fill(void)
{
    memset(cell_n, 0, sizeof cell_n);
    for (int h = 0; h < 48; h++) {
        if (h % 5 == 3)
            continue; /* hours without a row */
        cell_n[0][h] = h + 1;
        cell_sum[0][h] = h * 1.5;
        cell_n[1][h] = 2 * h + 1;
        cell_sum[1][h] = -h;
    }
    reads = 0;
}

Test(stamps, reads_only_what_it_lacks_and_what_changed)
{
    fill();
    sr_stamps *s;
    cr_assert_eq(sr_stamps_create(1 << 20, &s), 0);
    expect(s, 1, 10 * H, 20 * H);
    cr_assert_eq(reads, 1);
    expect(s, 1, 12 * H + 5, 18 * H + 59); /* inside: nothing read */
    cr_assert_eq(reads, 1);
    expect(s, 1, 5 * H, 25 * H); /* both ends */
    cr_assert_eq(reads, 3);
    cr_assert(read_from == 20 * H && read_to == 25 * H, "the new end only");
    expect(s, 2, 10 * H, 20 * H); /* another node: its own */
    cr_assert_eq(reads, 4);

    /* a commit touched 14:05 to 15:30 of the metric: those hours, once */
    cell_n[0][14] += 3;
    cell_sum[0][14] += 9;
    cell_n[0][15] = 0; /* deleted */
    sr_stamps_changed(s, 7, 14 * H + 5 * SR_MS_MIN, 15 * H + 30 * SR_MS_MIN);
    expect(s, 1, 5 * H, 25 * H);
    cr_assert_eq(reads, 5);
    cr_assert(read_from == 14 * H && read_to == 16 * H, "the touched hours only");
    sr_stamps_changed(s, 8, 0, 47 * H); /* another metric */
    expect(s, 2, 10 * H, 20 * H);
    cr_assert_eq(reads, 6, "node 2 read the hours of the change again");

    /* retention: everything before 12:00 */
    for (int h = 0; h < 12; h++)
        cell_n[0][h] = 0;
    sr_stamps_changed(s, 7, INT64_MIN, 12 * H - 1);
    expect(s, 1, 5 * H, 25 * H);
    cr_assert(read_from == 5 * H && read_to == 12 * H, "from where it starts to the cut");

    /* nothing for an empty range */
    const sr_stamp_cell *c;
    size_t n;
    int before = reads;
    cr_assert_eq(sr_stamps_get(s, 7, 1, 30 * H + 5, 30 * H + 9, fake_read, NULL, &c, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(reads, before);

    sr_stamps_clear(s);
    expect(s, 1, 5 * H, 25 * H);
    cr_assert_eq(reads, before + 1);
    sr_stamps_destroy(s);
}

Test(stamps, past_its_bound_it_starts_again)
{
    fill();
    sr_stamps *s;
    cr_assert_eq(sr_stamps_create(64, &s), 0); /* less than one entry's cells */
    expect(s, 1, 0, 48 * H);
    expect(s, 1, 0, 48 * H);
    cr_assert_eq(reads, 2, "emptied on the bound, read again");
    expect(s, 2, 0, 48 * H);
    cr_assert_eq(reads, 3);
    sr_stamps_destroy(s);
}
