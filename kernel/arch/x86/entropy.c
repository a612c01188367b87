/*
 * Boot-time entropy on x86 (<arch/entropy.h>): RDSEED, else RDRAND, else TSC jitter.
 * RDSEED comes first because it is meant for seeding (each value straight from the
 * conditioned noise source); RDRAND is the output of a DRBG reseeded from it.
 */
#include <arch/entropy.h>
#include <arch/x86/cpu.h>
#include <arch/x86/entropy.h>
#include <lib/rand.h>

#define CPUID_VENDOR 0x0u
#define CPUID_FEATURES 0x1u
#define CPUID_EXT_FEATURES 0x7u
#define CPUID1_ECX_RDRAND (1u << 30)
#define CPUID7_EBX_RDSEED (1u << 18)

/* Intel's DRNG guide: RDRAND failing 10 times in a row means a broken generator. RDSEED
 * runs dry under load by design and is retried longer, pausing between tries. */
#define RDRAND_RETRIES 10
#define RDSEED_RETRIES 128
/* What a dead AMD generator returns with CF set. */
#define ENTROPY_STUCK_VALUE UINT64_MAX

/* TSC jitter: this many timed rounds, each spinning MIN + (0..MASK) iterations. */
#define TSC_JITTER_ROUNDS 256
#define TSC_JITTER_MIN_SPIN 16u
#define TSC_JITTER_SPIN_MASK 0x3fu

bool x86_has_rdrand(void) {
    uint32_t a, b, c, d;
    x86_cpuid(CPUID_FEATURES, 0, &a, &b, &c, &d);
    return c & CPUID1_ECX_RDRAND;
}

bool x86_has_rdseed(void) {
    uint32_t a, b, c, d;
    x86_cpuid(CPUID_VENDOR, 0, &a, &b, &c, &d);
    if (a < CPUID_EXT_FEATURES)
        return false;
    x86_cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
    return b & CPUID7_EBX_RDSEED;
}

/* One attempt each: true (and *out) when the CPU set CF, i.e. delivered a value. */
static bool rdrand_once(uint64_t *out) {
    uint64_t v;
    uint8_t ok;
    __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok)::"cc");
    *out = v;
    return ok;
}

static bool rdseed_once(uint64_t *out) {
    uint64_t v;
    uint8_t ok;
    __asm__ volatile("rdseed %0; setc %1" : "=r"(v), "=qm"(ok)::"cc");
    *out = v;
    return ok;
}

bool x86_rdrand64(uint64_t *out) {
    if (!x86_has_rdrand())
        return false;
    for (int i = 0; i < RDRAND_RETRIES; i++) {
        uint64_t v;
        if (rdrand_once(&v) && v != ENTROPY_STUCK_VALUE) {
            *out = v;
            return true;
        }
    }
    return false;
}

bool x86_rdseed64(uint64_t *out) {
    if (!x86_has_rdseed())
        return false;
    for (int i = 0; i < RDSEED_RETRIES; i++) {
        uint64_t v;
        if (rdseed_once(&v) && v != ENTROPY_STUCK_VALUE) {
            *out = v;
            return true;
        }
        __asm__ volatile("pause");
    }
    return false;
}

uint64_t x86_tsc_jitter64(void) {
    uint64_t acc = rand_mix64(x86_rdtsc());
    for (int i = 0; i < TSC_JITTER_ROUNDS; i++) {
        uint64_t t0 = x86_rdtsc();
        /* The spin's length depends on what was gathered so far, so one round's timing
         * shapes the next round's work. */
        for (uint32_t k = TSC_JITTER_MIN_SPIN + (uint32_t)(acc & TSC_JITTER_SPIN_MASK); k; k--)
            __asm__ volatile("" : "+r"(k)); /* keeps the compiler from removing the spin */
        /* rand_mix64 is a bijection: every round's delta changes the result. */
        acc = rand_mix64(acc + (x86_rdtsc() - t0));
    }
    return acc;
}

uint64_t arch_entropy_seed(const char **source) {
    uint64_t v;
    if (x86_rdseed64(&v)) {
        *source = "rdseed";
        return v;
    }
    if (x86_rdrand64(&v)) {
        *source = "rdrand";
        return v;
    }
    *source = "tsc-jitter";
    return x86_tsc_jitter64();
}
