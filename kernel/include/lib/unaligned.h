/*
 * Little-endian loads at any alignment, for parsers of firmware and boot-loader data
 * (multiboot2, ACPI) whose fields need not be aligned. The caller has bounds-checked p.
 */
#ifndef LIB_UNALIGNED_H
#define LIB_UNALIGNED_H

#include <stdint.h>
#include <lib/string.h>

static inline uint32_t load_le32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint64_t load_le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

#endif
