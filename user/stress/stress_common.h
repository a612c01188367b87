/*
 * What the stress programs (stress/churn, stress/vm) share: the splitmix64 finaliser that
 * seeds their generators, where a run's seed and operation count come from, and the
 * kernel memory figures their leak check compares.
 */
#ifndef USER_STRESS_STRESS_COMMON_H
#define USER_STRESS_STRESS_COMMON_H

#include <beryl/startup.h>
#include <beryl/test_util.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

/* splitmix64's finaliser: spreads a seed over all 64 bits. */
static inline uint64_t stress_splitmix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/*
 * A run's seed: `built_in` if not 0 (a build option, named `built_in_name` in *source),
 * else `--seed N` from the command line, else the address the kernel's ASLR gives a first
 * one-page mapping (so the boot's aslr.seed decides it and replays it), mixed.
 */
static inline uint64_t stress_pick_seed(int argc, char **argv, uint64_t built_in,
                                        const char *built_in_name, const char **source) {
    if (built_in != 0) {
        *source = built_in_name;
        return built_in;
    }
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0) {
            *source = "--seed";
            return (uint64_t)strtoul(argv[i + 1], NULL, 0);
        }
    }
    *source = "the ASLR placement of a first mapping";
    zx_vaddr_t addr = tu_map_new(TU_PAGE, ZX_VM_PERM_READ, NULL);
    if (addr)
        zx_vmar_unmap(zx_vmar_root_self(), addr, TU_PAGE);
    return stress_splitmix(addr);
}

/* `--ops N` from the command line, else `dflt`. */
static inline uint32_t stress_pick_ops(int argc, char **argv, uint32_t dflt) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--ops") == 0)
            return (uint32_t)strtoul(argv[i + 1], NULL, 0);
    return dflt;
}

/* Kernel memory, in pages (heap_used in bytes), from ZX_INFO_KMEM_STATS; free_pages is
 * -1 if the call failed. */
typedef struct {
    int64_t free_pages, heap_pages, heap_used, vmo_pages, mmu_pages, other_pages;
} stress_kmem_t;

static inline stress_kmem_t stress_kmem_now(void) {
    zx_info_kmem_stats_t k;
    stress_kmem_t m = {-1, 0, 0, 0, 0, 0};
    if (zx_object_get_info(beryl_resource(), ZX_INFO_KMEM_STATS, &k, sizeof(k), NULL, NULL) ==
        ZX_OK) {
        m.free_pages = (int64_t)(k.free_bytes / TU_PAGE);
        m.heap_pages = (int64_t)(k.total_heap_bytes / TU_PAGE);
        m.heap_used = (int64_t)(k.total_heap_bytes - k.free_heap_bytes);
        m.vmo_pages = (int64_t)(k.vmo_bytes / TU_PAGE);
        m.mmu_pages = (int64_t)(k.mmu_overhead_bytes / TU_PAGE);
        m.other_pages = (int64_t)(k.other_bytes / TU_PAGE);
    }
    return m;
}

/* Pages missing from the kernel's free memory since `before`. The heap's slab pages do
 * not count while its bytes in use did not grow: the same live objects may sit on one
 * page more or fewer after others came and went (userboot counts the same way). */
static inline int64_t stress_kmem_lost(const stress_kmem_t *before, const stress_kmem_t *after) {
    int64_t lost = before->free_pages - after->free_pages;
    if (after->heap_used <= before->heap_used)
        lost -= after->heap_pages - before->heap_pages;
    return lost;
}

#endif
