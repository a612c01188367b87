/*
 * Host test, under ThreadSanitizer, of the VMO getters that run without the VMO's lock
 * (vmo_committed_pages, vmo_size, vmo_mapping_count, vmo_cache_policy, vmo_koid: what
 * ZX_INFO_VMO and the syscalls' range checks read on one CPU while another CPU changes
 * the VMO). The VMO's own code writes those fields under the lock but only with atomic
 * stores, so an unlocked atomic load never races with them; a plain store anywhere
 * (say a page tree's count updated with ++, or a page tree assigned as a struct) is a
 * data race that ThreadSanitizer reports, and halt_on_error turns the report into a
 * failed test.
 *
 * One POSIX thread plays the CPU that changes the VMO: commit, decommit, resize, mapping
 * links added and removed, and snapshots, whose creation moves the parent's page tree
 * into the hidden node and whose death gives it back (page_tree_move both ways). Another
 * plays the CPU that reads the getters all along. Only the changing thread uses the PMM,
 * the heap and the VMO's lock (the host mutex is a flag, not a lock between threads).
 */
#include <pthread.h>

#include <vm/vmo.h>

#include "htest.h"
#include "vmo_host.h"

/* Turns the first race report into an abort, which ctest sees as a failure. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "halt_on_error=1"; }

#define VMO_PAGES 64u
#define ROUNDS 300u

struct reader {
    vmo_t *vmo;
    int stop;            /* atomic: set by the changing thread when it is done */
    uint64_t reads;      /* getter rounds the reader made */
    uint64_t impossible; /* values no state of the VMO ever had */
};

/* Reads every unlocked getter until told to stop, checking each value is one the VMO can
 * have had: at most VMO_PAGES pages, a size of whole pages up to VMO_PAGES, at most two
 * links (the writer never adds more), the cached policy, the koid set before the start. */
static void *reader_fn(void *arg) {
    struct reader *r = arg;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        size_t committed = vmo_committed_pages(r->vmo);
        uint64_t size = vmo_size(r->vmo);
        size_t links = vmo_mapping_count(r->vmo);
        if (committed > VMO_PAGES || size > VMO_PAGES * P || size % P != 0 || links > 2 ||
            vmo_cache_policy(r->vmo) != VMO_CACHE_CACHED || vmo_koid(r->vmo) != 1)
            r->impossible++;
        r->reads++;
    }
    return NULL;
}

static void unmap_nothing(struct vmo_mapping_link *link, uint64_t offset, uint64_t len) {
    (void)link;
    (void)offset;
    (void)len;
}

static const struct vmo_mapping_ops nothing_ops = {.unmap_range = unmap_nothing};

HTEST(vmo_unlocked, getters_race_with_no_store) {
    env_start();
    vmo_t *vmo;
    ASSERT_OK(vmo_create_paged(VMO_PAGES * P, VMO_OPT_RESIZABLE, &vmo));
    vmo_set_koid(vmo, 1);
    struct vmo_mapping_link links[2] = {
        {.ops = &nothing_ops, .vmo_offset = 0, .len = P},
        {.ops = &nothing_ops, .vmo_offset = P, .len = 2 * P},
    };
    struct reader r = {.vmo = vmo};
    pthread_t reader;
    ASSERT_EQ(pthread_create(&reader, NULL, reader_fn, &r), 0);
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint64_t pages = 1 + i % VMO_PAGES;
        EXPECT_OK(vmo_set_size(vmo, VMO_PAGES * P));
        vmo_add_mapping(vmo, &links[i % 2]);
        EXPECT_OK(vmo_commit(vmo, 0, pages * P));
        /* Snapshot: the parent's tree moves into the hidden node (the parent keeps no
         * page), and the child's death hands it back. */
        vmo_t *child;
        EXPECT_OK(vmo_create_child(vmo, VMO_CHILD_SNAPSHOT, 0, VMO_PAGES * P, &child));
        vmo_unref(child);
        EXPECT_EQ(vmo_committed_pages(vmo), pages);
        EXPECT_OK(vmo_decommit(vmo, 0, (pages / 2) * P));
        EXPECT_OK(vmo_set_size(vmo, (VMO_PAGES / 2) * P));
        vmo_remove_mapping(vmo, &links[i % 2]);
        EXPECT_OK(vmo_decommit(vmo, 0, (VMO_PAGES / 2) * P));
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    ASSERT_EQ(pthread_join(reader, NULL), 0);
    EXPECT_EQ(r.impossible, 0u);
    EXPECT_GT(r.reads, 0u);
    printf("vmo_unlocked: %u rounds of changes, %llu rounds of reads\n", ROUNDS,
           (unsigned long long)r.reads);
    vmo_unref(vmo);
    ENV_END();
}
