/*
 * VMAR operations racing another thread's VM calls: zx_vmar_map's clean-up after a failed
 * copy-out (here), and zx_vmar_protect's merge of two mappings while a decommit runs
 * (below, "Merges racing a decommit").
 *
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
 * address would, sooner or later, remove B's mapping under B's checks. After each unmap
 * B waits a moment (B_WAIT_SPINS at most) for A, running on another CPU, to start its
 * next map, so A's maps get through however short B's own unmap-to-map stretch is in
 * the kernel; the two maps then still race. With one CPU the wait runs out at once.
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdio.h>
#include <string.h>
#include <zircon/syscalls/object.h>

#define PAGE TU_PAGE
#define MARK_A 0xAAAAAAAAAAAAAAAAull
#define MARK_B 0xBBBBBBBBBBBBBBBBull
#define RACE_TIME (300 * TU_MS)
#define RACE_TIME_MAX (20 * TU_SEC)
#define CHECKS_PER_MAP 8
#define B_WAIT_SPINS 5000u /* short: where A is not running (one CPU), B goes on at once */

static zx_handle_t g_sub;
static zx_vaddr_t g_page;
static zx_handle_t g_vmo_a, g_vmo_b, g_probe;
static zx_vaddr_t g_ro_page;
static volatile bool g_stop;
static volatile uint64_t g_a_started, g_a_maps, g_a_cleanups, g_a_busy, g_a_bad;
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
        g_a_started++;
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
        uint64_t seen = g_a_started;
        for (uint32_t spin = 0; g_a_started == seen && spin < B_WAIT_SPINS && !g_stop; spin++)
            __builtin_ia32_pause();
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
    /* RACE_TIME at least, and until both sides have done some work (on a loaded host a
     * thread may not get a CPU for a while), but never past RACE_TIME_MAX. */
    zx_nanosleep(zx_deadline_after(RACE_TIME));
    zx_time_t give_up = zx_deadline_after(RACE_TIME_MAX);
    while ((g_a_cleanups == 0 || g_b_checks == 0) && zx_clock_get_monotonic() < give_up)
        zx_nanosleep(zx_deadline_after(10 * TU_MS));
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

/* ---- Merges racing a decommit ---------------------------------------------------------- */

/*
 * A VMO operation running while zx_vmar_protect merges two mappings of that VMO must
 * still reach every translation of the pages it frees (docs/architecture.md, "Knowing the
 * mappings"). The VMO side finds translations only through the mappings' links, holding
 * just the VMO lock; so while two mappings become one, some link must cover the right
 * mapping's range whenever the VMO lock is free. Otherwise a decommit that gets the lock
 * in between frees pages whose translations stay, and the process reads frames the PMM
 * has since handed to somebody else.
 *
 * Thread D decommits the VMO over and over, alternating between page 0 (the left
 * mapping's, never touched) and the right mapping's pages. The main thread maps the right
 * part next to the left one (SPECIFIC: map does not merge), writes its pages (each write
 * faults and commits), protects the whole range (which merges the two mappings), then
 * fills a second VMO with a mark (its new pages come from the head of the PMM's free
 * list, where the frames freed last are) and reads the right part back through the
 * mapping: a correct kernel shows the right part's own content or zeros, never the mark.
 * Then it unmaps the right part and goes again.
 *
 * Once one thread is preempted holding the VMO's mutex, the two contend for it at every
 * lock the main thread takes (a release hands the mutex to the waiter), so exactly one of
 * D's decommits runs before each of the main thread's lock holds; the merge takes the
 * lock twice (extend the left link, unregister the right one), and an extra lock every
 * other round makes the decommit of the right part fall between the two in half of the
 * rounds. Against a kernel that dropped the right mapping's link before extending the
 * left one's, each case read the mark some 1,500-2,000 times in 0.3 s.
 */

#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)

/* One real 64-bit load / store at a, not optimised away. */
static inline uint64_t merge_rd64(zx_vaddr_t a) { return *(volatile uint64_t *)a; }
static inline void merge_wr64(zx_vaddr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

#define MERGE_RIGHT_PAGES 4u
#define MERGE_LEFT_PAGES 1u
#define MERGE_VMO_PAGES (MERGE_LEFT_PAGES + MERGE_RIGHT_PAGES)
#define MERGE_OTHER_PAGES 16u
#define MERGE_RACE_TIME (300 * TU_MS)
#define MERGE_MARK_RIGHT 0x5151515151515151ull
#define MERGE_MARK_OTHER 0x0BADC0DE0BADC0DEull
#define MERGE_WORDS_CHECKED 8u
#define MERGE_MAPS_MAX 128u

static zx_handle_t g_merge_vmo;
static zx_info_maps_t g_merge_maps[MERGE_MAPS_MAX];
static volatile bool g_merge_stop;
static volatile uint64_t g_merge_decommits, g_merge_decommit_errors;

/* D: decommits page 0, then the right part, until told to stop. */
static void decommitter(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1;
    (void)unused2;
    while (!g_merge_stop) {
        if (zx_vmo_op_range(g_merge_vmo, ZX_VMO_OP_DECOMMIT, 0, MERGE_LEFT_PAGES * PAGE, NULL, 0) != ZX_OK)
            g_merge_decommit_errors++;
        if (zx_vmo_op_range(g_merge_vmo, ZX_VMO_OP_DECOMMIT, MERGE_LEFT_PAGES * PAGE, MERGE_RIGHT_PAGES * PAGE,
                            NULL, 0) != ZX_OK)
            g_merge_decommit_errors++;
        g_merge_decommits++;
    }
    zx_thread_exit();
}

/*
 * The race above; protect_len is how much of the range (from its start) the protect
 * covers: all of it, or only the left mapping, which merges with its right neighbour
 * all the same (and then the right part's translations keep their write permission).
 */
static void merge_race(size_t protect_len) {
    static uint64_t other_buf[MERGE_OTHER_PAGES * PAGE / sizeof(uint64_t)];
    for (size_t i = 0; i < sizeof(other_buf) / sizeof(other_buf[0]); i++)
        other_buf[i] = MERGE_MARK_OTHER;
    zx_handle_t sub, other;
    zx_vaddr_t base, got;
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(),
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC,
                               0, MERGE_VMO_PAGES * PAGE, &sub, &base));
    ASSERT_OK(zx_vmo_create(MERGE_VMO_PAGES * PAGE, 0, &g_merge_vmo));
    ASSERT_OK(zx_vmo_create(MERGE_OTHER_PAGES * PAGE, 0, &other));
    ASSERT_OK(zx_vmar_map(sub, RW | ZX_VM_SPECIFIC, 0, g_merge_vmo, 0, MERGE_LEFT_PAGES * PAGE, &got));
    zx_vaddr_t right = base + MERGE_LEFT_PAGES * PAGE;

    tu_thread_t d;
    ASSERT_OK(tu_thread_create(&d));
    g_merge_stop = false;
    ASSERT_OK(tu_thread_start(&d, decommitter, 0, 0));

    uint64_t rounds = 0, merged = 0, leaked = 0, errors = 0;
    zx_status_t bad_status = ZX_OK;
    zx_time_t deadline = zx_deadline_after(MERGE_RACE_TIME);
    while (zx_clock_get_monotonic() < deadline) {
        rounds++;
        zx_status_t st = zx_vmar_map(sub, RW | ZX_VM_SPECIFIC, MERGE_LEFT_PAGES * PAGE, g_merge_vmo,
                                     MERGE_LEFT_PAGES * PAGE, MERGE_RIGHT_PAGES * PAGE, &got);
        if (st != ZX_OK) {
            errors++;
            bad_status = st;
            break;
        }
        for (uint32_t i = 0; i < MERGE_RIGHT_PAGES; i++)
            merge_wr64(right + i * PAGE, MERGE_MARK_RIGHT);
        /* One more lock of the VMO every other round, so that the decommit that falls
         * into the merge alternates between D's two. */
        if (rounds & 1) {
            char name[ZX_MAX_NAME_LEN];
            zx_object_get_property(g_merge_vmo, ZX_PROP_NAME, name, sizeof(name));
        }
        st = zx_vmar_protect(sub, RW, base, protect_len);
        if (st != ZX_OK) {
            errors++;
            bad_status = st;
            break;
        }
        /* New pages for another VMO: the frames freed last come back first. */
        if (zx_vmo_write(other, other_buf, 0, sizeof(other_buf)) != ZX_OK) {
            errors++;
            break;
        }
        /* Last page first: it is the one written after D's last decommit of the right
         * part, and a fault on any page lets D decommit again, which now reaches (and
         * removes) a stale translation through the merged mapping's link. */
        for (uint32_t i = MERGE_RIGHT_PAGES; i-- > 0;)
            for (uint32_t w = 0; w < MERGE_WORDS_CHECKED; w++)
                if (merge_rd64(right + i * PAGE + w * sizeof(uint64_t)) == MERGE_MARK_OTHER)
                    leaked++;
        /* Merged: one mapping covers the whole range. (Only now: listing the maps locks
         * the VMO, which lets D in.) */
        size_t actual = 0, avail = 0;
        if (zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, g_merge_maps, sizeof(g_merge_maps),
                               &actual, &avail) == ZX_OK) {
            for (size_t k = 0; k < actual; k++)
                if (g_merge_maps[k].type == ZX_INFO_MAPS_TYPE_MAPPING && g_merge_maps[k].base == base &&
                    g_merge_maps[k].size == MERGE_VMO_PAGES * PAGE)
                    merged++;
        }
        zx_vmo_op_range(other, ZX_VMO_OP_DECOMMIT, 0, MERGE_OTHER_PAGES * PAGE, NULL, 0);
        st = zx_vmar_unmap(sub, right, MERGE_RIGHT_PAGES * PAGE);
        if (st != ZX_OK) {
            errors++;
            bad_status = st;
            break;
        }
    }
    g_merge_stop = true;
    EXPECT_OK(tu_thread_join(&d, 10 * TU_SEC));
    tu_thread_destroy(&d);
    printf("merge race: %lu rounds (%lu merged), %lu decommit pairs, %lu words of "
           "another VMO read through the mapping\n",
           (unsigned long)rounds, (unsigned long)merged, (unsigned long)g_merge_decommits,
           (unsigned long)leaked);
    EXPECT_EQ(errors, 0u);
    if (errors)
        beryl_test_fail(__FILE__, __LINE__, "a step failed with %d", bad_status);
    EXPECT_EQ(g_merge_decommit_errors, 0u);
    EXPECT_EQ(leaked, 0u);
    /* The race really ran: merges happened and D made progress. */
    EXPECT_GT(merged, 0u);
    EXPECT_GT(g_merge_decommits, 0u);
    zx_vmar_destroy(sub);
    zx_handle_close(sub);
    zx_handle_close(g_merge_vmo);
    zx_handle_close(other);
}

TEST(VmarMergeRace, DecommitDuringMergeLeavesNoTranslation) { merge_race(MERGE_VMO_PAGES * PAGE); }

TEST(VmarMergeRace, DecommitDuringMergeWithAnUnprotectedNeighbour) {
    merge_race(MERGE_LEFT_PAGES * PAGE);
}
