/*
 * splitmix64: a tiny, fast, deterministic generator (one 64-bit word of state) for ASLR
 * placement and for randomized tests that must replay from a seed. Not cryptographic.
 */
#ifndef LIB_RAND_H
#define LIB_RAND_H

#include <stddef.h>
#include <stdint.h>

#define SPLITMIX64_GAMMA 0x9e3779b97f4a7c15ull
#define SPLITMIX64_MUL1 0xbf58476d1ce4e5b9ull
#define SPLITMIX64_MUL2 0x94d049bb133111ebull
#define FNV1A64_OFFSET 0xcbf29ce484222325ull
#define FNV1A64_PRIME 0x100000001b3ull

/* splitmix64's output function: a bijection of 64-bit words that spreads every input
 * bit over the whole output (nearby inputs give unrelated outputs). */
static inline uint64_t rand_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * SPLITMIX64_MUL1;
    z = (z ^ (z >> 27)) * SPLITMIX64_MUL2;
    return z ^ (z >> 31);
}

static inline uint64_t splitmix64_next(uint64_t *state) {
    return rand_mix64(*state += SPLITMIX64_GAMMA);
}

/*
 * The seed of the index-th child stream of a stream seeded with `seed`: a pure function
 * of both, so a tree of generators (boot seed -> process -> child process) is fixed by
 * the root seed and the order in which each node makes its children. Different indices
 * (or parents) give unrelated seeds; index 0 does not give the parent's own seed back.
 */
static inline uint64_t rand_derive(uint64_t seed, uint64_t index) {
    return rand_mix64(seed ^ rand_mix64((index + 1) * SPLITMIX64_GAMMA));
}

/* FNV-1a over len bytes: a name turned into a rand_derive index (not collision-proof
 * against someone choosing names, which only makes that caller's own seeds repeat). */
static inline uint64_t rand_hash_bytes(const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h = FNV1A64_OFFSET;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV1A64_PRIME;
    }
    return h;
}

#endif
