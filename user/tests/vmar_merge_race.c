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
 * lock twice (unregister the right link, extend the left one), and an extra lock every
 * other round makes the decommit of the right part fall between the two in half of the
 * rounds. Against a kernel that dropped the right mapping's link before extending the
 * left one's, each case read the mark some 2,000 times in 0.3 s.
 */
#include <stdio.h>
#include "vm_util.h"

#define RIGHT_PAGES 4u
#define LEFT_PAGES 1u
#define VMO_PAGES (LEFT_PAGES + RIGHT_PAGES)
#define OTHER_PAGES 16u
#define RACE_TIME (300 * TU_MS)
#define MARK_RIGHT 0x5151515151515151ull
#define MARK_OTHER 0x0BADC0DE0BADC0DEull
#define WORDS_CHECKED 8u
#define MAPS_MAX 128u

static zx_handle_t g_vmo;
static zx_info_maps_t g_maps[MAPS_MAX];
static volatile bool g_stop;
static volatile uint64_t g_decommits, g_decommit_errors;

/* D: decommits page 0, then the right part, until told to stop. */
static void decommitter(uintptr_t unused1, uintptr_t unused2) {
    (void)unused1;
    (void)unused2;
    while (!g_stop) {
        if (zx_vmo_op_range(g_vmo, ZX_VMO_OP_DECOMMIT, 0, LEFT_PAGES * PAGE, NULL, 0) != ZX_OK)
            g_decommit_errors++;
        if (zx_vmo_op_range(g_vmo, ZX_VMO_OP_DECOMMIT, LEFT_PAGES * PAGE, RIGHT_PAGES * PAGE,
                            NULL, 0) != ZX_OK)
            g_decommit_errors++;
        g_decommits++;
    }
    zx_thread_exit();
}

/*
 * The race above; protect_len is how much of the range (from its start) the protect
 * covers: all of it, or only the left mapping, which merges with its right neighbour
 * all the same (and then the right part's translations keep their write permission).
 */
static void merge_race(size_t protect_len) {
    static uint64_t other_buf[OTHER_PAGES * PAGE / sizeof(uint64_t)];
    for (size_t i = 0; i < sizeof(other_buf) / sizeof(other_buf[0]); i++)
        other_buf[i] = MARK_OTHER;
    zx_handle_t sub, other;
    zx_vaddr_t base, got;
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(),
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC,
                               0, VMO_PAGES * PAGE, &sub, &base));
    ASSERT_OK(zx_vmo_create(VMO_PAGES * PAGE, 0, &g_vmo));
    ASSERT_OK(zx_vmo_create(OTHER_PAGES * PAGE, 0, &other));
    ASSERT_OK(zx_vmar_map(sub, RW | ZX_VM_SPECIFIC, 0, g_vmo, 0, LEFT_PAGES * PAGE, &got));
    zx_vaddr_t right = base + LEFT_PAGES * PAGE;

    tu_thread_t d;
    ASSERT_OK(tu_thread_create(&d));
    g_stop = false;
    ASSERT_OK(tu_thread_start(&d, decommitter, 0, 0));

    uint64_t rounds = 0, merged = 0, leaked = 0, errors = 0;
    zx_status_t bad_status = ZX_OK;
    zx_time_t deadline = tu_deadline_after(RACE_TIME);
    while (zx_clock_get_monotonic() < deadline) {
        rounds++;
        zx_status_t st = zx_vmar_map(sub, RW | ZX_VM_SPECIFIC, LEFT_PAGES * PAGE, g_vmo,
                                     LEFT_PAGES * PAGE, RIGHT_PAGES * PAGE, &got);
        if (st != ZX_OK) {
            errors++;
            bad_status = st;
            break;
        }
        for (uint32_t i = 0; i < RIGHT_PAGES; i++)
            wr64(right + i * PAGE, MARK_RIGHT);
        /* One more lock of the VMO every other round, so that the decommit that falls
         * into the merge alternates between D's two. */
        if (rounds & 1) {
            char name[ZX_MAX_NAME_LEN];
            zx_object_get_property(g_vmo, ZX_PROP_NAME, name, sizeof(name));
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
        for (uint32_t i = RIGHT_PAGES; i-- > 0;)
            for (uint32_t w = 0; w < WORDS_CHECKED; w++)
                if (rd64(right + i * PAGE + w * sizeof(uint64_t)) == MARK_OTHER)
                    leaked++;
        /* Merged: one mapping covers the whole range. (Only now: listing the maps locks
         * the VMO, which lets D in.) */
        size_t actual = 0, avail = 0;
        if (zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, g_maps, sizeof(g_maps),
                               &actual, &avail) == ZX_OK) {
            for (size_t k = 0; k < actual; k++)
                if (g_maps[k].type == ZX_INFO_MAPS_TYPE_MAPPING && g_maps[k].base == base &&
                    g_maps[k].size == VMO_PAGES * PAGE)
                    merged++;
        }
        zx_vmo_op_range(other, ZX_VMO_OP_DECOMMIT, 0, OTHER_PAGES * PAGE, NULL, 0);
        st = zx_vmar_unmap(sub, right, RIGHT_PAGES * PAGE);
        if (st != ZX_OK) {
            errors++;
            bad_status = st;
            break;
        }
    }
    g_stop = true;
    EXPECT_OK(tu_thread_join(&d, 10 * TU_SEC));
    tu_thread_destroy(&d);
    printf("vmar_merge_race: %lu rounds (%lu merged), %lu decommit pairs, %lu words of "
           "another VMO read through the mapping\n",
           (unsigned long)rounds, (unsigned long)merged, (unsigned long)g_decommits,
           (unsigned long)leaked);
    EXPECT_EQ(errors, 0u);
    if (errors)
        beryl_test_fail(__FILE__, __LINE__, "a step failed with %d", bad_status);
    EXPECT_EQ(g_decommit_errors, 0u);
    EXPECT_EQ(leaked, 0u);
    /* The race really ran: merges happened and D made progress. */
    EXPECT_GT(merged, 0u);
    EXPECT_GT(g_decommits, 0u);
    zx_vmar_destroy(sub);
    zx_handle_close(sub);
    zx_handle_close(g_vmo);
    zx_handle_close(other);
}

TEST(VmarMergeRace, DecommitDuringMergeLeavesNoTranslation) { merge_race(VMO_PAGES * PAGE); }

TEST(VmarMergeRace, DecommitDuringMergeWithAnUnprotectedNeighbour) {
    merge_race(LEFT_PAGES * PAGE);
}
