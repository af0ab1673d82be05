/*
 * vals.c - the sorted observations' encoding (vals.h).
 */
#include "vals.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VALS_SCALES 7

static const double vals_scale[VALS_SCALES] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};

/*
 * The sort is a stable merge sort that takes the ascending runs already in
 * its input as they are: a cell of the tree's upper levels is its entities'
 * sorted lists one after the other (metrics/store_rollup.c sorts the entities'
 * cells first), and a day of an hour cell's values is 24 sorted lists, so a
 * few merge passes sort them where a comparison sort starts from scratch.
 * Stable, because two values that compare equal may still differ (0 and
 * -0): they keep the order they came in, as they did with glibc's merge
 * sort before it, so the stored cells stay what they were bit for bit.
 */
#define SORT_MINRUN 16 /* shorter runs are made this long by insertion */

/* Sorts v[lo..hi) by insertion, v[lo..sorted) being sorted already. */
static void insertion_sort(double *v, size_t lo, size_t sorted, size_t hi)
{
    for (size_t i = sorted; i < hi; i++) {
        double x = v[i];
        size_t j = i;
        while (j > lo && x < v[j - 1]) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* Merges src[lo..mid) and src[mid..hi) into dst[lo..hi); on ties the left
 * run's value comes first. */
static void merge_runs(const double *src, double *dst, size_t lo, size_t mid, size_t hi)
{
    size_t i = lo, j = mid, k = lo;
    if (i < mid && j < hi && src[mid - 1] > src[mid]) {
        /* without a branch on which side is smaller (random: a branch on
         * it is mispredicted half the time) */
        while (i < mid && j < hi) {
            double a = src[i], b = src[j];
            bool right = b < a;
            dst[k++] = right ? b : a;
            j += right;
            i += !right;
        }
    }
    memcpy(dst + k, src + i, (mid - i) * sizeof *dst);
    k += mid - i;
    memcpy(dst + k, src + j, (hi - j) * sizeof *dst);
}

void sr_vals_sort(double *v, size_t n)
{
    size_t i = 1;
    while (i < n && !(v[i] < v[i - 1]))
        i++;
    if (i >= n)
        return; /* sorted already: nothing to allocate */
    size_t max_runs = n / SORT_MINRUN + 2;
    double *tmp = malloc(n * sizeof *tmp + max_runs * sizeof(size_t));
    if (!tmp) {
        insertion_sort(v, 0, i, n); /* slow, but it sorts, and stably */
        return;
    }
    size_t *run = (size_t *)(tmp + n); /* run k is [run[k], run[k + 1]) */
    size_t nruns = 0;
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && !(v[hi] < v[hi - 1]))
            hi++;
        if (hi - lo < SORT_MINRUN && hi < n) {
            size_t end = lo + SORT_MINRUN < n ? lo + SORT_MINRUN : n;
            insertion_sort(v, lo, hi, end);
            hi = end;
        }
        run[nruns++] = lo;
        lo = hi;
    }
    run[nruns] = n;
    double *src = v, *dst = tmp;
    while (nruns > 1) {
        size_t k = 0;
        for (size_t r = 0; r < nruns; r += 2, k++) {
            size_t lo = run[r], mid = run[r + 1], hi = r + 2 <= nruns ? run[r + 2] : mid;
            merge_runs(src, dst, lo, mid, hi);
            run[k] = lo;
        }
        run[k] = n;
        nruns = k;
        double *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
    free(tmp);
}

/* m for v at scale k (1-based), when m / scale is v bit for bit. */
static bool vals_scaled(double v, int k, int64_t *m)
{
    double s = vals_scale[k - 1], x = v * s;
    if (!(fabs(x) < 9007199254740992.0)) /* 2^53, and not NaN */
        return false;
    /* llround(x), without the call: the integer part of x and the
     * fraction left are exact below 2^53; halves away from zero */
    int64_t t = (int64_t)x;
    double f = x - (double)t;
    *m = t + (f >= 0.5) - (f <= -0.5);
    double back = (double)*m / s;
    return memcmp(&back, &v, sizeof v) == 0;
}

static size_t varint_len(uint64_t u)
{
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

static size_t varint_put(unsigned char *p, uint64_t u)
{
    size_t n = 0;
    while (u >= 0x80) {
        p[n++] = (unsigned char)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (unsigned char)u;
    return n;
}

static uint64_t zigzag64(int64_t i)
{
    return ((uint64_t)i << 1) ^ (uint64_t)(i >> 63);
}

/*
 * Writes v[0..n) at scale k into b[1..) as long as the encoding stays
 * shorter than cap bytes (the doubles' length), in one pass. Returns its
 * length; 0 when some value is not exact at this scale; cap when every one
 * is but the doubles would be no longer (b then holds only a part).
 */
static size_t put_scaled(const double *v, size_t n, int k, unsigned char *b, size_t cap)
{
    size_t at = 1;
    int64_t m, prev = 0;
    for (size_t i = 0; i < n; i++, prev = m) {
        if (!vals_scaled(v[i], k, &m))
            return 0;
        uint64_t u = i == 0 ? zigzag64(m) : (uint64_t)(m - prev);
        if (at == cap)
            continue; /* too long already: only whether every value is exact matters */
        if (at + varint_len(u) >= cap)
            at = cap;
        else
            at += varint_put(b + at, u);
    }
    return at;
}

/* The first scale at which every value is exact, if that is shorter than
 * the doubles; the doubles otherwise. */
int sr_vals_encode(const double *v, size_t n, unsigned char **out, size_t *len)
{
    size_t cap = 1 + 8 * n, at = 0;
    unsigned char *b = malloc(cap);
    if (!b)
        return SR_ENOMEM;
    int k = 0;
    for (int t = 1; t <= VALS_SCALES && n > 0 && !at; t++) {
        at = put_scaled(v, n, t, b, cap);
        if (at && at < cap)
            k = t;
    }
    if (k == 0) {
        at = 1;
        for (size_t i = 0; i < n; i++) {
            uint64_t u;
            memcpy(&u, &v[i], sizeof u);
            for (int j = 0; j < 8; j++)
                b[at++] = (unsigned char)(u >> (8 * j));
        }
    }
    b[0] = (unsigned char)k;
    *out = b;
    *len = at;
    return 0;
}

int sr_vals_decode(const unsigned char *b, size_t len, size_t n, double *out)
{
    if (len < 1 || b[0] > VALS_SCALES)
        return SR_ECORRUPT;
    int k = b[0];
    size_t at = 1;
    if (k == 0) {
        if (len != 1 + 8 * n)
            return SR_ECORRUPT;
        for (size_t i = 0; i < n; i++, at += 8) {
            uint64_t u = 0;
            for (int j = 0; j < 8; j++)
                u |= (uint64_t)b[at + j] << (8 * j);
            memcpy(&out[i], &u, sizeof u);
        }
        return 0;
    }
    int64_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = 0;
        for (int shift = 0;; shift += 7) {
            if (at >= len || shift > 63)
                return SR_ECORRUPT;
            unsigned char c = b[at++];
            u |= (uint64_t)(c & 0x7f) << shift;
            if (!(c & 0x80))
                break;
        }
        m = i == 0 ? (int64_t)(u >> 1) ^ -(int64_t)(u & 1) : (int64_t)((uint64_t)m + u);
        out[i] = (double)m / vals_scale[k - 1];
    }
    return at == len ? 0 : SR_ECORRUPT;
}

int sr_vals_count(const unsigned char *b, size_t len, size_t *n)
{
    *n = 0;
    if (!b || len < 1 || b[0] > VALS_SCALES)
        return SR_ECORRUPT;
    if (b[0] == 0) {
        if ((len - 1) % 8)
            return SR_ECORRUPT;
        *n = (len - 1) / 8;
        return 0;
    }
    /* a varint ends at each byte without the high bit */
    if (b[len - 1] & 0x80)
        return SR_ECORRUPT;
    size_t c = 0;
    for (size_t i = 1; i < len; i++)
        c += !(b[i] & 0x80);
    *n = c;
    return 0;
}
