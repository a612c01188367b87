/*
 * Host tests for <lib/rand.h>: splitmix64, FNV-1a and SipHash-2-4 keep their published outputs
 * (placements replay across builds only if they never change), and rand_derive, which
 * builds the ASLR seed tree (<vm/vm_aslr.h>), is a pure function whose children are
 * distinct from each other and from their parent, and which cannot be undone.
 */
#include <lib/rand.h>
#include "htest.h"

/* Children per parent checked for collisions; small enough for a quadratic scan. */
#define DERIVE_CHILDREN 512

HTEST(rand, splitmix64_reference_outputs) {
    uint64_t s = 0; /* the reference implementation's first outputs from state 0 */
    EXPECT_EQ(splitmix64_next(&s), 0xe220a8397b1dcdafull);
    EXPECT_EQ(splitmix64_next(&s), 0x6e789e6aa1b965f4ull);
    EXPECT_EQ(splitmix64_next(&s), 0x06c45d188009454full);
    EXPECT_EQ(s, 3 * SPLITMIX64_GAMMA);
}

HTEST(rand, fnv1a_reference_hashes) {
    EXPECT_EQ(rand_hash_bytes("", 0), FNV1A64_OFFSET);
    EXPECT_EQ(rand_hash_bytes("a", 1), 0xaf63dc4c8601ec8cull);
    EXPECT_EQ(rand_hash_bytes("foobar", 6), 0x85944171f73967e8ull);
}

/* SipHash-2-4 under the reference test key (bytes 00..0f): the reference output for the
 * 8-byte message 00..07, and for the message 08..0f the output of a separate
 * implementation of the whole algorithm that reproduces the reference vectors (and the
 * paper's 15-byte example, a129ca6149be45e5). */
HTEST(rand, siphash_reference_outputs) {
    uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull;
    EXPECT_EQ(rand_siphash_word(k0, k1, 0x0706050403020100ull), 0x93f5f5799a932462ull);
    EXPECT_EQ(rand_siphash_word(k0, k1, 0x0f0e0d0c0b0a0908ull), 0x242272d800a348b4ull);
}

HTEST(rand, derive_is_a_pure_function) {
    uint64_t seed = htest_seed();
    printf("seed %" PRIu64 "\n", seed);
    for (uint64_t k = 0; k < DERIVE_CHILDREN; k++)
        EXPECT_EQ(rand_derive(seed, k), rand_derive(seed, k));
}

HTEST(rand, derived_seeds_are_distinct) {
    uint64_t seeds[] = {0, 1, htest_seed(), UINT64_MAX};
    for (size_t p = 0; p < sizeof(seeds) / sizeof(seeds[0]); p++) {
        static uint64_t child[DERIVE_CHILDREN];
        for (uint64_t k = 0; k < DERIVE_CHILDREN; k++) {
            child[k] = rand_derive(seeds[p], k);
            EXPECT_NE(child[k], seeds[p]); /* a child never replays its parent */
            for (uint64_t j = 0; j < k; j++)
                HT_CHECK_(child[j] != child[k], (void)0, "seed 0x%" PRIx64 ": children %" PRIu64
                          " and %" PRIu64 " collide", seeds[p], j, k);
        }
    }
    /* Neighbouring parents (seeds 0 and 1, as aslr.seed=0 and =1) share no child. */
    for (uint64_t k = 0; k < DERIVE_CHILDREN; k++)
        for (uint64_t j = 0; j < DERIVE_CHILDREN; j++)
            HT_CHECK_(rand_derive(0, k) != rand_derive(1, j), (void)0,
                      "child %" PRIu64 " of 0 is child %" PRIu64 " of 1", k, j);
}

/* ---- A child's seed must not give its parent's away ------------------------------------ */

/* The inverse of x -> x ^ (x >> shift) on 64-bit words (shift >= 1). */
static uint64_t unxorshift(uint64_t y, unsigned shift) {
    uint64_t x = y;
    for (unsigned done = shift; done < 64; done += shift)
        x = y ^ (x >> shift);
    return x;
}

/* The multiplicative inverse of an odd a modulo 2^64 (Newton's iteration). */
static uint64_t inverse_mod_2_64(uint64_t a) {
    uint64_t x = a; /* correct to 3 bits for odd a; each step doubles that */
    for (int i = 0; i < 5; i++)
        x *= 2 - a * x;
    return x;
}

/* rand_mix64 undone step by step: it is a bijection, and anyone can invert it. */
static uint64_t unmix64(uint64_t z) {
    z = unxorshift(z, 31);
    z *= inverse_mod_2_64(SPLITMIX64_MUL2);
    z = unxorshift(z, 27);
    z *= inverse_mod_2_64(SPLITMIX64_MUL1);
    return unxorshift(z, 30);
}

HTEST(rand, unmix64_inverts_the_mix) {
    uint64_t x = htest_seed();
    for (int i = 0; i < 1000; i++, x = x * 6364136223846793005ull + 1)
        EXPECT_EQ(unmix64(rand_mix64(x)), x);
}

/*
 * A process can learn its own ASLR seed (its placements are outputs of splitmix64, whose
 * output function unmix64 inverts, so a few placements and a 2^30 search give the state
 * away). Its seed is rand_derive(rand_derive(creator's seed, name hash), k), the
 * creator's is derived the same way from its own creator's, and userboot's from the boot
 * seed: if rand_derive could be undone, one process would know every seed up the tree,
 * and so the placements of its siblings, of every other program and of the kernel's own
 * regions. A derivation built from invertible mixes of the seed and the index can be
 * undone by mixing the index the same way; rand_derive must not be.
 */
HTEST(rand, a_child_seed_does_not_reveal_its_parent) {
    uint64_t parents[] = {0, 1, 26, htest_seed(), UINT64_MAX};
    for (size_t p = 0; p < sizeof(parents) / sizeof(parents[0]); p++) {
        for (uint64_t k = 0; k < DERIVE_CHILDREN; k++) {
            uint64_t child = rand_derive(parents[p], k);
            uint64_t u = unmix64(child);
            uint64_t guesses[] = {u ^ rand_mix64((k + 1) * SPLITMIX64_GAMMA),
                                  u ^ ((k + 1) * SPLITMIX64_GAMMA), u - k, u ^ k, u};
            for (size_t g = 0; g < sizeof(guesses) / sizeof(guesses[0]); g++)
                HT_CHECK_(guesses[g] != parents[p], return,
                          "child %" PRIu64 " of 0x%" PRIx64 " gives its parent away (guess %zu)",
                          k, parents[p], g);
        }
    }
}
