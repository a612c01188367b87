/*
 * In-kernel tests of the entropy sources (entropy.c). Which sources run depends on the
 * CPU model: QEMU's `max` has RDRAND (TCG has no RDSEED), `qemu64` neither (the
 * TSC-jitter fallback); CI boots both.
 */
#include <arch/entropy.h>
#include <arch/x86/entropy.h>
#include <kernel/console.h>
#include <kernel/ktest.h>
#include <lib/string.h>

/* Draws per source: enough that a stuck generator cannot pass by luck. */
#define ENTROPY_TEST_DRAWS 4

/* Draws ENTROPY_TEST_DRAWS values from fn; all must be delivered and pairwise distinct
 * (a repeat among 64-bit values from a working source has odds ~2^-60). */
static void check_source(struct ktest_ctx *ktx, const char *name, bool (*fn)(uint64_t *)) {
    uint64_t v[ENTROPY_TEST_DRAWS];
    for (int i = 0; i < ENTROPY_TEST_DRAWS; i++)
        KT_CHECK_(fn(&v[i]), return, "%s delivered no value (draw %d)", name, i);
    for (int i = 0; i < ENTROPY_TEST_DRAWS; i++)
        for (int j = 0; j < i; j++)
            KT_CHECK_(v[i] != v[j], (void)0, "%s repeated 0x%lx", name, v[i]);
}

static bool tsc_jitter_draw(uint64_t *out) {
    *out = x86_tsc_jitter64();
    return true;
}

KTEST(entropy, rdseed_delivers_distinct_values) {
    if (!x86_has_rdseed()) {
        uint64_t v = 0x1234;
        EXPECT_FALSE(x86_rdseed64(&v)); /* reports the missing instruction ... */
        EXPECT_EQ(v, 0x1234ull);        /* ... without touching *out */
        return;
    }
    check_source(ktx, "rdseed", x86_rdseed64);
}

KTEST(entropy, rdrand_delivers_distinct_values) {
    if (!x86_has_rdrand()) {
        uint64_t v = 0x1234;
        EXPECT_FALSE(x86_rdrand64(&v));
        EXPECT_EQ(v, 0x1234ull);
        return;
    }
    check_source(ktx, "rdrand", x86_rdrand64);
}

KTEST(entropy, tsc_jitter_varies) { check_source(ktx, "tsc jitter", tsc_jitter_draw); }

/* The boot seed comes from the best source the CPU has. */
KTEST(entropy, seed_comes_from_the_best_source) {
    const char *source = NULL;
    (void)arch_entropy_seed(&source);
    ASSERT_NONNULL(source);
    const char *want = x86_has_rdseed() ? "rdseed" : x86_has_rdrand() ? "rdrand" : "tsc-jitter";
    KT_CHECK_(strcmp(source, want) == 0, (void)0, "source %s, expected %s", source, want);
}
