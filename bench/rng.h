/*
 * rng.h - the bench generators' random numbers: xorshift64, deterministic
 * from the seed a generator gives, so that every run writes the same data.
 */
#ifndef SR_BENCH_RNG_H
#define SR_BENCH_RNG_H

#include <stdint.h>

/* A uniform double in (0, 1) from *state, which it advances. */
static inline double rng_uniform(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return ((double)(*state >> 11) + 0.5) / 9007199254740992.0;
}

#endif
