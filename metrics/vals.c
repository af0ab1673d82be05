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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void sr_vals_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_double);
}

/* m for v at scale k (1-based), when m / scale is v bit for bit. */
static bool vals_scaled(double v, int k, int64_t *m)
{
    double s = vals_scale[k - 1], x = v * s;
    if (!(fabs(x) < 9007199254740992.0)) /* 2^53, and not NaN */
        return false;
    *m = llround(x);
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

int sr_vals_encode(const double *v, size_t n, unsigned char **out, size_t *len)
{
    int k = 0;
    size_t size = 1 + 8 * n;
    for (int t = 1; t <= VALS_SCALES && n > 0; t++) {
        int64_t m, prev = 0;
        size_t sz = 1;
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            ok = vals_scaled(v[i], t, &m);
            if (ok)
                sz += varint_len(i == 0 ? zigzag64(m) : (uint64_t)(m - prev));
            prev = m;
        }
        if (ok) {
            if (sz < size) {
                k = t;
                size = sz;
            }
            break;
        }
    }
    unsigned char *b = malloc(size);
    if (!b)
        return SR_ENOMEM;
    b[0] = (unsigned char)k;
    size_t at = 1;
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (k == 0) {
            uint64_t u;
            memcpy(&u, &v[i], sizeof u);
            for (int j = 0; j < 8; j++)
                b[at++] = (unsigned char)(u >> (8 * j));
            continue;
        }
        int64_t m;
        vals_scaled(v[i], k, &m);
        at += varint_put(b + at, i == 0 ? zigzag64(m) : (uint64_t)(m - prev));
        prev = m;
    }
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
