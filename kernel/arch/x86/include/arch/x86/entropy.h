/*
 * The x86 entropy sources behind <arch/entropy.h>, each on its own so the boot tests can
 * check every one the CPU has.
 */
#ifndef ARCH_X86_ENTROPY_H
#define ARCH_X86_ENTROPY_H

#include <stdbool.h>
#include <stdint.h>

/* Whether CPUID reports the instruction (leaf 7 EBX bit 18 / leaf 1 ECX bit 30). */
bool x86_has_rdseed(void);
bool x86_has_rdrand(void);

/*
 * One 64-bit value from RDSEED / RDRAND, retried as Intel's DRNG guide recommends
 * (RDRAND up to 10 times; RDSEED, which runs dry under load, more often with PAUSE in
 * between). Returns false, leaving *out alone, if the instruction is missing or never
 * delivered; an all-ones result counts as a failure too (some AMD parts return it with
 * CF set once their generator is broken).
 */
bool x86_rdseed64(uint64_t *out);
bool x86_rdrand64(uint64_t *out);

/* 64 bits folded from the jitter of many short TSC-timed loops. Always succeeds. */
uint64_t x86_tsc_jitter64(void);

#endif
