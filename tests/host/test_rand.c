/*
 * Host tests for <lib/rand.h>: splitmix64 and FNV-1a keep their published outputs
 * (placements replay across builds only if they never change), and rand_derive, which
 * builds the ASLR seed tree (<vm/vm_aslr.h>), is a pure function whose children are
 * distinct from each other and from their parent.
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
