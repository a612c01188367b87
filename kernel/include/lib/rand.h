/*
 * splitmix64: a tiny, fast, deterministic generator (one 64-bit word of state) for ASLR
 * placement and for randomized tests that must replay from a seed. Not cryptographic:
 * its outputs give its state away. rand_derive, which makes the seeds of child
 * generators, is a keyed pseudorandom function (SipHash-2-4), so a seed does not give
 * its parent's away.
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

/* SipHash's initial state constants (the ASCII of "somepseudorandomlygeneratedbytes"). */
#define SIPHASH_V0 0x736f6d6570736575ull
#define SIPHASH_V1 0x646f72616e646f6dull
#define SIPHASH_V2 0x6c7967656e657261ull
#define SIPHASH_V3 0x7465646279746573ull
/* The finalization marker xored into v2. */
#define SIPHASH_FINAL 0xffull
/* The second half of rand_derive's 128-bit key (the ASCII of "aslrseed"); the first is
 * the parent seed. */
#define RAND_DERIVE_KEY1 0x61736c7273656564ull

/* x rotated left by b bits, 0 < b < 64. */
static inline uint64_t rand_rotl64(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

/* One SipRound over the state v[4]. */
static inline void siphash_round(uint64_t v[4]) {
    v[0] += v[1];
    v[1] = rand_rotl64(v[1], 13) ^ v[0];
    v[0] = rand_rotl64(v[0], 32);
    v[2] += v[3];
    v[3] = rand_rotl64(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = rand_rotl64(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = rand_rotl64(v[1], 17) ^ v[2];
    v[2] = rand_rotl64(v[2], 32);
}

/* One message word into the state: c = 2 rounds (SipHash-2-4). */
static inline void siphash_absorb(uint64_t v[4], uint64_t m) {
    v[3] ^= m;
    siphash_round(v);
    siphash_round(v);
    v[0] ^= m;
}

/*
 * SipHash-2-4 (Aumasson and Bernstein) of the 8-byte little-endian message `word` under
 * the 128-bit key (k0, k1). A pseudorandom function of the message for a secret key:
 * its outputs reveal nothing usable about the key.
 */
static inline uint64_t rand_siphash_word(uint64_t k0, uint64_t k1, uint64_t word) {
    uint64_t v[4] = {k0 ^ SIPHASH_V0, k1 ^ SIPHASH_V1, k0 ^ SIPHASH_V2, k1 ^ SIPHASH_V3};
    siphash_absorb(v, word);
    siphash_absorb(v, (uint64_t)sizeof(word) << 56); /* the last block: the length, 8 */
    v[2] ^= SIPHASH_FINAL;
    for (int i = 0; i < 4; i++) /* d = 4 rounds */
        siphash_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/*
 * The seed of the index-th child stream of a stream seeded with `seed`: a pure function
 * of both, so a tree of generators (boot seed -> process -> child process) is fixed by
 * the root seed and the order in which each node makes its children. Different indices
 * (or parents) give unrelated seeds; index 0 does not give the parent's own seed back.
 * One-way: the parent seed is the key of a SipHash of the index, so knowing a child's
 * seed (which a process can work out from its own placements) and its index does not
 * lead back to the parent's, its siblings' or anything above them.
 */
static inline uint64_t rand_derive(uint64_t seed, uint64_t index) {
    return rand_siphash_word(seed, RAND_DERIVE_KEY1, index);
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
