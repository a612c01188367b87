/*
 * Boot-time entropy: the arch-neutral way to ask the CPU for a random 64-bit seed.
 * Implemented for x86-64 in kernel/arch/x86/entropy.c (RDSEED, then RDRAND, then TSC
 * jitter). Not a running random-number service: it is meant to be called a few times at
 * boot, and each call may take some microseconds.
 */
#ifndef ARCH_ENTROPY_H
#define ARCH_ENTROPY_H

#include <stdint.h>

/*
 * Returns 64 bits from the best source the CPU has and sets *source (non-NULL) to that
 * source's name (a static string, e.g. "rdseed", for the boot log). Never fails: when the
 * hardware generators are missing or keep failing it falls back to timing jitter, which
 * is weak (an emulator counting instructions makes it repeatable) but never constant.
 */
uint64_t arch_entropy_seed(const char **source);

#endif
