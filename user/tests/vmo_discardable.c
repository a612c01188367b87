/*
 * Discardable VMOs (docs/architecture.md, "Discardable VMOs"; docs/syscalls.md,
 * zx_vmo_op_range LOCK / TRY_LOCK / UNLOCK): creation, the statuses of the three ops,
 * ZX_INFO_VMO and ZX_INFO_KMEM_STATS figures, and what memory pressure does: an unlocked
 * VMO loses its pages (TRY_LOCK then fails UNAVAILABLE, reads NOT_FOUND, a fault kills,
 * LOCK reports the whole VMO discarded and it reads zeros again), a locked one keeps them.
 * The pressure comes from a death-test child that commits every free page.
 */
#include "oom_util.h"
#include "vmo_util.h"

#define PAGES 8
#define SIZE (PAGES * P)
#define DISCARD_OK 0x50
#define DISCARD_BAD 0x51

static uint8_t page_buf[4096];

/* A discardable VMO of PAGES pages, page i filled with fill + i (so committed). */
static zx_status_t make_discardable(uint8_t fill, zx_handle_t *out) {
    zx_status_t st = zx_vmo_create(SIZE, ZX_VMO_DISCARDABLE, out);
    for (size_t i = 0; st == ZX_OK && i < PAGES; i++) {
        memset(page_buf, fill + (int)i, P);
        st = zx_vmo_write(*out, page_buf, i * P, P);
    }
    return st;
}

/* True if every page i of vmo still holds fill + i. */
static bool holds_pattern(zx_handle_t vmo, uint8_t fill) {
    for (size_t i = 0; i < PAGES; i++) {
        if (zx_vmo_read(vmo, page_buf, i * P, P) != ZX_OK || !all_bytes(page_buf, P, fill + i))
            return false;
    }
    return true;
}

static zx_status_t lock_op(zx_handle_t vmo, uint32_t op, zx_vmo_lock_state_t *state) {
    return zx_vmo_op_range(vmo, op, 0, SIZE, state, state ? sizeof(*state) : 0);
}

static zx_info_kmem_stats_t kmem(void) {
    zx_info_kmem_stats_t k;
    memset(&k, 0, sizeof(k));
    zx_object_get_info(beryl_resource(), ZX_INFO_KMEM_STATS, &k, sizeof(k), NULL, NULL);
    return k;
}

TEST(VmoDiscardable, CreationAndChildren) {
    zx_handle_t vmo, child;
    EXPECT_STATUS(zx_vmo_create(P, ZX_VMO_DISCARDABLE | ZX_VMO_RESIZABLE, &vmo),
                  ZX_ERR_NOT_SUPPORTED);
    ASSERT_OK(zx_vmo_create(SIZE, ZX_VMO_DISCARDABLE, &vmo));
    zx_info_vmo_t info = vmo_info(vmo);
    EXPECT_TRUE(info.flags & ZX_INFO_VMO_DISCARDABLE);
    EXPECT_FALSE(info.flags & ZX_INFO_VMO_RESIZABLE);
    EXPECT_EQ(info.handle_rights, VMO_RIGHTS);
    /* No child shares pages that may go at any moment. */
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, P, &child),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, P, &child),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, P, &child),
                  ZX_ERR_NOT_SUPPORTED);
    EXPECT_OK(zx_handle_close(vmo));
    /* An ordinary VMO is not discardable. */
    ASSERT_OK(zx_vmo_create(P, 0, &vmo));
    EXPECT_FALSE(vmo_info(vmo).flags & ZX_INFO_VMO_DISCARDABLE);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoDiscardable, LockStatuses) {
    zx_handle_t plain, vmo;
    zx_vmo_lock_state_t st;
    ASSERT_OK(zx_vmo_create(SIZE, 0, &plain));
    EXPECT_STATUS(lock_op(plain, ZX_VMO_OP_LOCK, &st), ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(lock_op(plain, ZX_VMO_OP_TRY_LOCK, NULL), ZX_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(lock_op(plain, ZX_VMO_OP_UNLOCK, NULL), ZX_ERR_NOT_SUPPORTED);
    zx_handle_close(plain);

    ASSERT_OK(zx_vmo_create(SIZE, ZX_VMO_DISCARDABLE, &vmo));
    EXPECT_STATUS(lock_op(vmo, ZX_VMO_OP_UNLOCK, NULL), ZX_ERR_BAD_STATE); /* starts unlocked */
    /* The whole VMO at once, or nothing. */
    EXPECT_STATUS(zx_vmo_op_range(vmo, ZX_VMO_OP_LOCK, 0, P, &st, sizeof(st)),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_op_range(vmo, ZX_VMO_OP_LOCK, P, SIZE - P, &st, sizeof(st)),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_op_range(vmo, ZX_VMO_OP_TRY_LOCK, 0, SIZE + P, NULL, 0),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_vmo_op_range(vmo, ZX_VMO_OP_LOCK, 0, SIZE, &st, sizeof(st) - 1),
                  ZX_ERR_INVALID_ARGS);
    /* A buffer the kernel cannot write: the lock is undone. */
    EXPECT_STATUS(zx_vmo_op_range(vmo, ZX_VMO_OP_LOCK, 0, SIZE, KERNEL_PTR, sizeof(st)),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(lock_op(vmo, ZX_VMO_OP_UNLOCK, NULL), ZX_ERR_BAD_STATE);
    /* Rights: READ or WRITE. */
    zx_handle_t map_only;
    ASSERT_OK(zx_handle_duplicate(vmo, ZX_RIGHT_MAP, &map_only));
    EXPECT_STATUS(lock_op(map_only, ZX_VMO_OP_TRY_LOCK, NULL), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(map_only);
    zx_handle_t read_only;
    ASSERT_OK(zx_handle_duplicate(vmo, ZX_RIGHT_READ, &read_only));
    /* Locks nest: LOCK, TRY_LOCK, then two unlocks, then a third is too many. */
    memset(&st, 0xA5, sizeof(st));
    EXPECT_OK(lock_op(read_only, ZX_VMO_OP_LOCK, &st));
    EXPECT_EQ(st.offset, 0u);
    EXPECT_EQ(st.size, SIZE);
    EXPECT_EQ(st.discarded_offset, 0u);
    EXPECT_EQ(st.discarded_size, 0u);
    EXPECT_OK(lock_op(vmo, ZX_VMO_OP_TRY_LOCK, NULL));
    EXPECT_OK(lock_op(read_only, ZX_VMO_OP_UNLOCK, NULL));
    EXPECT_OK(lock_op(vmo, ZX_VMO_OP_UNLOCK, NULL));
    EXPECT_STATUS(lock_op(vmo, ZX_VMO_OP_UNLOCK, NULL), ZX_ERR_BAD_STATE);
    zx_handle_close(read_only);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(VmoDiscardable, UnlockedMemoryStaysUsableAndCounts) {
    zx_info_kmem_stats_t before = kmem();
    zx_handle_t vmo;
    ASSERT_OK(make_discardable(0x10, &vmo)); /* unlocked: still readable and counted */
    EXPECT_TRUE(holds_pattern(vmo, 0x10));
    EXPECT_EQ(vmo_info(vmo).committed_bytes, SIZE);
    zx_info_kmem_stats_t k = kmem();
    EXPECT_EQ(k.vmo_discardable_unlocked_bytes - before.vmo_discardable_unlocked_bytes, SIZE);
    EXPECT_EQ(k.vmo_discardable_locked_bytes, before.vmo_discardable_locked_bytes);
    ASSERT_OK(lock_op(vmo, ZX_VMO_OP_TRY_LOCK, NULL));
    k = kmem();
    EXPECT_EQ(k.vmo_discardable_locked_bytes - before.vmo_discardable_locked_bytes, SIZE);
    EXPECT_EQ(k.vmo_discardable_unlocked_bytes, before.vmo_discardable_unlocked_bytes);
    EXPECT_OK(zx_handle_close(vmo)); /* closing a locked VMO frees it like any other */
    k = kmem();
    EXPECT_EQ(k.vmo_discardable_locked_bytes, before.vmo_discardable_locked_bytes);
    EXPECT_EQ(k.vmo_discardable_unlocked_bytes, before.vmo_discardable_unlocked_bytes);
}

/* Death-child body: memory pressure until the kernel has nothing left to discard. */
static void press_memory(void) {
    zx_process_exit(oom_exhaust_memory() != ZX_HANDLE_INVALID ? DISCARD_OK : DISCARD_BAD);
}

TEST(VmoDiscardable, PressureDiscardsUnlockedAndSparesLocked) {
    zx_handle_t gone, kept;
    ASSERT_OK(make_discardable(0x20, &gone));
    ASSERT_OK(make_discardable(0x40, &kept));
    ASSERT_OK(lock_op(kept, ZX_VMO_OP_TRY_LOCK, NULL));
    zx_vaddr_t a;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, gone, 0, SIZE, &a));
    EXPECT_EQ(*(volatile uint8_t *)a, 0x20); /* mapped and touched before the pressure */
    EXPECT_DEATH(press_memory(), DISCARD_OK);
    /* The unlocked VMO is gone... */
    EXPECT_EQ(vmo_info(gone).committed_bytes, 0u);
    EXPECT_STATUS(lock_op(gone, ZX_VMO_OP_TRY_LOCK, NULL), ZX_ERR_UNAVAILABLE);
    EXPECT_STATUS(zx_vmo_read(gone, page_buf, 0, 1), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(zx_vmo_write(gone, page_buf, 0, 1), ZX_ERR_NOT_FOUND);
    EXPECT_STATUS(zx_vmo_op_range(gone, ZX_VMO_OP_COMMIT, 0, P, NULL, 0), ZX_ERR_NOT_FOUND);
    /* ...until LOCK says so, after which it reads zeros and works again. */
    zx_vmo_lock_state_t st;
    ASSERT_OK(lock_op(gone, ZX_VMO_OP_LOCK, &st));
    EXPECT_EQ(st.discarded_offset, 0u);
    EXPECT_EQ(st.discarded_size, SIZE);
    EXPECT_OK(zx_vmo_read(gone, page_buf, 3 * P, P));
    EXPECT_TRUE(all_bytes(page_buf, P, 0));
    EXPECT_EQ(*(volatile uint8_t *)a, 0); /* the mapping faults in a zero page */
    EXPECT_OK(zx_vmo_write(gone, "x", 0, 1));
    ASSERT_OK(lock_op(gone, ZX_VMO_OP_LOCK, &st)); /* not discarded since */
    EXPECT_EQ(st.discarded_size, 0u);
    /* The locked one kept every byte. */
    EXPECT_TRUE(holds_pattern(kept, 0x40));
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), a, SIZE));
    zx_handle_close(gone);
    zx_handle_close(kept);
}

/* Death-child body: a mapping of its own discardable VMO, discarded by the pressure it
 * makes itself, faults fatally on the next access. */
static void touch_discarded(void) {
    zx_handle_t vmo;
    zx_vaddr_t a;
    if (make_discardable(0x60, &vmo) != ZX_OK ||
        zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, 0, SIZE, &a) != ZX_OK ||
        oom_exhaust_memory() == ZX_HANDLE_INVALID)
        zx_process_exit(DISCARD_BAD);
    if (lock_op(vmo, ZX_VMO_OP_TRY_LOCK, NULL) != ZX_ERR_UNAVAILABLE)
        zx_process_exit(DISCARD_BAD);
    (void)*(volatile uint8_t *)(a + P);
    zx_process_exit(DISCARD_BAD);
}

TEST(VmoDiscardable, FaultOnDiscardedMappingKills) {
    EXPECT_DEATH(touch_discarded(), ZX_TASK_RETCODE_EXCEPTION_KILL);
}
