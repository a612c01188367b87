/*
 * ASLR seeding (docs/architecture.md, "ASLR seeds"): every process's placements come
 * from a seed derived from its creator's seed, its name and how many children of that
 * name the creator made before. Within one boot the tests below check that derivation
 * through the first placement in fresh child processes. Across boots,
 * tests/runner/aslr_replay.py boots this program with one aslr.seed twice, once after
 * another program and once with another seed, and compares the "aslr-probe:" lines
 * Aslr.ProbePlacements prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include "vmar_util.h"

/* Distinct names a process keeps counts for (kernel/proc/proc_priv.h). */
#define ASLR_NAME_SLOTS 16
#define NAME_MAX_LEN 32

/* Where a one-page region lands in vmar (0 on failure; the region is destroyed again). */
static zx_vaddr_t first_region(zx_handle_t vmar) {
    zx_handle_t h;
    zx_vaddr_t addr;
    if (zx_vmar_allocate(vmar, VU_CAN_R, 0, PG, &h, &addr) != ZX_OK)
        return 0;
    vu_drop(h);
    return addr;
}

/* Creates (and drops, unstarted) a process named name; returns where the first one-page
 * region lands in its root VMAR, which depends only on its seed (0 on failure). */
static zx_vaddr_t child_first_region(const char *name) {
    zx_handle_t proc, vmar;
    if (zx_process_create(zx_job_default(), name, strlen(name), 0, &proc, &vmar) != ZX_OK)
        return 0;
    zx_vaddr_t addr = first_region(vmar);
    zx_handle_close(vmar);
    zx_handle_close(proc);
    return addr;
}

/* Different names, and the later children of one name, get layouts of their own. (Two
 * independent placements in a 2^35-page root coincide with odds of about 2^-35.) */
TEST(Aslr, SiblingsGetTheirOwnLayouts) {
    zx_vaddr_t a[4] = {child_first_region("sib-a"), child_first_region("sib-b"),
                       child_first_region("sib-a"), child_first_region("sib-a")};
    for (int i = 0; i < 4; i++) {
        ASSERT_NE(a[i], 0u);
        for (int j = 0; j < i; j++)
            EXPECT_NE(a[i], a[j]);
    }
}

/* The seed is a pure function of (creator's seed, name, count of that name): once the
 * creator has seen ASLR_NAME_SLOTS newer names, a name counts from 0 again, and its
 * next child repeats the first one's placement exactly. */
TEST(Aslr, SeedIsAFunctionOfCreatorNameAndCount) {
    zx_vaddr_t first = child_first_region("evict-me");
    zx_vaddr_t second = child_first_region("evict-me");
    ASSERT_NE(first, 0u);
    EXPECT_NE(second, first);
    for (int i = 0; i < ASLR_NAME_SLOTS; i++) {
        char name[NAME_MAX_LEN];
        snprintf(name, sizeof(name), "filler-%d", i);
        ASSERT_NE(child_first_region(name), 0u);
    }
    EXPECT_EQ(child_first_region("evict-me"), first);
}

/* Prints placements that come from this process's seed (its stack and heap, placed while
 * it was launched and by its allocator, and a region) and from a child's. */
TEST(Aslr, ProbePlacements) {
    zx_info_vmar_t root = tu_vmar_info(zx_vmar_root_self());
    int on_stack = 0;
    void *heap = malloc(1);
    zx_vaddr_t probes[4] = {(zx_vaddr_t)&on_stack, (zx_vaddr_t)heap,
                            first_region(zx_vmar_root_self()),
                            child_first_region("probe-child")};
    const char *what[4] = {"stack", "heap", "region", "child region"};
    for (int i = 0; i < 4; i++) {
        EXPECT_GE(probes[i], root.base);
        EXPECT_LT(probes[i], root.base + root.len);
        printf("aslr-probe: %s 0x%lx\n", what[i], (unsigned long)probes[i]);
    }
    free(heap);
}
