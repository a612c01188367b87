/*
 * VMAR operations checked against a model: a fixed pseudo-random sequence of protect
 * (through the VMAR or its parent), unmap, SPECIFIC_OVERWRITE map and DECOMMIT calls over
 * two adjacent mappings, with every page's mapping, content and effective permissions
 * compared to the model after each call (splitting, trimming, merging, all-or-nothing
 * failures). Also the VMAR calls on another process's root VMAR.
 */
#include "vmar_util.h"

enum { NPAGES = 24, HALF = NPAGES / 2, NSTEPS = 200 };

/* What page i of the sub-VMAR shows: offset `off` of VMO `vmo` (0 = A, 1 = B, 2 = C). */
struct page_model {
    bool mapped;
    zx_vm_option_t perms;
    int vmo;
    uint32_t off;
};

struct model {
    struct page_model page[NPAGES];
    uint8_t bytes[3][NPAGES]; /* first byte of each VMO page */
};

static uint32_t rng_state;
static uint32_t rng_next(uint32_t below) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % below;
}

/* Compares every page with the model; reports the first mismatch. */
static bool matches(zx_vaddr_t base, const struct model *m, int step) {
    for (int i = 0; i < NPAGES; i++) {
        const struct page_model *p = &m->page[i];
        zx_vaddr_t a = base + (zx_vaddr_t)i * PG;
        bool ok;
        if (!p->mapped) {
            uint8_t b;
            ok = vu_peek(a, &b) == ZX_ERR_NO_MEMORY && !vu_can_read(a);
        } else {
            ok = vu_holds(a, m->bytes[p->vmo][p->off]) &&
                 vu_can_read(a) == ((p->perms & ZX_VM_PERM_READ) != 0) &&
                 vu_can_write(a) == ((p->perms & ZX_VM_PERM_WRITE) != 0);
        }
        if (!ok) {
            beryl_test_fail(__FILE__, __LINE__, "step %d: page %d differs from the model", step,
                            i);
            return false;
        }
    }
    return true;
}

/*
 * The status protecting pages [first, first + count) to perms should give. Through the
 * parent (root) VMAR no page may gain a permission. Pages are checked in address order
 * and the first problem decides, as the kernel walks mappings in order.
 */
static zx_status_t expected_protect(const struct model *m, uint32_t first, uint32_t count,
                                    zx_vm_option_t perms, bool via_parent) {
    for (uint32_t i = first; i < first + count; i++) {
        if (!m->page[i].mapped)
            return ZX_ERR_NOT_FOUND;
        if (via_parent && (perms & ~m->page[i].perms))
            return ZX_ERR_ACCESS_DENIED;
    }
    return ZX_OK;
}

TEST(VmarModel, ProtectUnmapOverwriteDecommitSequence) {
    static const zx_vm_option_t perm_choices[] = {0, VU_R, VU_RW};
    zx_handle_t vmar, vmo[3] = {vu_vmo_pattern(HALF, 0x00), vu_vmo_pattern(HALF, 0x40),
                                vu_vmo_pattern(NPAGES, 0x80)};
    zx_vaddr_t base, addr;
    ASSERT_OK(vu_sub(VU_CAN_RWS, NPAGES * PG, &vmar, &base));
    ASSERT_OK(vu_map_at(vmar, VU_RW, 0, vmo[0], HALF * PG, &addr));
    ASSERT_OK(vu_map_at(vmar, VU_RW, HALF * PG, vmo[1], HALF * PG, &addr));
    static struct model m;
    memset(&m, 0, sizeof(m));
    for (int i = 0; i < NPAGES; i++) {
        m.page[i] = (struct page_model){true, VU_RW, i < HALF ? 0 : 1,
                                        (uint32_t)(i < HALF ? i : i - HALF)};
        m.bytes[2][i] = (uint8_t)(0x80 + i);
        if (i < HALF) {
            m.bytes[0][i] = (uint8_t)i;
            m.bytes[1][i] = (uint8_t)(0x40 + i);
        }
    }
    ASSERT_TRUE(matches(base, &m, -1));
    rng_state = 20261201u;
    for (int step = 0; step < NSTEPS; step++) {
        uint32_t first = rng_next(NPAGES);
        uint32_t count = 1 + rng_next(NPAGES - first < 6 ? NPAGES - first : 6);
        zx_vaddr_t at = base + first * PG;
        uint32_t kind = rng_next(12);
        if (kind < 6) {
            /* Protect, through the VMAR itself or (a third of the time) the root. */
            zx_vm_option_t perms = perm_choices[rng_next(3)];
            bool via_parent = rng_next(3) == 0;
            zx_status_t want = expected_protect(&m, first, count, perms, via_parent);
            zx_status_t st =
                zx_vmar_protect(via_parent ? zx_vmar_root_self() : vmar, perms, at, count * PG);
            if (st != want)
                beryl_test_fail(__FILE__, __LINE__, "step %d: protect %u+%u to %u%s: %d, not %d",
                                step, first, count, perms, via_parent ? " via root" : "", st,
                                want);
            ASSERT_EQ(st, want);
            for (uint32_t i = first; st == ZX_OK && i < first + count; i++)
                m.page[i].perms = perms;
        } else if (kind < 8) {
            ASSERT_OK(zx_vmar_unmap(vmar, at, count * PG));
            for (uint32_t i = first; i < first + count; i++)
                m.page[i].mapped = false;
        } else if (kind < 10) {
            zx_vm_option_t perms = rng_next(2) ? VU_RW : VU_R;
            ASSERT_OK(zx_vmar_map(vmar, perms | ZX_VM_SPECIFIC_OVERWRITE, first * PG, vmo[2],
                                  first * PG, count * PG, &addr));
            ASSERT_EQ(addr, at);
            for (uint32_t i = first; i < first + count; i++)
                m.page[i] = (struct page_model){true, perms, 2, i};
        } else {
            /* DECOMMIT zeroes the VMO pages behind the range (whatever the current
             * protection: every mapping here could be made writable); a gap fails. */
            bool gap = expected_protect(&m, first, count, 0, false) != ZX_OK;
            zx_status_t st = zx_vmar_op_range(vmar, ZX_VMAR_OP_DECOMMIT, at, count * PG, NULL, 0);
            ASSERT_EQ(st, gap ? ZX_ERR_BAD_STATE : ZX_OK);
            for (uint32_t i = first; !gap && i < first + count; i++)
                m.bytes[m.page[i].vmo][m.page[i].off] = 0;
        }
        ASSERT_TRUE(matches(base, &m, step));
    }
    /* Whatever pieces are left go with one unmap. */
    ASSERT_OK(zx_vmar_unmap(vmar, base, NPAGES * PG));
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(tu_vmo_info(vmo[i]).num_mappings, 0u);
        zx_handle_close(vmo[i]);
    }
    vu_drop(vmar);
}

/* ---- another process's address space ---- */

TEST(VmarModel, AnotherProcessRootVmar) {
    static const char name[] = "vmar-other";
    zx_handle_t proc, vroot, vmo = vu_vmo_pattern(2, 0x21);
    ASSERT_OK(zx_process_create(zx_job_default(), name, sizeof(name) - 1, 0, &proc, &vroot));
    EXPECT_EQ(tu_rights(vroot), (zx_rights_t)0x20801F);
    zx_info_vmar_t info = tu_vmar_info(vroot);
    EXPECT_EQ((uint64_t)info.base, 0x200000ull);
    EXPECT_EQ((uint64_t)info.len, 0x7FFFFFDFF000ull);
    EXPECT_STATUS(zx_vmar_destroy(vroot), ZX_ERR_NOT_SUPPORTED);

    /* A mapping there is visible through that process, not this one. */
    zx_vaddr_t addr;
    ASSERT_OK(zx_vmar_map(vroot, VU_RW, 0, vmo, 0, 2 * PG, &addr));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 1u);
    uint8_t buf = 0;
    size_t actual = 0;
    EXPECT_OK(zx_process_read_memory(proc, addr + PG, &buf, 1, &actual));
    EXPECT_EQ(buf, 0x22);
    /* Sub-regions and unmapping work the same way. */
    zx_handle_t sub;
    zx_vaddr_t sbase;
    ASSERT_OK(zx_vmar_allocate(vroot, VU_CAN_RWS, 0, 4 * PG, &sub, &sbase));
    ASSERT_OK(vu_map_at(sub, VU_R, PG, vmo, PG, &addr));
    EXPECT_OK(zx_process_read_memory(proc, sbase + PG, &buf, 1, &actual));
    EXPECT_EQ(buf, 0x21);
    EXPECT_OK(zx_vmar_unmap(vroot, sbase, 4 * PG));
    EXPECT_STATUS(zx_process_read_memory(proc, sbase + PG, &buf, 1, &actual), ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(zx_vmar_allocate(sub, 0, 0, PG, &sub, &sbase), ZX_ERR_BAD_STATE);
    /* The process going away takes the rest of its mappings with it. */
    ASSERT_OK(zx_task_kill(proc));
    ASSERT_OK(zx_object_wait_one(proc, ZX_PROCESS_TERMINATED, zx_deadline_after(5 * TU_SEC), NULL));
    EXPECT_EQ(tu_vmo_info(vmo).num_mappings, 0u);
    zx_handle_close(sub);
    zx_handle_close(vroot);
    zx_handle_close(proc);
    zx_handle_close(vmo);
}
