/*
 * vals.h - a sorted list of observations, encoded compactly and exactly.
 *
 * An event's hour cell keeps its observations sorted in this form (the
 * rollup's `vals`, metrics/store_rollup.c), and the memo keeps the values near a
 * percentile in it (metrics/query.c). Decoding gives every value back bit
 * for bit.
 *
 * Encoding: one byte k, then
 *   k = 0      the values as little-endian IEEE doubles;
 *   k = 1..7   every value times 10^(k-1) is an integer m that gives the
 *              value back exactly as m / 10^(k-1): the first m as a zigzag
 *              varint (LEB128), then each m's difference to the one before
 *              (never negative: sorted) as a varint.
 * Response times in whole or tenth seconds so take one to three bytes a
 * value instead of eight; the smaller of the two encodings is written.
 */
#ifndef SR_VALS_H
#define SR_VALS_H

#include <stddef.h>

#include "common.h"

/* Sorts v[0..n) in ascending order, stably: values that compare equal (0
 * and -0) keep their order. Sorted runs already in v are merged, not sorted
 * again, so a concatenation of k sorted lists costs about log2(k) passes.
 * v may be NULL when n is 0. */
void sr_vals_sort(double *v, size_t n);

/* Encodes sorted v[0..n) (v may be NULL when n is 0) into *out (malloc,
 * the caller frees it) of *len bytes. SR_ENOMEM possible. */
int sr_vals_encode(const double *v, size_t n, unsigned char **out, size_t *len);

/* How many values b[0..len) holds, in *n; SR_ECORRUPT when b is not an
 * encoding. */
int sr_vals_count(const unsigned char *b, size_t len, size_t *n);

/* Decodes b[0..len) into out[0..n): exactly n values, or SR_ECORRUPT. */
int sr_vals_decode(const unsigned char *b, size_t len, size_t n, double *out);

#endif
