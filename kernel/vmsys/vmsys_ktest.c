/*
 * In-kernel tests of the VMO/VMAR dispatchers (test=vmsys): object creation and
 * destruction, names, content size, child bookkeeping (ZX_VMO_ZERO_CHILDREN), the
 * ZX_INFO_VMO / ZX_INFO_VMAR fillers and the rights rules. The syscalls themselves need
 * a user process and are tested from user space.
 */
#include <arch/mmu.h>
#include <kernel/ktest.h>
#include <kernel/console.h>
#include <lib/string.h>
#include <object/vmar_dispatcher.h>
#include <object/vmo_dispatcher.h>
#include <vm/vm_aslr.h>
#include <vm/vm_aspace.h>
#include "vmsys_priv.h"
#include "vmsys_rules.h"

#define P ((uint64_t)PAGE_SIZE)
#define TEST_BASE 0x200000ull
#define TEST_SIZE ((1ull << 47) - 4096 - TEST_BASE)

/* Under PMM failure injection an allocation may fail: the test is then skipped (the
 * failure paths themselves are the VM's and its tests'). */
#define SKIP_IF_NO_MEMORY(st)                                                         \
    do {                                                                              \
        if ((st) == ZX_ERR_NO_MEMORY) {                                               \
            printf("    skipped at %s:%d: out of memory\n", __FILE__, __LINE__);      \
            goto out;                                                                 \
        }                                                                             \
    } while (0)

KTEST(vmsys, vmo_dispatcher_basics) {
    vmo_t *vmo;
    kobject_t *obj = NULL;
    zx_status_t st = vmo_create_paged(3 * P, VMO_OPT_RESIZABLE, &vmo);
    SKIP_IF_NO_MEMORY(st);
    ASSERT_OK(st);
    st = vmo_dispatcher_create(vmo, &obj);
    vmo_unref(vmo); /* the object holds its own reference */
    SKIP_IF_NO_MEMORY(st);
    ASSERT_OK(st);
    EXPECT_EQ(kobject_type(obj), ZX_OBJ_TYPE_VMO);
    EXPECT_GE(obj->koid, ZX_KOID_FIRST);
    EXPECT_EQ(vmo_dispatcher_vmo(obj), vmo);
    EXPECT_TRUE(obj->signals & ZX_VMO_ZERO_CHILDREN);
    EXPECT_EQ(vmo_dispatcher_get_content_size(obj), 3 * P);
    EXPECT_STATUS(vmo_dispatcher_set_content_size(obj, 3 * P + 1), ZX_ERR_OUT_OF_RANGE);
    EXPECT_OK(vmo_dispatcher_set_content_size(obj, 5));
    EXPECT_EQ(vmo_dispatcher_get_content_size(obj), 5u);

    char name[ZX_MAX_NAME_LEN];
    EXPECT_OK(vmo_dispatcher_get_name(obj, name));
    EXPECT_EQ(name[0], '\0');
    const char *longname = "0123456789abcdef0123456789abcdefXYZ";
    EXPECT_OK(vmo_dispatcher_set_name(obj, longname, strlen(longname)));
    EXPECT_OK(vmo_dispatcher_get_name(obj, name));
    EXPECT_EQ(strnlen(name, ZX_MAX_NAME_LEN), ZX_MAX_NAME_LEN - 1);
    EXPECT_EQ(memcmp(name, longname, ZX_MAX_NAME_LEN - 1), 0);
    EXPECT_OK(vmo_dispatcher_set_name(obj, "ab\0cd", 5)); /* stops at the NUL */
    EXPECT_OK(vmo_dispatcher_get_name(obj, name));
    EXPECT_EQ(memcmp(name, "ab\0\0\0", 5), 0);

    st = vmo_commit(vmo, P, P);
    SKIP_IF_NO_MEMORY(st);
    EXPECT_OK(st);
    zx_info_vmo_t info;
    vmo_dispatcher_info(obj, 0xD0EFu, &info);
    EXPECT_EQ(info.koid, obj->koid);
    EXPECT_EQ(info.size_bytes, 3 * P);
    EXPECT_EQ(info.parent_koid, 0u);
    EXPECT_EQ(info.num_children, 0u);
    EXPECT_EQ(info.num_mappings, 0u);
    EXPECT_EQ(info.flags, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_RESIZABLE | ZX_INFO_VMO_VIA_HANDLE);
    EXPECT_EQ(info.committed_bytes, P);
    EXPECT_EQ(info.handle_rights, 0xD0EFu);
    EXPECT_EQ(info.cache_policy, ZX_CACHE_POLICY_CACHED);
    EXPECT_EQ(memcmp(info.name, "ab", 3), 0);
out:
    if (obj)
        kobject_unref(obj); /* frees the VMO too: the runner's leak check covers it */
}

KTEST(vmsys, vmo_dispatcher_children) {
    vmo_t *vmo = NULL, *snap = NULL, *slice = NULL;
    kobject_t *parent = NULL, *c1 = NULL, *c2 = NULL;
    zx_status_t st = vmo_create_paged(4 * P, 0, &vmo);
    if (st == ZX_OK)
        st = vmo_dispatcher_create(vmo, &parent);
    if (st == ZX_OK)
        st = vmo_create_child(vmo, VMO_CHILD_SNAPSHOT, 0, 2 * P, &snap);
    if (st == ZX_OK)
        st = vmo_create_child(vmo, VMO_CHILD_SLICE, P, P, &slice);
    if (st == ZX_OK)
        st = vmo_dispatcher_create_child(parent, snap, ZX_VMO_CHILD_SNAPSHOT, 2 * P - 3, &c1);
    if (st == ZX_OK)
        st = vmo_dispatcher_create_child(parent, slice, ZX_VMO_CHILD_SLICE, P, &c2);
    SKIP_IF_NO_MEMORY(st);
    EXPECT_OK(st);
    if (st == ZX_OK) {
        EXPECT_FALSE(parent->signals & ZX_VMO_ZERO_CHILDREN);
        EXPECT_TRUE(c1->signals & ZX_VMO_ZERO_CHILDREN);
        EXPECT_EQ(vmo_dispatcher_num_children(parent), 2u);
        EXPECT_EQ(vmo_dispatcher_get_content_size(c1), 2 * P - 3);
        zx_info_vmo_t info;
        vmo_dispatcher_info(c1, 0, &info);
        EXPECT_EQ(info.parent_koid, parent->koid);
        EXPECT_TRUE(info.flags & ZX_INFO_VMO_IS_COW_CLONE);
        EXPECT_EQ(info.size_bytes, 2 * P);
        vmo_dispatcher_info(c2, 0, &info);
        EXPECT_FALSE(info.flags & ZX_INFO_VMO_IS_COW_CLONE);
        vmo_dispatcher_info(parent, 0, &info);
        EXPECT_EQ(info.num_children, 2u);
        kobject_unref(c1);
        c1 = NULL;
        EXPECT_FALSE(parent->signals & ZX_VMO_ZERO_CHILDREN);
        kobject_unref(c2);
        c2 = NULL;
        EXPECT_TRUE(parent->signals & ZX_VMO_ZERO_CHILDREN);
        EXPECT_EQ(vmo_dispatcher_num_children(parent), 0u);
    }
out:
    if (c1)
        kobject_unref(c1);
    if (c2)
        kobject_unref(c2);
    if (snap)
        vmo_unref(snap);
    if (slice)
        vmo_unref(slice);
    if (parent)
        kobject_unref(parent);
    if (vmo)
        vmo_unref(vmo);
}

/* The parent object outlives its last handle while a child exists (the child's
 * reference), so num_children / ZERO_CHILDREN stay meaningful for grandchildren. */
KTEST(vmsys, vmo_dispatcher_child_keeps_parent) {
    vmo_t *vmo = NULL, *snap = NULL;
    kobject_t *parent = NULL, *child = NULL;
    zx_status_t st = vmo_create_paged(P, 0, &vmo);
    if (st == ZX_OK)
        st = vmo_dispatcher_create(vmo, &parent);
    if (st == ZX_OK)
        st = vmo_create_child(vmo, VMO_CHILD_SNAPSHOT, 0, P, &snap);
    if (st == ZX_OK)
        st = vmo_dispatcher_create_child(parent, snap, ZX_VMO_CHILD_SNAPSHOT, P, &child);
    SKIP_IF_NO_MEMORY(st);
    EXPECT_OK(st);
    if (st == ZX_OK) {
        EXPECT_EQ(parent->refs, 2u);
        kobject_unref(parent);
        EXPECT_EQ(parent->refs, 1u);
        parent = NULL;
    }
out:
    if (parent)
        kobject_unref(parent);
    if (child)
        kobject_unref(child); /* drops the parent too */
    if (snap)
        vmo_unref(snap);
    if (vmo)
        vmo_unref(vmo);
}

KTEST(vmsys, vmar_dispatcher) {
    vm_aspace_t *as;
    zx_status_t st = vm_aspace_create(ARCH_ASPACE_INDEPENDENT, TEST_BASE, TEST_SIZE,
                                      "vmsys-test", vm_aslr_kernel_seed(), &as);
    if (st == ZX_ERR_NO_MEMORY)
        return;
    ASSERT_OK(st);
    vmar_t *root = vm_aspace_root_vmar(as);
    kobject_t *robj = NULL, *cobj = NULL;
    vmar_t *child = NULL;
    zx_rights_t rights = 0;
    st = vmar_dispatcher_create(root, vmar_flags(root), &robj, &rights);
    SKIP_IF_NO_MEMORY(st);
    EXPECT_OK(st);
    if (st == ZX_OK) {
        EXPECT_EQ(kobject_type(robj), ZX_OBJ_TYPE_VMAR);
        EXPECT_EQ(rights, 0x20801Fu);
        EXPECT_EQ(vmar_dispatcher_vmar(robj), root);
        zx_info_vmar_t info;
        vmar_dispatcher_info(robj, &info);
        EXPECT_EQ(info.base, TEST_BASE);
        EXPECT_EQ(info.len, TEST_SIZE);
        vaddr_t base;
        zx_vm_option_t opts = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_SPECIFIC;
        st = vmar_allocate(root, 0, 16 * P, opts, &child, &base);
        if (st == ZX_OK)
            st = vmar_dispatcher_create(child, opts | ZX_VM_COMPACT, &cobj, &rights);
        SKIP_IF_NO_MEMORY(st);
        EXPECT_OK(st);
        if (st == ZX_OK) {
            EXPECT_EQ(rights, 0x208007u);
            EXPECT_EQ(vmar_dispatcher_can_map(cobj), opts);
            vmar_dispatcher_info(cobj, &info);
            EXPECT_EQ(info.base, base);
            EXPECT_EQ(info.len, 16 * P);
            /* Destroy through the VM; the object keeps the dead VMAR alive. */
            EXPECT_OK(vmar_destroy(child));
            EXPECT_TRUE(vmar_is_dead(vmar_dispatcher_vmar(cobj)));
            vmar_dispatcher_info(cobj, &info);
            EXPECT_EQ(info.base, base);
        }
    }
out:
    if (child)
        vmar_unref(child);
    if (cobj)
        kobject_unref(cobj);
    if (robj)
        kobject_unref(robj);
    vm_aspace_destroy(as);
}

KTEST(vmsys, rights_rules) {
    EXPECT_EQ(vmsys_vmo_create_rights(0), 0xD0EFu);
    EXPECT_EQ(vmsys_vmo_create_rights(ZX_VMO_RESIZABLE), 0x40D0EFu);
    EXPECT_EQ(vmsys_vmar_rights(0), 0x208003u);
    EXPECT_EQ(vmsys_vmar_rights(ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE |
                                ZX_VM_CAN_MAP_EXECUTE | ZX_VM_CAN_MAP_SPECIFIC),
              0x20801Fu);
    zx_rights_t exec_vmo = 0xD0EFu | ZX_RIGHT_EXECUTE | ZX_RIGHT_RESIZE;
    EXPECT_EQ(vmsys_vmo_child_rights(exec_vmo, ZX_VMO_CHILD_SLICE),
              exec_vmo & ~ZX_RIGHT_RESIZE);
    EXPECT_EQ(vmsys_vmo_child_rights(exec_vmo, ZX_VMO_CHILD_SNAPSHOT), 0xD0EFu);
    EXPECT_EQ(vmsys_vmo_child_rights(0xD0E7u, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE),
              0xD0E7u);
    EXPECT_EQ(vmsys_map_max_perms(0x20801Fu, 0xD0EFu), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE);
    EXPECT_STATUS(vmsys_vmar_allocate_check_rights(ZX_VM_CAN_MAP_EXECUTE, 0x20800Fu),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(vmsys_vmar_op_check(ZX_VMAR_OP_COMMIT, 0x208007u, 0, 0), ZX_ERR_ACCESS_DENIED);
}
