/*
 * Shared processes: ZX_PROCESS_SHARED prototypes and zx_process_create_shared. The shared
 * region is seen by every sharer at once, each restricted region only by its owner, the
 * handle table is the family's, unmap / protect in the shared region take effect for every
 * sharer, and teardown in any order leaks nothing (userboot's free-page check).
 *
 * Code that must run inside a sharer is this same program, launched into the sharer with
 * `--member SCENARIO ARG` (see sharer_main; family_util.h); its return code says how it
 * went.
 */
#include <beryl/test.h>
#include <stdlib.h>
#include "family_util.h"

#define SHARED_BASE FAM_SHARED_BASE
#define SHARED_SIZE FAM_SHARED_SIZE
#define RESTRICTED_BASE FAM_RESTRICTED_BASE
#define RESTRICTED_SIZE FAM_RESTRICTED_SIZE
#define RW FAM_RW
#define MAGIC 0x5ba7ed0f5ba7ed0full

/* ---- the sharer side ---------------------------------------------------------------- */

static int sharer_main(const char *scenario, uint64_t arg) {
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)arg;
    if (strcmp(scenario, "read-magic") == 0)
        return *p == MAGIC ? 0 : 1;
    if (strcmp(scenario, "write-magic") == 0) {
        *p = MAGIC + 1;
        return 0;
    }
    if (strcmp(scenario, "write-then-wait") == 0) {
        /* Writes, then waits until the value changes (another sharer's write). */
        *p = MAGIC;
        for (int i = 0; i < 5000 && *p == MAGIC; i++)
            zx_nanosleep(zx_deadline_after(TU_MS));
        return *p == MAGIC + 2 ? 0 : 2;
    }
    if (strcmp(scenario, "handle-signal") == 0) {
        /* arg names a u64 in the shared region that holds a handle value another sharer
         * received: the handle table is shared, so the value works here too. */
        zx_handle_t h = (zx_handle_t)*p;
        return zx_channel_write(h, 0, "s", 1, NULL, 0) == ZX_OK ? 0 : 3;
    }
    if (strcmp(scenario, "handle-publish") == 0) {
        zx_handle_t h = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
        *p = h;
        for (int i = 0; i < 5000 && *p == h; i++) /* until the other sharer is done */
            zx_nanosleep(zx_deadline_after(TU_MS));
        return 0;
    }
    if (strcmp(scenario, "read-loop") == 0) {
        /* Reads until killed (the parent unmaps or protects under it). */
        for (;;)
            (void)*p;
    }
    if (strcmp(scenario, "write-loop") == 0) {
        for (uint64_t i = 0;; i++)
            *p = i;
    }
    if (strcmp(scenario, "root-self") == 0) {
        zx_info_vmar_t info;
        if (zx_object_get_info(zx_vmar_root_self(), ZX_INFO_VMAR, &info, sizeof(info), NULL,
                               NULL) != ZX_OK)
            return 4;
        return info.base == RESTRICTED_BASE && info.len == RESTRICTED_SIZE ? 0 : 5;
    }
    printf("sharer: unknown scenario %s\n", scenario);
    return 99;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "--member") == 0)
        return sharer_main(argv[2], strtoul(argv[3], NULL, 16));
    return beryl_test_run_all(argc, argv);
}

/* ---- the parent side ---------------------------------------------------------------- */

/* Starts this program in sharer i of f with `--member scenario arg`; extra (may be
 * ZX_HANDLE_INVALID) goes as PA_USER0. */
static zx_status_t sharer_start(family_t *f, int i, const char *scenario, uint64_t arg,
                                zx_handle_t extra) {
    return fam_start(f, i, "shared_process", scenario, arg, &extra,
                     extra != ZX_HANDLE_INVALID ? 1 : 0);
}

TEST(SharedProcess, PrototypeRootIsTheSharedRegion) {
    family_t f;
    ASSERT_OK(family_create(&f, 1));
    zx_info_vmar_t s = tu_vmar_info(f.shared_vmar);
    EXPECT_EQ(s.base, SHARED_BASE);
    EXPECT_EQ(s.len, SHARED_SIZE);
    EXPECT_EQ(tu_rights(f.shared_vmar), (zx_rights_t)0x20801F);
    zx_info_vmar_t r = tu_vmar_info(f.rvmar[0]);
    EXPECT_EQ(r.base, RESTRICTED_BASE);
    EXPECT_EQ(r.len, RESTRICTED_SIZE);
    EXPECT_EQ(tu_rights(f.rvmar[0]), (zx_rights_t)0x20801F);
    EXPECT_EQ(tu_rights(f.proc[0]), ZX_DEFAULT_PROCESS_RIGHTS);
    /* The sharer is in the prototype's job. */
    EXPECT_EQ(tu_basic(f.proc[0]).type, ZX_OBJ_TYPE_PROCESS);
    /* A mapping in the shared region lands in it; the restricted region is separate. */
    zx_vaddr_t a = fam_map_shared_page(&f, NULL);
    EXPECT_GE(a, SHARED_BASE);
    EXPECT_LT(a, SHARED_BASE + SHARED_SIZE);
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    zx_vaddr_t b;
    EXPECT_OK(zx_vmar_map(f.rvmar[0], RW, 0, vmo, 0, TU_PAGE, &b));
    EXPECT_GE(b, RESTRICTED_BASE);
    EXPECT_LT(b, RESTRICTED_BASE + RESTRICTED_SIZE);
    zx_handle_close(vmo);
    family_destroy(&f);
}

TEST(SharedProcess, CreateSharedErrors) {
    family_t f;
    ASSERT_OK(family_create(&f, 0));
    zx_handle_t p, v;
    EXPECT_STATUS(zx_process_create_shared(f.proto, 1, "x", 1, &p, &v), ZX_ERR_INVALID_ARGS);
    /* Not created with ZX_PROCESS_SHARED. */
    zx_handle_t plain, plain_vmar;
    ASSERT_OK(zx_process_create(zx_job_default(), "plain", 5, 0, &plain, &plain_vmar));
    EXPECT_STATUS(zx_process_create_shared(plain, 0, "x", 1, &p, &v), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_create_shared(zx_process_self(), 0, "x", 1, &p, &v),
                  ZX_ERR_INVALID_ARGS);
    /* Handle checks: type, then rights. */
    EXPECT_STATUS(zx_process_create_shared(f.shared_vmar, 0, "x", 1, &p, &v), ZX_ERR_WRONG_TYPE);
    zx_handle_t weak;
    ASSERT_OK(zx_handle_duplicate(f.proto, ZX_RIGHT_INSPECT | ZX_RIGHT_DUPLICATE, &weak));
    EXPECT_STATUS(zx_process_create_shared(weak, 0, "x", 1, &p, &v), ZX_ERR_ACCESS_DENIED);
    zx_handle_close(weak);
    EXPECT_STATUS(zx_process_create_shared(weak, 0, "x", 1, &p, &v), ZX_ERR_BAD_HANDLE);
    /* Bad pointers: INVALID_ARGS, and nothing is left behind (userboot's leak check). */
    EXPECT_STATUS(zx_process_create_shared(f.proto, 0, (const char *)0x1000, 4, &p, &v),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_create_shared(f.proto, 0, "x", 1, NULL, &v), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_create_shared(f.proto, 0, "x", 1, &p, NULL), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_process_create_shared(f.proto, 0, "x", 1,
                                           (zx_handle_t *)0xffffffff80000000ull, &v),
                  ZX_ERR_INVALID_ARGS);
    /* A sharer can itself be the prototype of another sharer. */
    ASSERT_OK(zx_process_create_shared(f.proto, 0, "a", 1, &f.proc[0], &f.rvmar[0]));
    EXPECT_OK(zx_process_create_shared(f.proc[0], 0, "b", 1, &f.proc[1], &f.rvmar[1]));
    zx_handle_close(plain_vmar);
    zx_handle_close(plain);
    family_destroy(&f);
}

/* Once every process of the family has ended, no new sharer can join. */
TEST(SharedProcess, AllSharersGoneIsBadState) {
    family_t f;
    ASSERT_OK(family_create(&f, 1));
    EXPECT_OK(zx_task_kill(f.proc[0]));
    EXPECT_OK(zx_task_kill(f.proto));
    EXPECT_OK(zx_object_wait_one(f.proto, ZX_PROCESS_TERMINATED, zx_deadline_after(10 * TU_SEC),
                                 NULL));
    EXPECT_OK(zx_object_wait_one(f.proc[0], ZX_PROCESS_TERMINATED,
                                 zx_deadline_after(10 * TU_SEC), NULL));
    zx_handle_t p, v;
    EXPECT_STATUS(zx_process_create_shared(f.proto, 0, "x", 1, &p, &v), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_process_create_shared(f.proc[0], 0, "x", 1, &p, &v), ZX_ERR_BAD_STATE);
    /* The shared region died with the family. */
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    zx_vaddr_t a;
    EXPECT_STATUS(zx_vmar_map(f.shared_vmar, RW, 0, vmo, 0, TU_PAGE, &a), ZX_ERR_BAD_STATE);
    zx_handle_close(vmo);
    family_destroy(&f);
}

/* While one member lives (the prototype here, never started), others can still join. */
TEST(SharedProcess, JoinWhileAnyMemberLives) {
    family_t f;
    ASSERT_OK(family_create(&f, 1));
    EXPECT_OK(zx_task_kill(f.proc[0]));
    EXPECT_OK(zx_object_wait_one(f.proc[0], ZX_PROCESS_TERMINATED,
                                 zx_deadline_after(10 * TU_SEC), NULL));
    /* proc[0] is dead but the family is not: it may still act as the prototype. */
    EXPECT_OK(zx_process_create_shared(f.proc[0], 0, "late", 4, &f.proc[1], &f.rvmar[1]));
    family_destroy(&f);
}

/* A write by one sharer into the shared region is read by the other, and vice versa. */
TEST(SharedProcess, SharedRegionSeenByBothSharers) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_vaddr_t a = fam_map_shared_page(&f, NULL);
    ASSERT_NE(a, 0u);
    ASSERT_OK(sharer_start(&f, 0, "write-then-wait", a, ZX_HANDLE_INVALID));
    /* Until sharer 0 has written MAGIC (seen through sharer 1's view of the region). */
    uint64_t v = 0;
    size_t actual;
    for (int i = 0; i < 5000 && v != MAGIC; i++) {
        zx_nanosleep(zx_deadline_after(TU_MS));
        ASSERT_OK(zx_process_read_memory(f.proc[1], a, &v, sizeof(v), &actual));
    }
    EXPECT_EQ(v, MAGIC);
    /* Sharer 1 reads it itself, then writes MAGIC + 1; we bump it to MAGIC + 2 for 0. */
    ASSERT_OK(sharer_start(&f, 1, "read-magic", a, ZX_HANDLE_INVALID));
    EXPECT_EQ(fam_wait(&f, 1), 0);
    uint64_t two = MAGIC + 2;
    ASSERT_OK(zx_process_write_memory(f.proto, a, &two, sizeof(two), &actual));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    family_destroy(&f);
}

/* A page mapped in one sharer's restricted region is not there for the other. */
TEST(SharedProcess, RestrictedRegionsArePrivate) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    uint64_t magic = MAGIC;
    ASSERT_OK(zx_vmo_write(vmo, &magic, 0, sizeof(magic)));
    zx_vaddr_t a;
    ASSERT_OK(zx_vmar_map(f.rvmar[0], RW, 0, vmo, 0, TU_PAGE, &a));
    uint64_t v = 0;
    size_t actual;
    EXPECT_OK(zx_process_read_memory(f.proc[0], a, &v, sizeof(v), &actual));
    EXPECT_EQ(v, MAGIC);
    EXPECT_STATUS(zx_process_read_memory(f.proc[1], a, &v, sizeof(v), &actual),
                  ZX_ERR_NO_MEMORY);
    EXPECT_STATUS(zx_process_read_memory(f.proto, a, &v, sizeof(v), &actual), ZX_ERR_NO_MEMORY);
    /* And from inside: sharer 1 touching the address dies; sharer 0 reads it. */
    ASSERT_OK(sharer_start(&f, 0, "read-magic", a, ZX_HANDLE_INVALID));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    ASSERT_OK(sharer_start(&f, 1, "read-magic", a, ZX_HANDLE_INVALID));
    EXPECT_EQ(fam_wait(&f, 1), ZX_TASK_RETCODE_EXCEPTION_KILL);
    zx_handle_close(vmo);
    family_destroy(&f);
}

/* The launched sharer's zx_vmar_root_self() is the restricted VMAR it was given. */
TEST(SharedProcess, SharerRootSelfIsRestricted) {
    family_t f;
    ASSERT_OK(family_create(&f, 1));
    ASSERT_OK(sharer_start(&f, 0, "root-self", 0, ZX_HANDLE_INVALID));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    family_destroy(&f);
}

/* The handle table is the family's: a handle value one sharer received works in the
 * other. */
TEST(SharedProcess, HandleTableIsShared) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_vaddr_t a = fam_map_shared_page(&f, NULL);
    ASSERT_NE(a, 0u);
    zx_handle_t mine, theirs;
    ASSERT_OK(zx_channel_create(0, &mine, &theirs));
    ASSERT_OK(sharer_start(&f, 0, "handle-publish", a, theirs));
    uint64_t v = 0;
    size_t actual;
    for (int i = 0; i < 5000 && v == 0; i++) {
        zx_nanosleep(zx_deadline_after(TU_MS));
        ASSERT_OK(zx_process_read_memory(f.proto, a, &v, sizeof(v), &actual));
    }
    ASSERT_NE(v, 0u);
    ASSERT_OK(sharer_start(&f, 1, "handle-signal", a, ZX_HANDLE_INVALID));
    EXPECT_EQ(fam_wait(&f, 1), 0);
    char b = 0;
    uint32_t nb, nh;
    EXPECT_OK(zx_object_wait_one(mine, ZX_CHANNEL_READABLE, zx_deadline_after(10 * TU_SEC), NULL));
    EXPECT_OK(zx_channel_read(mine, 0, &b, NULL, 1, 0, &nb, &nh));
    EXPECT_EQ(b, 's');
    uint64_t done = 1;
    ASSERT_OK(zx_process_write_memory(f.proto, a, &done, sizeof(done), &actual));
    EXPECT_EQ(fam_wait(&f, 0), 0);
    zx_handle_close(mine);
    family_destroy(&f);
}

/* Unmapping a shared page under a sharer that keeps reading it kills that sharer: no
 * stale translation survives in its unified aspace. */
TEST(SharedProcess, UnmapInSharedRegionReachesEverySharer) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_vaddr_t a = fam_map_shared_page(&f, NULL);
    ASSERT_NE(a, 0u);
    ASSERT_OK(sharer_start(&f, 0, "read-loop", a, ZX_HANDLE_INVALID));
    ASSERT_OK(sharer_start(&f, 1, "read-loop", a, ZX_HANDLE_INVALID));
    zx_nanosleep(zx_deadline_after(30 * TU_MS)); /* both are reading */
    zx_info_process_t pi;
    ASSERT_OK(zx_object_get_info(f.proc[0], ZX_INFO_PROCESS, &pi, sizeof(pi), NULL, NULL));
    EXPECT_EQ(pi.flags & ZX_INFO_PROCESS_FLAG_EXITED, 0u);
    ASSERT_OK(zx_vmar_unmap(f.shared_vmar, a, TU_PAGE));
    EXPECT_EQ(fam_wait(&f, 0), ZX_TASK_RETCODE_EXCEPTION_KILL);
    EXPECT_EQ(fam_wait(&f, 1), ZX_TASK_RETCODE_EXCEPTION_KILL);
    family_destroy(&f);
}

TEST(SharedProcess, ProtectInSharedRegionReachesEverySharer) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_vaddr_t a = fam_map_shared_page(&f, NULL);
    ASSERT_NE(a, 0u);
    ASSERT_OK(sharer_start(&f, 0, "write-loop", a, ZX_HANDLE_INVALID));
    ASSERT_OK(sharer_start(&f, 1, "read-loop", a, ZX_HANDLE_INVALID));
    zx_nanosleep(zx_deadline_after(30 * TU_MS));
    ASSERT_OK(zx_vmar_protect(f.shared_vmar, ZX_VM_PERM_READ, a, TU_PAGE));
    EXPECT_EQ(fam_wait(&f, 0), ZX_TASK_RETCODE_EXCEPTION_KILL);
    /* The reader is unaffected by a read-only page. */
    zx_nanosleep(zx_deadline_after(20 * TU_MS));
    zx_info_process_t pi;
    ASSERT_OK(zx_object_get_info(f.proc[1], ZX_INFO_PROCESS, &pi, sizeof(pi), NULL, NULL));
    EXPECT_EQ(pi.flags & ZX_INFO_PROCESS_FLAG_EXITED, 0u);
    family_destroy(&f);
}

/* PROCESS_MAPS of a sharer: its restricted aspace, then the shared one. */
TEST(SharedProcess, MapsOfASharer) {
    family_t f;
    ASSERT_OK(family_create(&f, 1));
    zx_vaddr_t a = fam_map_shared_page(&f, NULL);
    ASSERT_NE(a, 0u);
    static zx_info_maps_t maps[16];
    size_t actual = 0, avail = 0;
    ASSERT_OK(zx_object_get_info(f.proc[0], ZX_INFO_PROCESS_MAPS, maps, sizeof(maps), &actual,
                                 &avail));
    ASSERT_EQ(actual, 5u);
    EXPECT_EQ(maps[0].type, ZX_INFO_MAPS_TYPE_ASPACE);
    EXPECT_EQ(maps[1].base, RESTRICTED_BASE);
    EXPECT_EQ(maps[2].type, ZX_INFO_MAPS_TYPE_ASPACE);
    EXPECT_EQ(maps[3].base, SHARED_BASE);
    EXPECT_EQ(maps[4].base, a);
    family_destroy(&f);
}

/* Teardown orders; userboot's free-page check after this program catches leaks. */
TEST(SharedProcess, TeardownPrototypeFirst) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    ASSERT_NE(fam_map_shared_page(&f, NULL), 0u);
    zx_vaddr_t a = fam_map_shared_page(&f, NULL);
    ASSERT_OK(sharer_start(&f, 0, "read-loop", a, ZX_HANDLE_INVALID));
    fam_kill_and_close(&f.proto);
    zx_handle_close(f.shared_vmar);
    f.shared_vmar = ZX_HANDLE_INVALID;
    /* The region lives on for the sharers. */
    uint64_t v = 1;
    size_t actual;
    EXPECT_OK(zx_process_read_memory(f.proc[1], a, &v, sizeof(v), &actual));
    EXPECT_EQ(v, 0u);
    family_destroy(&f);
}

TEST(SharedProcess, TeardownSharersFirst) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    zx_vaddr_t a = fam_map_shared_page(&f, NULL);
    ASSERT_OK(sharer_start(&f, 0, "read-loop", a, ZX_HANDLE_INVALID));
    ASSERT_OK(sharer_start(&f, 1, "read-loop", a, ZX_HANDLE_INVALID));
    fam_kill_and_close(&f.proc[1]);
    fam_kill_and_close(&f.proc[0]);
    /* The prototype (never started) still holds the family and its region. */
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    zx_vaddr_t b;
    EXPECT_OK(zx_vmar_map(f.shared_vmar, RW, 0, vmo, 0, TU_PAGE, &b));
    zx_handle_close(vmo);
    family_destroy(&f);
}

/* A family whose prototype never starts and whose handles are simply closed. */
TEST(SharedProcess, TeardownByClosingHandles) {
    family_t f;
    ASSERT_OK(family_create(&f, 2));
    ASSERT_NE(fam_map_shared_page(&f, NULL), 0u);
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    zx_vaddr_t b;
    EXPECT_OK(zx_vmar_map(f.rvmar[1], RW, 0, vmo, 0, TU_PAGE, &b));
    zx_handle_close(vmo);
    zx_handle_t all[] = {f.proc[0], f.proc[1], f.proto, f.rvmar[0], f.rvmar[1], f.shared_vmar};
    EXPECT_OK(zx_handle_close_many(all, 6));
}
