/*
 * zx_vmar_map's clean-up after a failed copy-out of mapped_addr destroys exactly the
 * mapping the call created, never whatever another thread has put at that address since.
 *
 * Thread A maps page P of a sub-VMAR (SPECIFIC, no overwrite) with mapped_addr pointing
 * into a read-only page, so every successful map is followed by a faulting copy-out and
 * the clean-up. Thread B keeps unmapping P (A's mapping, if there) and mapping its own
 * VMO there, then checks a few times that P still holds its VMO's data. Nobody but B
 * removes B's mapping (A's SPECIFIC map fails with ALREADY_EXISTS while it is there), so
 * B must always find it. Both threads are CPU-bound; the timer preempts them at random
 * points, A sometimes between its map and its clean-up. A clean-up that unmapped by
 * address would, sooner or later, remove B's mapping under B's checks.
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>

#define PAGE TU_PAGE
#define MARK_A 0xAAAAAAAAAAAAAAAAull
#define MARK_B 0xBBBBBBBBBBBBBBBBull
#define RACE_TIME (300 * TU_MS)
#define CHECKS_PER_MAP 8

static zx_handle_t g_sub;
static zx_vaddr_t g_page;
static zx_handle_t g_vmo_a, g_vmo_b, g_probe;
static zx_vaddr_t g_ro_page;
static volatile bool g_stop;
static volatile uint64_t g_a_maps, g_a_cleanups, g_a_busy, g_a_bad;
static volatile uint64_t g_b_maps, g_b_checks, g_b_lost, g_b_bad;
static volatile zx_status_t g_a_bad_status, g_b_bad_status;

static zx_handle_t marked_vmo(uint64_t mark) {
    zx_handle_t vmo;
    if (zx_vmo_create(PAGE, 0, &vmo) != ZX_OK)
        return ZX_HANDLE_INVALID;
    if (zx_vmo_write(vmo, &mark, 0, sizeof(mark)) != ZX_OK) {
        zx_handle_close(vmo);
        return ZX_HANDLE_INVALID;
    }
    return vmo;
}

/* The first word at addr, read by the kernel (no fault in this process if unmapped):
 * false if nothing readable is mapped there. */
static bool peek(zx_vaddr_t addr, uint64_t *out) {
    if (zx_vmo_write(g_probe, (const void *)addr, 0, sizeof(*out)) != ZX_OK)
        return false;
    return zx_vmo_read(g_probe, out, 0, sizeof(*out)) == ZX_OK;
}

static void mapper_a(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1;
    (void)unused2;
    zx_vaddr_t *out = (zx_vaddr_t *)g_ro_page; /* read-only: the copy-out faults */
    while (!g_stop) {
        zx_status_t st = zx_vmar_map(g_sub, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, 0, g_vmo_a, 0,
                                     PAGE, out);
        g_a_maps++;
        if (st == ZX_ERR_INVALID_ARGS) {
            g_a_cleanups++;
        } else if (st == ZX_ERR_ALREADY_EXISTS) {
            g_a_busy++;
        } else {
            g_a_bad++;
            g_a_bad_status = st;
        }
    }
    zx_thread_exit();
}

static void mapper_b(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1;
    (void)unused2;
    while (!g_stop) {
        zx_vmar_unmap(g_sub, g_page, PAGE);
        zx_vaddr_t got;
        zx_status_t st = zx_vmar_map(g_sub, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, 0, g_vmo_b, 0,
                                     PAGE, &got);
        if (st == ZX_ERR_ALREADY_EXISTS)
            continue; /* A's mapping came back first; unmap it again */
        if (st != ZX_OK) {
            g_b_bad++;
            g_b_bad_status = st;
            continue;
        }
        g_b_maps++;
        for (int i = 0; i < CHECKS_PER_MAP; i++) {
            uint64_t v = 0;
            g_b_checks++;
            if (!peek(g_page, &v) || v != MARK_B)
                g_b_lost++;
        }
    }
    zx_thread_exit();
}

TEST(VmarMapRace, FailedCopyOutDestroysOnlyItsOwnMapping) {
    zx_vaddr_t sub_base;
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(),
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC,
                               0, 4 * PAGE, &g_sub, &sub_base));
    g_page = sub_base;
    g_vmo_a = marked_vmo(MARK_A);
    g_vmo_b = marked_vmo(MARK_B);
    ASSERT_NE(g_vmo_a, ZX_HANDLE_INVALID);
    ASSERT_NE(g_vmo_b, ZX_HANDLE_INVALID);
    ASSERT_OK(zx_vmo_create(PAGE, 0, &g_probe));
    g_ro_page = tu_map_new(PAGE, ZX_VM_PERM_READ, NULL);
    ASSERT_NE(g_ro_page, 0u);

    tu_thread_t a, b;
    ASSERT_OK(tu_thread_create(&a));
    ASSERT_OK(tu_thread_create(&b));
    g_stop = false;
    ASSERT_OK(tu_thread_start(&a, mapper_a, 0, 0));
    ASSERT_OK(tu_thread_start(&b, mapper_b, 0, 0));
    zx_nanosleep(tu_deadline_after(RACE_TIME));
    g_stop = true;
    EXPECT_OK(tu_thread_join(&a, 10 * TU_SEC));
    EXPECT_OK(tu_thread_join(&b, 10 * TU_SEC));
    tu_thread_destroy(&a);
    tu_thread_destroy(&b);

    EXPECT_EQ(g_b_lost, 0u);
    EXPECT_EQ(g_a_bad, 0u);
    EXPECT_EQ(g_b_bad, 0u);
    if (g_a_bad || g_b_bad)
        beryl_test_fail(__FILE__, __LINE__, "unexpected statuses: A %d, B %d", g_a_bad_status,
                        g_b_bad_status);
    /* Both sides really ran: A's maps that got through to the clean-up, B's checks. */
    EXPECT_GT(g_a_cleanups, 0u);
    EXPECT_GT(g_b_checks, 0u);
    /* The read-only page never received an address. */
    EXPECT_EQ(*(volatile uint64_t *)g_ro_page, 0u);

    zx_vmar_destroy(g_sub);
    zx_handle_close(g_sub);
    zx_vmar_unmap(zx_vmar_root_self(), g_ro_page, PAGE);
    zx_handle_close(g_vmo_a);
    zx_handle_close(g_vmo_b);
    zx_handle_close(g_probe);
}

TEST(VmarMapRace, FailedCopyOutLeavesNoMapping) {
    /* Without a race: the failed call leaves the range empty, and a mapping the call did
     * not create (next door) is untouched. */
    zx_handle_t sub, vmo;
    zx_vaddr_t base, got;
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(),
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_SPECIFIC, 0, 2 * PAGE, &sub,
                               &base));
    vmo = marked_vmo(MARK_B);
    ASSERT_NE(vmo, ZX_HANDLE_INVALID);
    ASSERT_OK(zx_vmo_create(PAGE, 0, &g_probe));
    ASSERT_OK(zx_vmar_map(sub, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, PAGE, vmo, 0, PAGE, &got));
    zx_vaddr_t ro = tu_map_new(PAGE, ZX_VM_PERM_READ, NULL);
    ASSERT_NE(ro, 0u);
    EXPECT_STATUS(zx_vmar_map(sub, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, 0, vmo, 0, PAGE,
                              (zx_vaddr_t *)ro),
                  ZX_ERR_INVALID_ARGS);
    uint64_t v = 0;
    EXPECT_FALSE(peek(base, &v));
    EXPECT_TRUE(peek(base + PAGE, &v));
    EXPECT_EQ(v, MARK_B);
    /* The range is free again: the same map with a good pointer succeeds. */
    EXPECT_OK(zx_vmar_map(sub, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, 0, vmo, 0, PAGE, &got));
    EXPECT_EQ(got, base);
    zx_vmar_destroy(sub);
    zx_handle_close(sub);
    zx_vmar_unmap(zx_vmar_root_self(), ro, PAGE);
    zx_handle_close(vmo);
    zx_handle_close(g_probe);
}
