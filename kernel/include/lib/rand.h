/*
 * splitmix64: a tiny, fast, deterministic generator (one 64-bit word of state) for ASLR
 * placement and for randomized tests that must replay from a seed. Not cryptographic.
 */
#ifndef LIB_RAND_H
#define LIB_RAND_H

#include <stdint.h>

#define SPLITMIX64_GAMMA 0x9e3779b97f4a7c15ull

static inline uint64_t splitmix64_next(uint64_t *state) {
    uint64_t z = (*state += SPLITMIX64_GAMMA);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
