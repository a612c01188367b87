/*
 * VM objects nested as deep as user space likes, then torn down: a chain of 10,000
 * sub-VMARs (each as large as its parent, so each sits inside the one before) removed by
 * unmap, destroy or process exit and listed by ZX_INFO_PROCESS_MAPS / PROCESS_VMOS; chains
 * of 10,000 VMO slices, and of snapshots as deep as the copy-on-write cap allows (1,024),
 * released from either end. A kernel that walked or freed these recursively overflowed
 * its kernel stack (a #DF panic at a few hundred levels); Beryl walks VMAR trees with
 * loops and releases objects through the kobject layer's release queue
 * (docs/architecture.md). Every case ends with no panic and no leak (userboot's
 * free-page check).
 *
 * The process-exit cases run in a child: this program started with `--child SCENARIO`.
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdlib.h>
#include <string.h>

#define PG ((size_t)TU_PAGE)
#define DEPTH 10000
#define CHAIN_SIZE (4 * PG)
#define CAN_RWS (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC)
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define MAGIC 0x6e65737465645f76ull
/* Snapshots nest at most this many copy-on-write levels (syscall-abi/decisions.md). */
#define COW_DEPTH_MAX 1024

/* ---- builders (shared by the tests and the child) ------------------------------------ */

/*
 * A sub-VMAR of the root and depth - 1 more, each allocated at offset 0 of the one before
 * with its full size. *top (outermost) and *bottom (innermost) stay open; the handles in
 * between are closed as the chain grows (the VMAR tree keeps those VMARs). On failure
 * nothing is left.
 */
static zx_status_t vmar_chain(int depth, zx_handle_t *top, zx_vaddr_t *base,
                              zx_handle_t *bottom) {
    zx_status_t st = zx_vmar_allocate(zx_vmar_root_self(), CAN_RWS, 0, CHAIN_SIZE, top, base);
    if (st != ZX_OK)
        return st;
    zx_handle_t cur = *top;
    for (int i = 1; i < depth && st == ZX_OK; i++) {
        zx_handle_t next;
        zx_vaddr_t addr = 0;
        st = zx_vmar_allocate(cur, CAN_RWS | ZX_VM_SPECIFIC, 0, CHAIN_SIZE, &next, &addr);
        if (st == ZX_OK && addr != *base)
            st = ZX_ERR_INTERNAL;
        if (cur != *top)
            zx_handle_close(cur);
        cur = st == ZX_OK ? next : ZX_HANDLE_INVALID;
    }
    if (st != ZX_OK) {
        zx_vmar_destroy(*top);
        zx_handle_close(*top);
        return st;
    }
    *bottom = cur;
    return ZX_OK;
}

/* A one-page VMO mapped RW at offset 0 of vmar holding MAGIC; its address (0 on failure). */
static zx_vaddr_t map_magic(zx_handle_t vmar, zx_handle_t *vmo_out) {
    zx_handle_t vmo;
    zx_vaddr_t addr = 0;
    if (zx_vmo_create(PG, 0, &vmo) != ZX_OK)
        return 0;
    if (zx_vmar_map(vmar, RW | ZX_VM_SPECIFIC, 0, vmo, 0, PG, &addr) == ZX_OK)
        *(volatile uint64_t *)addr = MAGIC; /* a fault resolved 10,000 VMARs down */
    if (vmo_out && addr)
        *vmo_out = vmo;
    else
        zx_handle_close(vmo);
    return addr;
}

/* A paged VMO of 4 pages, page i starting with MAGIC + i (ZX_HANDLE_INVALID on failure). */
static zx_handle_t magic_vmo(void) {
    zx_handle_t vmo;
    if (zx_vmo_create(4 * PG, 0, &vmo) != ZX_OK)
        return ZX_HANDLE_INVALID;
    for (uint64_t i = 0; i < 4; i++) {
        uint64_t v = MAGIC + i;
        if (zx_vmo_write(vmo, &v, i * PG, sizeof(v)) != ZX_OK) {
            zx_handle_close(vmo);
            return ZX_HANDLE_INVALID;
        }
    }
    return vmo;
}

/* The u64 at offset of vmo (0 if the read fails). */
static uint64_t vmo_u64(zx_handle_t vmo, uint64_t offset) {
    uint64_t v = 0;
    zx_vmo_read(vmo, &v, offset, sizeof(v));
    return v;
}

/*
 * Children of children, `depth` deep, of kind `option` (SLICE or SNAPSHOT) from vmo
 * (consumed). keep: every handle is stored in keep[0..depth] (keep[0] = vmo); NULL: each
 * parent's handle is closed as soon as its child exists, so only the VMO objects' parent
 * references hold the chain. Returns the last child (ZX_HANDLE_INVALID on failure, with
 * everything closed).
 */
static zx_handle_t vmo_chain(zx_handle_t vmo, uint32_t option, int depth, zx_handle_t *keep) {
    zx_handle_t cur = vmo;
    if (keep)
        keep[0] = vmo;
    for (int i = 1; i <= depth; i++) {
        zx_handle_t child;
        zx_status_t st = zx_vmo_create_child(cur, option, 0, 4 * PG, &child);
        if (!keep)
            zx_handle_close(cur);
        if (st != ZX_OK) {
            for (int j = 0; keep && j < i; j++)
                zx_handle_close(keep[j]);
            return ZX_HANDLE_INVALID;
        }
        cur = child;
        if (keep)
            keep[i] = child;
    }
    return cur;
}

/* ---- the child: builds, then exits with everything still there ---------------------- */

static int child_main(const char *scenario) {
    zx_handle_t top, bottom;
    zx_vaddr_t base;
    if (strcmp(scenario, "vmars") == 0 || strcmp(scenario, "vmars-block") == 0) {
        if (vmar_chain(DEPTH, &top, &base, &bottom) != ZX_OK)
            return 1;
        zx_vaddr_t a = map_magic(bottom, NULL);
        if (!a || *(volatile uint64_t *)a != MAGIC)
            return 2;
        /* Handles stay open: the process's teardown meets the whole chain. */
    }
    if (strcmp(scenario, "vmos") == 0) {
        zx_handle_t vmo = magic_vmo();
        zx_handle_t slice = vmo_chain(vmo, ZX_VMO_CHILD_SLICE, DEPTH, NULL);
        zx_handle_t snap = vmo_chain(magic_vmo(), ZX_VMO_CHILD_SNAPSHOT, COW_DEPTH_MAX, NULL);
        if (!slice || !snap || vmo_u64(slice, PG) != MAGIC + 1 || vmo_u64(snap, 0) != MAGIC)
            return 3;
    }
    if (strcmp(scenario, "vmars-block") == 0) {
        /* Tell the parent, then wait to be killed. */
        zx_handle_t ch = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
        if (zx_channel_write(ch, 0, "k", 1, NULL, 0) != ZX_OK)
            return 4;
        zx_nanosleep(ZX_TIME_INFINITE);
        return 5;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    return beryl_test_run_all(argc, argv);
}

/* Runs `--child scenario` to its end; its return code (a TU_RUN_* value if it did not). */
static int64_t run_child(const char *scenario) {
    const char *argv[] = {"nest_vm", "--child", scenario};
    return tu_run_self("nest-child", 3, argv, 60 * TU_SEC);
}

/* ---- VMAR chains --------------------------------------------------------------------- */

/* The chain's range is free again: a new region fits exactly there. */
static bool range_free(zx_vaddr_t base) {
    zx_info_vmar_t root = tu_vmar_info(zx_vmar_root_self());
    zx_handle_t h;
    zx_vaddr_t addr;
    if (zx_vmar_allocate(zx_vmar_root_self(), ZX_VM_SPECIFIC, base - root.base, CHAIN_SIZE,
                         &h, &addr) != ZX_OK)
        return false;
    zx_vmar_destroy(h);
    zx_handle_close(h);
    return addr == base;
}

TEST(NestedVmars, DestroyTopRemovesTheWholeChain) {
    zx_handle_t top, bottom;
    zx_vaddr_t base;
    ASSERT_OK(vmar_chain(DEPTH, &top, &base, &bottom));
    ASSERT_NE(map_magic(bottom, NULL), 0u);
    EXPECT_OK(zx_vmar_destroy(top));
    zx_handle_t h;
    zx_vaddr_t addr;
    EXPECT_STATUS(zx_vmar_allocate(bottom, 0, 0, PG, &h, &addr), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_destroy(bottom), ZX_ERR_BAD_STATE);
    EXPECT_TRUE(range_free(base));
    zx_handle_close(top);
    zx_handle_close(bottom);
}

TEST(NestedVmars, DestroyFromTheBottomUp) {
    /* The other end: each destroy is shallow, and the chain shrinks one level at a time. */
    zx_handle_t top, bottom;
    zx_vaddr_t base;
    ASSERT_OK(vmar_chain(3, &top, &base, &bottom));
    EXPECT_OK(zx_vmar_destroy(bottom));
    zx_handle_t mid;
    zx_vaddr_t addr;
    /* The middle VMAR still occupies top. */
    EXPECT_STATUS(zx_vmar_allocate(top, ZX_VM_SPECIFIC, 0, CHAIN_SIZE, &mid, &addr),
                  ZX_ERR_ALREADY_EXISTS);
    EXPECT_OK(zx_vmar_destroy(top));
    EXPECT_TRUE(range_free(base));
    zx_handle_close(top);
    zx_handle_close(bottom);
}

/* The records of ZX_INFO_PROCESS_MAPS for this process in a new buffer (*n of them). */
static zx_info_maps_t *process_maps(size_t *n) {
    size_t actual = 0, avail = 0;
    *n = 0;
    if (zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, NULL, 0, &actual, &avail) !=
        ZX_OK)
        return NULL;
    size_t cap = avail + 16; /* room for a few more */
    zx_info_maps_t *maps = malloc(cap * sizeof(*maps));
    if (!maps)
        return NULL;
    if (zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, maps, cap * sizeof(*maps),
                           &actual, &avail) != ZX_OK || actual != avail) {
        free(maps);
        return NULL;
    }
    *n = actual;
    return maps;
}

TEST(NestedVmars, ListedByProcessMapsThenUnmapped) {
    zx_handle_t top, bottom, vmo;
    zx_vaddr_t base;
    ASSERT_OK(vmar_chain(DEPTH, &top, &base, &bottom));
    zx_vaddr_t a = map_magic(bottom, &vmo);
    ASSERT_EQ(a, base);
    EXPECT_EQ(*(volatile uint64_t *)a, MAGIC);
    size_t n;
    zx_info_maps_t *maps = process_maps(&n);
    ASSERT_NONNULL(maps);
    /* Pre-order: the chain's VMARs one level deeper each, then the mapping under them. */
    size_t first = n; /* the top's record: the first VMAR of the chain's base and size */
    for (size_t i = 0; i < n; i++) {
        if (maps[i].type == ZX_INFO_MAPS_TYPE_VMAR && maps[i].base == base &&
            maps[i].size == CHAIN_SIZE) {
            first = i;
            break;
        }
    }
    ASSERT_LT(first + DEPTH, n);
    size_t d0 = maps[first].depth;
    EXPECT_EQ(d0, 2u); /* a child of the root VMAR */
    size_t bad = 0;
    for (size_t k = 0; k < DEPTH; k++) {
        const zx_info_maps_t *m = &maps[first + k];
        if (m->type != ZX_INFO_MAPS_TYPE_VMAR || m->base != base || m->size != CHAIN_SIZE ||
            m->depth != d0 + k)
            bad++;
    }
    EXPECT_EQ(bad, 0u);
    const zx_info_maps_t *m = &maps[first + DEPTH];
    EXPECT_EQ(m->type, (uint32_t)ZX_INFO_MAPS_TYPE_MAPPING);
    EXPECT_EQ(m->depth, d0 + DEPTH);
    EXPECT_EQ(m->base, base);
    EXPECT_EQ(m->u.mapping.vmo_koid, tu_basic(vmo).koid);
    free(maps);

    /* PROCESS_VMOS finds the VMO through the mapping at the bottom. */
    size_t actual = 0, avail = 0;
    ASSERT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, NULL, 0, &actual,
                                 &avail));
    zx_info_vmo_t *vmos = malloc((avail + 16) * sizeof(*vmos));
    ASSERT_NONNULL(vmos);
    ASSERT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, vmos,
                                 (avail + 16) * sizeof(*vmos), &actual, &avail));
    size_t via_mapping = 0;
    for (size_t i = 0; i < actual; i++)
        if (vmos[i].koid == tu_basic(vmo).koid && (vmos[i].flags & ZX_INFO_VMO_VIA_MAPPING))
            via_mapping++;
    EXPECT_EQ(via_mapping, 1u);
    free(vmos);
    zx_handle_close(vmo);

    /* Unmapping the chain's range from the root destroys all of it: both ends are dead,
     * and the range is free again. */
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), base, CHAIN_SIZE));
    zx_handle_t h;
    zx_vaddr_t addr;
    EXPECT_STATUS(zx_vmar_allocate(top, 0, 0, PG, &h, &addr), ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_vmar_allocate(bottom, 0, 0, PG, &h, &addr), ZX_ERR_BAD_STATE);
    EXPECT_TRUE(range_free(base));
    zx_handle_close(top);
    zx_handle_close(bottom);
}

TEST(NestedVmars, ProcessExitTearsDownTheChain) { EXPECT_EQ(run_child("vmars"), 0); }

/* ---- VMO chains ---------------------------------------------------------------------- */

TEST(NestedVmos, SliceChainLastHandleClosed) {
    zx_handle_t last = vmo_chain(magic_vmo(), ZX_VMO_CHILD_SLICE, DEPTH, NULL);
    ASSERT_NE(last, ZX_HANDLE_INVALID);
    /* A slice of a slice sees the original's pages. */
    EXPECT_EQ(vmo_u64(last, 0), MAGIC);
    EXPECT_EQ(vmo_u64(last, 3 * PG), MAGIC + 3);
    EXPECT_NE(tu_vmo_info(last).parent_koid, 0u);
    /* The only handle left: its close releases 10,001 VMO objects in a chain. */
    EXPECT_OK(zx_handle_close(last));
}

TEST(NestedVmos, SnapshotChainToTheCapLastHandleClosed) {
    /* Each VMO object keeps its parent (for ZX_INFO_VMO and ZERO_CHILDREN), so even with
     * every parent's handle closed the chain nests one copy-on-write level per snapshot:
     * it ends at the cap. */
    zx_handle_t last = vmo_chain(magic_vmo(), ZX_VMO_CHILD_SNAPSHOT, COW_DEPTH_MAX, NULL);
    ASSERT_NE(last, ZX_HANDLE_INVALID);
    zx_handle_t deeper;
    EXPECT_STATUS(zx_vmo_create_child(last, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PG, &deeper),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_EQ(vmo_u64(last, 0), MAGIC);
    EXPECT_EQ(vmo_u64(last, 2 * PG), MAGIC + 2);
    uint64_t v = 7;
    EXPECT_OK(zx_vmo_write(last, &v, PG, sizeof(v)));
    EXPECT_EQ(vmo_u64(last, PG), 7u);
    EXPECT_OK(zx_handle_close(last));
}

/*
 * Chains with every handle kept, `depth` long, closed in the given order. Snapshots
 * kept this way nest one copy-on-write level each: the chain goes to the cap, and one
 * more snapshot is refused.
 */
static void chain_closed_in_order(uint32_t option, int depth, bool from_root) {
    zx_handle_t *keep = malloc((size_t)(depth + 1) * sizeof(*keep));
    ASSERT_NONNULL(keep);
    zx_handle_t last = vmo_chain(magic_vmo(), option, depth, keep);
    if (last == ZX_HANDLE_INVALID) {
        free(keep);
        ASSERT_NE(last, ZX_HANDLE_INVALID);
    }
    /* Snapshots: the newest reads the original through every hidden node. */
    EXPECT_EQ(vmo_u64(last, 3 * PG), MAGIC + 3);
    EXPECT_EQ(tu_vmo_info(keep[depth]).parent_koid, tu_basic(keep[depth - 1]).koid);
    if (option == ZX_VMO_CHILD_SNAPSHOT) {
        zx_handle_t deeper;
        EXPECT_STATUS(zx_vmo_create_child(last, option, 0, 4 * PG, &deeper),
                      ZX_ERR_OUT_OF_RANGE);
    }
    size_t bad = 0;
    for (int i = 0; i <= depth; i++) {
        int k = from_root ? i : depth - i;
        if (zx_handle_close(keep[k]) != ZX_OK)
            bad++;
        /* Halfway, the survivors still read the original content. */
        if (i == depth / 2) {
            int alive = from_root ? depth : 0;
            EXPECT_EQ(vmo_u64(keep[alive], 0), MAGIC);
        }
    }
    EXPECT_EQ(bad, 0u);
    free(keep);
}

TEST(NestedVmos, SliceChainClosedFromTheRoot) {
    chain_closed_in_order(ZX_VMO_CHILD_SLICE, DEPTH, true);
}
TEST(NestedVmos, SliceChainClosedFromTheLeaf) {
    chain_closed_in_order(ZX_VMO_CHILD_SLICE, DEPTH, false);
}
TEST(NestedVmos, SnapshotChainToTheCapClosedFromTheRoot) {
    chain_closed_in_order(ZX_VMO_CHILD_SNAPSHOT, COW_DEPTH_MAX, true);
}
TEST(NestedVmos, SnapshotChainToTheCapClosedFromTheLeaf) {
    chain_closed_in_order(ZX_VMO_CHILD_SNAPSHOT, COW_DEPTH_MAX, false);
}

TEST(NestedVmos, ProcessExitReleasesTheChains) { EXPECT_EQ(run_child("vmos"), 0); }

/* ---- killed while holding it --------------------------------------------------------- */

TEST(NestedVmars, KilledWhileBlockedHoldingTheChain) {
    zx_handle_t mine, theirs;
    ASSERT_OK(zx_channel_create(0, &mine, &theirs));
    const char *argv[] = {"nest_vm", "--child", "vmars-block"};
    zx_handle_t proc;
    ASSERT_OK(tu_launch_self("nest-child", 3, argv, theirs, &proc));
    zx_signals_t seen = 0;
    EXPECT_OK(zx_object_wait_one(mine, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
                                 zx_deadline_after(60 * TU_SEC), &seen));
    EXPECT_TRUE(seen & ZX_CHANNEL_READABLE); /* built, not died */
    EXPECT_OK(zx_task_kill(proc));
    EXPECT_OK(zx_object_wait_one(proc, ZX_TASK_TERMINATED, zx_deadline_after(60 * TU_SEC),
                                 NULL));
    zx_info_process_t info;
    EXPECT_OK(tu_process_info(proc, &info));
    EXPECT_EQ(info.return_code, (int64_t)ZX_TASK_RETCODE_SYSCALL_KILL);
    zx_handle_close(proc);
    zx_handle_close(mine);
}
