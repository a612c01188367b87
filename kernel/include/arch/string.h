/*
 * The CPU's bulk memory instructions, for the kernel's memcpy / memmove / memset
 * (kernel/lib/string.c). Static inline (through <arch/arch_impl.h>), so the library's
 * functions compile to the instructions themselves and never back into calls to
 * memcpy or memset.
 *
 * Both require the direction flag clear (the C ABI's rule; every kernel entry clears it)
 * and leave it so.
 */
#ifndef ARCH_STRING_H
#define ARCH_STRING_H

#include <stddef.h>
#include <stdint.h>
#include <arch/arch_impl.h>

/* Copies n bytes from src to dst, lowest address first (so dst may overlap src only
 * below it). */
static inline void arch_copy_forward(void *dst, const void *src, size_t n);

/* Stores n bytes at dst, each the low byte of pattern; pattern holds that byte in all
 * eight lanes. */
static inline void arch_fill(void *dst, uint64_t pattern, size_t n);

#endif
