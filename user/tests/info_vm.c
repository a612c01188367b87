/*
 * ZX_INFO_PROCESS_MAPS and ZX_INFO_PROCESS_VMOS: the tree walk (depth-first pre-order,
 * depths, one record per protection run), the VMO records (via handle / via mapping),
 * array semantics of actual/avail, and the topic's errors.
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define MAX_MAPS 256
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)

static zx_info_maps_t g_maps[MAX_MAPS];

/* Reads proc's maps into g_maps; returns the count (or a negative status). */
static long read_maps(zx_handle_t proc) {
    size_t actual = 0, avail = 0;
    zx_status_t st = zx_object_get_info(proc, ZX_INFO_PROCESS_MAPS, g_maps, sizeof(g_maps),
                                        &actual, &avail);
    if (st != ZX_OK)
        return st;
    if (actual != avail)
        return ZX_ERR_BUFFER_TOO_SMALL;
    return (long)actual;
}

/* The mapping record containing addr, or NULL. */
static const zx_info_maps_t *find_map(long n, zx_vaddr_t addr) {
    for (long i = 0; i < n; i++)
        if (g_maps[i].type == ZX_INFO_MAPS_TYPE_MAPPING && g_maps[i].base <= addr &&
            addr - g_maps[i].base < g_maps[i].size)
            return &g_maps[i];
    return NULL;
}

static zx_koid_t koid_of(zx_handle_t h) { return tu_basic(h).koid; }

TEST(InfoMaps, AspaceAndRootFirst) {
    long n = read_maps(zx_process_self());
    ASSERT_GE(n, 3);
    EXPECT_EQ(g_maps[0].type, ZX_INFO_MAPS_TYPE_ASPACE);
    EXPECT_EQ(g_maps[0].depth, 0u);
    EXPECT_EQ(g_maps[1].type, ZX_INFO_MAPS_TYPE_VMAR);
    EXPECT_EQ(g_maps[1].depth, 1u);
    EXPECT_EQ(g_maps[1].base, 0x200000u);
    EXPECT_EQ(g_maps[1].size, 0x7FFFFFDFF000ull);
    /* The program's own code is mapped read + execute somewhere. */
    const zx_info_maps_t *code = find_map(n, (zx_vaddr_t)&read_maps);
    ASSERT_NONNULL(code);
    EXPECT_EQ(code->u.mapping.mmu_flags, ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE);
}

/* Pre-order: every record after the root lies inside the nearest earlier record of
 * depth - 1 (its parent), and siblings ascend without overlapping. */
TEST(InfoMaps, PreOrderNesting) {
    zx_handle_t sub;
    zx_vaddr_t sub_base;
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(),
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC, 0,
                               16 * TU_PAGE, &sub, &sub_base));
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    zx_vaddr_t a;
    ASSERT_OK(zx_vmar_map(sub, RW | ZX_VM_SPECIFIC, 4 * TU_PAGE, vmo, 0, TU_PAGE, &a));
    long n = read_maps(zx_process_self());
    ASSERT_GT(n, 0);
    size_t parent[8] = {0};
    bool seen_sub = false;
    for (long i = 1; i < n; i++) {
        size_t d = g_maps[i].depth;
        ASSERT_GE(d, 1u);
        ASSERT_LT(d, 8u);
        if (d >= 2) {
            const zx_info_maps_t *p = &g_maps[parent[d - 1]];
            EXPECT_EQ(p->type, ZX_INFO_MAPS_TYPE_VMAR);
            EXPECT_GE(g_maps[i].base, p->base);
            EXPECT_LE(g_maps[i].base + g_maps[i].size, p->base + p->size);
        }
        parent[d] = (size_t)i;
        if (g_maps[i].type == ZX_INFO_MAPS_TYPE_VMAR && g_maps[i].base == sub_base) {
            seen_sub = true;
            EXPECT_EQ(g_maps[i].depth, 2u);
            EXPECT_EQ(g_maps[i].size, 16 * TU_PAGE);
            ASSERT_LT(i + 1, n);
            EXPECT_EQ(g_maps[i + 1].type, ZX_INFO_MAPS_TYPE_MAPPING);
            EXPECT_EQ(g_maps[i + 1].depth, 3u);
            EXPECT_EQ(g_maps[i + 1].base, a);
        }
    }
    EXPECT_TRUE(seen_sub);
    EXPECT_OK(zx_vmar_destroy(sub));
    zx_handle_close(sub);
    zx_handle_close(vmo);
}

TEST(InfoMaps, MappingRecordFields) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4 * TU_PAGE, 0, &vmo));
    static const char name[] = "maps-probe";
    ASSERT_OK(zx_object_set_property(vmo, ZX_PROP_NAME, name, sizeof(name)));
    zx_vaddr_t a;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, TU_PAGE, 2 * TU_PAGE, &a));
    ASSERT_OK(zx_vmo_write(vmo, "x", TU_PAGE, 1)); /* commits one page under the mapping */
    ASSERT_OK(zx_vmo_write(vmo, "y", 0, 1));       /* and one outside it */
    long n = read_maps(zx_process_self());
    const zx_info_maps_t *m = find_map(n, a);
    ASSERT_NONNULL(m);
    EXPECT_STR_EQ(m->name, name);
    EXPECT_EQ(m->base, a);
    EXPECT_EQ(m->size, 2 * TU_PAGE);
    EXPECT_EQ(m->u.mapping.mmu_flags, ZX_VM_PERM_READ);
    EXPECT_EQ(m->u.mapping.vmo_koid, koid_of(vmo));
    EXPECT_EQ(m->u.mapping.vmo_offset, TU_PAGE);
    EXPECT_EQ(m->u.mapping.committed_bytes, TU_PAGE);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), a, 2 * TU_PAGE));
    n = read_maps(zx_process_self());
    EXPECT_NULL(find_map(n, a));
    zx_handle_close(vmo);
}

/* Protecting the middle page of three shows three records with their own flags. */
TEST(InfoMaps, MappingRecordAttributesSharedPages) {
    /* A mapping record counts the VMO pages under it as ZX_INFO_VMO does: pages shared
     * with a copy-on-write relative count in full, in private only when no other VMO
     * reads them, and half in scaled when one other does. */
    zx_handle_t vmo, child;
    ASSERT_OK(zx_vmo_create(4 * TU_PAGE, 0, &vmo));
    for (uint64_t i = 0; i < 4; i++)
        ASSERT_OK(zx_vmo_write(vmo, "v", i * TU_PAGE, 1));
    ASSERT_OK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * TU_PAGE, &child));
    zx_vaddr_t a;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, TU_PAGE, 3 * TU_PAGE, &a));
    long n = read_maps(zx_process_self());
    const zx_info_maps_t *m = find_map(n, a);
    ASSERT_NONNULL(m);
    /* pages 1, 2, 3 of the VMO: page 1 shared with the child, 2 and 3 not */
    EXPECT_EQ(m->u.mapping.committed_bytes, 3 * TU_PAGE);
    EXPECT_EQ(m->u.mapping.populated_bytes, 3 * TU_PAGE);
    EXPECT_EQ(m->u.mapping.committed_private_bytes, 2 * TU_PAGE);
    EXPECT_EQ(m->u.mapping.committed_scaled_bytes, 2 * TU_PAGE + TU_PAGE / 2);
    EXPECT_EQ(m->u.mapping.committed_fractional_scaled_bytes, 0u);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), a, 3 * TU_PAGE));
    zx_handle_close(child);
    zx_handle_close(vmo);
}

TEST(InfoMaps, ProtectSplitsRecords) {
    zx_vaddr_t a = tu_map_new(3 * TU_PAGE, RW, NULL);
    ASSERT_NE(a, 0u);
    ASSERT_OK(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a + TU_PAGE, TU_PAGE));
    long n = read_maps(zx_process_self());
    const zx_info_maps_t *l = find_map(n, a), *m = find_map(n, a + TU_PAGE),
                         *r = find_map(n, a + 2 * TU_PAGE);
    ASSERT_NONNULL(l);
    ASSERT_NONNULL(m);
    ASSERT_NONNULL(r);
    EXPECT_EQ(l->size, TU_PAGE);
    EXPECT_EQ(l->u.mapping.mmu_flags, RW);
    EXPECT_EQ(m->base, a + TU_PAGE);
    EXPECT_EQ(m->u.mapping.mmu_flags, ZX_VM_PERM_READ);
    EXPECT_EQ(m->u.mapping.vmo_offset, TU_PAGE);
    EXPECT_EQ(r->u.mapping.vmo_offset, 2 * TU_PAGE);
    EXPECT_EQ(r->u.mapping.mmu_flags, RW);
    /* Protecting back merges them again. */
    ASSERT_OK(zx_vmar_protect(zx_vmar_root_self(), RW, a + TU_PAGE, TU_PAGE));
    n = read_maps(zx_process_self());
    l = find_map(n, a);
    ASSERT_NONNULL(l);
    EXPECT_EQ(l->size, 3 * TU_PAGE);
    EXPECT_OK(zx_vmar_unmap(zx_vmar_root_self(), a, 3 * TU_PAGE));
}

TEST(InfoMaps, ActualAndAvail) {
    long n = read_maps(zx_process_self());
    ASSERT_GT(n, 2);
    size_t actual = 99, avail = 0;
    EXPECT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, NULL, 0, &actual,
                                 &avail));
    EXPECT_EQ(actual, 0u);
    EXPECT_EQ(avail, (size_t)n);
    zx_info_maps_t two[2];
    EXPECT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, two,
                                 sizeof(two) + sizeof(two[0]) - 1, &actual, &avail));
    EXPECT_EQ(actual, 2u);
    EXPECT_EQ(avail, (size_t)n);
    EXPECT_EQ(two[0].type, ZX_INFO_MAPS_TYPE_ASPACE);
    EXPECT_EQ(two[1].base, 0x200000u);
    /* Both counters are optional. */
    EXPECT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, two, sizeof(two),
                                 NULL, NULL));
}

TEST(InfoMaps, Errors) {
    zx_handle_t weak, vmo;
    ASSERT_OK(zx_handle_duplicate(zx_process_self(), ZX_RIGHT_SAME_RIGHTS & ~ZX_RIGHT_INSPECT &
                                                         ZX_DEFAULT_PROCESS_RIGHTS,
                                  &weak));
    EXPECT_STATUS(zx_object_get_info(weak, ZX_INFO_PROCESS_MAPS, g_maps, sizeof(g_maps), NULL,
                                     NULL),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_get_info(weak, ZX_INFO_PROCESS_VMOS, g_maps, sizeof(g_maps), NULL,
                                     NULL),
                  ZX_ERR_ACCESS_DENIED);
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &vmo));
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_PROCESS_MAPS, g_maps, sizeof(g_maps), NULL,
                                     NULL),
                  ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_get_info(zx_vmar_root_self(), ZX_INFO_PROCESS_VMOS, g_maps,
                                     sizeof(g_maps), NULL, NULL),
                  ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_PROCESS_MAPS, g_maps, sizeof(g_maps), NULL,
                                     NULL),
                  ZX_ERR_WRONG_TYPE);
    zx_handle_close(vmo);
    EXPECT_STATUS(zx_object_get_info(vmo, ZX_INFO_PROCESS_MAPS, g_maps, sizeof(g_maps), NULL,
                                     NULL),
                  ZX_ERR_BAD_HANDLE);
    /* Bad buffers and counters. */
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS,
                                     (void *)0xffffffff80000000ull, 4096, NULL, NULL),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, (void *)0x1000,
                                     4096, NULL, NULL),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, g_maps,
                                     sizeof(g_maps), (size_t *)0x1000, NULL),
                  ZX_ERR_INVALID_ARGS);
    zx_handle_close(weak);
}

/* A process of ours: its maps show what we map into it; once dead: BAD_STATE. */
TEST(InfoMaps, OtherProcessAndDeadProcess) {
    zx_handle_t proc, vmar, vmo;
    ASSERT_OK(zx_process_create(zx_job_default(), "maps-child", 10, 0, &proc, &vmar));
    long n = read_maps(proc);
    ASSERT_EQ(n, 2); /* nothing mapped yet */
    ASSERT_OK(zx_vmo_create(2 * TU_PAGE, 0, &vmo));
    zx_vaddr_t a;
    ASSERT_OK(zx_vmar_map(vmar, ZX_VM_PERM_READ, 0, vmo, 0, 2 * TU_PAGE, &a));
    n = read_maps(proc);
    ASSERT_EQ(n, 3);
    EXPECT_EQ(g_maps[2].base, a);
    EXPECT_EQ(g_maps[2].depth, 2u);
    EXPECT_EQ(g_maps[2].u.mapping.vmo_koid, koid_of(vmo));
    /* Its VMOs: only the mapped one (the child holds no handles). */
    zx_info_vmo_t v[4];
    size_t actual = 0, avail = 0;
    EXPECT_OK(zx_object_get_info(proc, ZX_INFO_PROCESS_VMOS, v, sizeof(v), &actual, &avail));
    EXPECT_EQ(actual, 1u);
    EXPECT_EQ(avail, 1u);
    EXPECT_EQ(v[0].koid, koid_of(vmo));
    EXPECT_EQ(v[0].flags & (ZX_INFO_VMO_VIA_HANDLE | ZX_INFO_VMO_VIA_MAPPING),
              ZX_INFO_VMO_VIA_MAPPING);
    EXPECT_OK(zx_task_kill(proc));
    EXPECT_OK(zx_object_wait_one(proc, ZX_TASK_TERMINATED, zx_deadline_after(10 * TU_SEC), NULL));
    EXPECT_STATUS(zx_object_get_info(proc, ZX_INFO_PROCESS_MAPS, g_maps, sizeof(g_maps), NULL,
                                     NULL),
                  ZX_ERR_BAD_STATE);
    EXPECT_STATUS(zx_object_get_info(proc, ZX_INFO_PROCESS_VMOS, v, sizeof(v), NULL, NULL),
                  ZX_ERR_BAD_STATE);
    zx_handle_close(vmo);
    zx_handle_close(vmar);
    zx_handle_close(proc);
}

static zx_info_vmo_t g_vmos[MAX_MAPS];

/* Records of koid in g_vmos[0..n) with flag (VIA_HANDLE / VIA_MAPPING). */
static int count_vmo(size_t n, zx_koid_t koid, uint32_t flag, const zx_info_vmo_t **last) {
    int c = 0;
    for (size_t i = 0; i < n; i++)
        if (g_vmos[i].koid == koid && (g_vmos[i].flags & flag)) {
            c++;
            *last = &g_vmos[i];
        }
    return c;
}

TEST(InfoVmos, HandlesThenMappings) {
    zx_handle_t held, mapped;
    ASSERT_OK(zx_vmo_create(3 * TU_PAGE, 0, &held));
    ASSERT_OK(zx_vmo_create(TU_PAGE, 0, &mapped));
    zx_handle_t weak;
    ASSERT_OK(zx_handle_duplicate(held, ZX_RIGHT_READ | ZX_RIGHT_MAP, &weak));
    zx_vaddr_t a, b;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), RW, 0, mapped, 0, TU_PAGE, &a));
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, held, 0, TU_PAGE, &b));
    zx_koid_t mapped_koid = koid_of(mapped);
    zx_handle_close(mapped); /* now reachable through its mapping only */
    size_t actual = 0, avail = 0;
    ASSERT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, g_vmos,
                                 sizeof(g_vmos), &actual, &avail));
    ASSERT_EQ(actual, avail);
    const zx_info_vmo_t *r = NULL;
    /* held: two handles (different rights) and one mapping. */
    EXPECT_EQ(count_vmo(actual, koid_of(held), ZX_INFO_VMO_VIA_HANDLE, &r), 2);
    EXPECT_EQ(count_vmo(actual, koid_of(held), ZX_INFO_VMO_VIA_MAPPING, &r), 1);
    EXPECT_EQ(r->size_bytes, 3 * TU_PAGE);
    EXPECT_EQ(count_vmo(actual, mapped_koid, ZX_INFO_VMO_VIA_HANDLE, &r), 0);
    EXPECT_EQ(count_vmo(actual, mapped_koid, ZX_INFO_VMO_VIA_MAPPING, &r), 1);
    EXPECT_EQ(r->handle_rights, 0u);
    bool weak_seen = false;
    for (size_t i = 0; i < actual; i++)
        if (g_vmos[i].koid == koid_of(held) && g_vmos[i].handle_rights == (ZX_RIGHT_READ | ZX_RIGHT_MAP))
            weak_seen = true;
    EXPECT_TRUE(weak_seen);
    /* Handle records come before mapping records. */
    bool in_mappings = false;
    for (size_t i = 0; i < actual; i++) {
        if (g_vmos[i].flags & ZX_INFO_VMO_VIA_MAPPING)
            in_mappings = true;
        else
            EXPECT_FALSE(in_mappings);
    }
    /* A short buffer: as many as fit, avail unchanged. */
    size_t a1 = 0, av1 = 0;
    EXPECT_OK(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, g_vmos,
                                 sizeof(zx_info_vmo_t), &a1, &av1));
    EXPECT_EQ(a1, 1u);
    EXPECT_EQ(av1, avail);
    zx_vmar_unmap(zx_vmar_root_self(), a, TU_PAGE);
    zx_vmar_unmap(zx_vmar_root_self(), b, TU_PAGE);
    zx_handle_close(weak);
    zx_handle_close(held);
}
