/* Symbol lookup for backtraces; see <kernel/ksyms.h> for the blob format. */
#include <kernel/ksyms.h>
#include <lib/string.h>

static const struct ksyms_entry *sym_entries;
static const char *sym_strtab;
static uint32_t sym_count;
static uint64_t sym_strtab_size;

/* Upper bound on how far past a size-0 symbol an address may still be attributed to it. */
#define KSYMS_MAX_UNSIZED_SPAN 0x10000u

zx_status_t ksyms_init(const void *blob, size_t len) {
    struct ksyms_header h;
    sym_entries = NULL;
    sym_count = 0;
    if (!blob || len < sizeof(h))
        return ZX_ERR_INVALID_ARGS;
    memcpy(&h, blob, sizeof(h));
    if (memcmp(h.magic, KSYMS_MAGIC, sizeof(h.magic)) != 0 || h.version != KSYMS_VERSION)
        return ZX_ERR_INVALID_ARGS;
    uint64_t entries_end = sizeof(h) + (uint64_t)h.count * sizeof(struct ksyms_entry);
    if (entries_end > len || h.strtab_offset < entries_end || h.strtab_offset > len ||
        h.strtab_size == 0 || h.strtab_size > len - h.strtab_offset)
        return ZX_ERR_INVALID_ARGS;
    if ((uintptr_t)blob % _Alignof(struct ksyms_entry) != 0)
        return ZX_ERR_INVALID_ARGS;
    const struct ksyms_entry *e = (const struct ksyms_entry *)((const char *)blob + sizeof(h));
    const char *strtab = (const char *)blob + h.strtab_offset;
    if (strtab[h.strtab_size - 1] != '\0')
        return ZX_ERR_INVALID_ARGS;
    for (uint32_t i = 0; i < h.count; i++) {
        if (e[i].name_offset >= h.strtab_size)
            return ZX_ERR_INVALID_ARGS;
        if (i > 0 && e[i].addr < e[i - 1].addr)
            return ZX_ERR_INVALID_ARGS;
    }
    sym_entries = e;
    sym_strtab = strtab;
    sym_strtab_size = h.strtab_size;
    sym_count = h.count;
    return ZX_OK;
}

bool ksyms_lookup(uint64_t addr, const char **name, uint64_t *offset) {
    if (!sym_entries || sym_count == 0 || addr < sym_entries[0].addr)
        return false;
    /* Binary search for the last entry with entry.addr <= addr. */
    uint32_t lo = 0, hi = sym_count;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sym_entries[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    const struct ksyms_entry *e = &sym_entries[lo];
    uint64_t off = addr - e->addr;
    uint64_t span = e->size ? e->size : KSYMS_MAX_UNSIZED_SPAN;
    if (off >= span)
        return false;
    *name = sym_strtab + e->name_offset;
    *offset = off;
    return true;
}
