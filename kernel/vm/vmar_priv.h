/*
 * Private to the VMAR layer (vm_aspace.c, vmar.c, vm_mapping.c): the layouts of
 * aspaces, VMARs and mappings, and the helpers the three files share.
 *
 * Structure
 *   An aspace owns one arch aspace and a root VMAR. Every VMAR keeps its children
 *   (sub-VMARs and mappings, both `struct vm_region`) in an AVL tree keyed by base
 *   address (struct vm_extent, <vm/vmar_place.h>); children never overlap and lie inside
 *   their parent. A mapping covers [base, base + size) of one VMO from vmo_offset and
 *   carries *protection runs*: a sorted array of {offset, perms}, runs[0].offset == 0,
 *   run i covering [runs[i].offset, runs[i+1].offset) (the last one up to size); equal
 *   neighbours are always merged.
 *
 * Lock rules
 *   - aspace->lock (a mutex) guards the whole VMAR tree of the aspace: every tree, every
 *     region's base/size/parent, every mapping's runs and link fields, and vmar->dead.
 *     Order: aspace -> vmo -> { heap -> pmm, MMU locks }: with the aspace lock held we
 *     call into VMOs (fault_page, for_each_committed), the heap and the MMU.
 *     zx_vmar_op_range's COMMIT and DECOMMIT let go of the aspace lock around the VMO
 *     call (holding a reference on the VMO), since that work may be long and the rest
 *     of the process's VM (its faults) need not wait for it. Nothing in this layer is
 *     called with a VMO lock held except the mappings'
 *     unmap_range op, which reads the mapping's link window and base and calls the MMU
 *     only; those fields therefore change only with the VMO lock held as well
 *     (vmo_lock_mappings). A fault maps its page under the VMO lock (vmo_fault_page), so
 *     a concurrent decommit cannot free the page before it is mapped.
 *   - Reference counts are atomic. A VMAR holds a reference on its aspace; a parent's
 *     tree holds one reference on each child VMAR; the aspace holds one on its root.
 *     Mappings are owned by their parent's tree (one reference, plus any held through
 *     vmar_map_held) and, while alive, hold a reference on their VMO. A unified
 *     aspace holds one on each of its parts until its own struct is freed. The full
 *     table is in docs/architecture.md, "Ownership and teardown".
 */
#ifndef VM_VMAR_PRIV_H
#define VM_VMAR_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/mmu.h>
#include <kernel/compiler.h>
#include <kernel/mutex.h>
#include <kernel/types.h>
#include <vm/vm_aspace.h>
#include <vm/vmo.h>
#include <vm/vmar_place.h>
#include <vm/vmar.h>

#define VM_PERM_RWX (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE)
#define VM_CAN_MAP_RWX (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE)
/* CAN_MAP_x == PERM_x << VM_CAN_MAP_SHIFT. */
#define VM_CAN_MAP_SHIFT 7
STATIC_ASSERT(ZX_VM_CAN_MAP_READ == ZX_VM_PERM_READ << VM_CAN_MAP_SHIFT);
STATIC_ASSERT(ZX_VM_CAN_MAP_EXECUTE == ZX_VM_PERM_EXECUTE << VM_CAN_MAP_SHIFT);

/* Option bits 0..15 are defined (ZIRCON_ABI.md §3); 16..23 are not; 24..31 align. */
#define VM_OPT_KNOWN ((zx_vm_option_t)0xffffu)
/* Defined bits that zx_vmar_allocate rejects early (step 2) and those it accepts. */
#define VM_OPT_ALLOCATE_FORBIDDEN \
    (ZX_VM_MAP_RANGE | ZX_VM_REQUIRE_NON_RESIZABLE | ZX_VM_ALLOW_FAULTS)
#define VM_OPT_ALLOCATE_ALLOWED                                                        \
    (ZX_VM_SPECIFIC | ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_COMPACT | VM_CAN_MAP_RWX |       \
     ZX_VM_OFFSET_IS_UPPER_LIMIT)
#define VM_ALIGN_LOG2_MIN 10
#define VM_ALIGN_LOG2_MAX 32

/* The alignment an option word asks for (at least a page). INVALID_ARGS for an
 * exponent outside VM_ALIGN_LOG2_MIN..MAX (0 = none requested). */
static inline zx_status_t vm_opt_align(zx_vm_option_t o, uint64_t *align) {
    uint32_t e = (o & ZX_VM_ALIGN_MASK) >> ZX_VM_ALIGN_BASE;
    if (e == 0) {
        *align = PAGE_SIZE;
        return ZX_OK;
    }
    if (e < VM_ALIGN_LOG2_MIN || e > VM_ALIGN_LOG2_MAX)
        return ZX_ERR_INVALID_ARGS;
    *align = MAX(1ull << e, (uint64_t)PAGE_SIZE);
    return ZX_OK;
}

/* Most protection runs one mapping keeps; a protect that would need more splits it. */
#define VM_PROT_RUNS_MAX 8

/* vm_aspace.magic of a live aspace struct; a freed one is poisoned (debug builds). */
#define VM_ASPACE_MAGIC 0x61737063u /* 'aspc' */

struct vm_aspace {
    mutex_t lock;
    uint32_t magic;         /* VM_ASPACE_MAGIC until freed */
    uint32_t refcount;      /* atomic */
    uint64_t serial;        /* immutable: unique per aspace ever created, never reused */
    arch_aspace_t *arch;    /* immutable */
    vmar_t *root;        /* immutable until vm_aspace_destroy */
    vaddr_t base;           /* immutable */
    size_t size;            /* immutable */
    bool user;              /* immutable: mappings get ARCH_MMU_FLAG_PERM_USER */
    bool destroyed;         /* guarded by lock */
    /* A unified aspace (vm_aspace_create_unified) has no VMARs of its own: root is NULL
     * and faults and lookups go to `restricted` (below shared->base) or `shared`. It holds
     * a reference on each from creation until its own struct is freed (not merely
     * destroyed), so a caller holding the unified aspace can always follow these; after
     * teardown they lead to destroyed parts (BAD_STATE). The serials let debug builds
     * check that a part is still the aspace it was. NULL / 0 for every other aspace.
     * Immutable. */
    vm_aspace_t *shared;
    vm_aspace_t *restricted;
    uint64_t shared_serial, restricted_serial;
    uint64_t prng;          /* guarded by lock: placement randomness */
    char name[ZX_MAX_NAME_LEN];
};

enum vm_region_type {
    VM_REGION_VMAR,
    VM_REGION_MAPPING,
};

/* What VMARs and mappings have in common: their place in the parent's tree. */
struct vm_region {
    struct vm_extent ext;     /* ext.node.key = base; ext.size */
    enum vm_region_type type;
    vmar_t *parent;        /* NULL for a root or after removal */
    vm_aspace_t *aspace;      /* immutable */
};

struct vmar {
    struct vm_region r;
    uint32_t refcount;        /* atomic */
    zx_vm_option_t flags;     /* CAN_MAP_* and COMPACT; immutable */
    struct avl_tree children; /* struct vm_region, by base */
    bool dead;                /* destroyed: every operation is BAD_STATE */
};

struct vm_prot_run {
    uint64_t offset;          /* from the mapping's base */
    zx_vm_option_t perms;     /* ZX_VM_PERM_* */
};

/*
 * A mapping is owned by its parent's tree (one reference) and freed when that reference
 * and every held one (vmar_map_held) are gone. Once it leaves the tree for good
 * (unmapped, merged into a neighbour, destroyed with its VMAR) it is `dead`: its
 * translations, link and VMO reference are gone and only its struct remains for holders,
 * who may read r.aspace and `dead` (under the aspace lock) and nothing else.
 */
struct vm_mapping {
    struct vm_region r;
    uint32_t refcount;         /* atomic: the tree's (while alive) + held ones */
    bool dead;                 /* guarded by the aspace lock */
    vmo_t *vmo;          /* a reference while alive; immutable */
    uint64_t vmo_offset;       /* VMO offset of base */
    zx_vm_option_t max_perms;  /* fixed at map time */
    struct vmo_mapping_link link;
    uint32_t nruns;
    struct vm_prot_run runs[VM_PROT_RUNS_MAX];
};

static inline vaddr_t vm_region_base(const struct vm_region *r) { return r->ext.node.key; }
static inline size_t vm_region_size(const struct vm_region *r) { return r->ext.size; }
static inline vaddr_t vm_region_end(const struct vm_region *r) { return r->ext.node.key + r->ext.size; }
static inline struct vm_region *vm_region_of(struct vm_extent *e) {
    return e ? containerof(e, struct vm_region, ext) : NULL;
}
static inline vmar_t *vm_region_to_vmar(struct vm_region *r) {
    return containerof(r, vmar_t, r);
}
static inline vm_mapping_t *vm_region_to_mapping(struct vm_region *r) {
    return containerof(r, vm_mapping_t, r);
}

/* True if [addr, addr + len) lies inside region r (len > 0). */
static inline bool vm_region_contains_range(const struct vm_region *r, vaddr_t addr, size_t len) {
    return addr >= vm_region_base(r) && len <= vm_region_size(r) &&
           addr - vm_region_base(r) <= vm_region_size(r) - len;
}

/* vm_aspace.c */
void vm_aspace_ref(vm_aspace_t *as);
void vm_aspace_unref(vm_aspace_t *as);
/* The shared or restricted part of a unified aspace (the caller holds the unified one, so
 * the part's struct lives; it may be destroyed). */
vm_aspace_t *vm_aspace_unified_part(vm_aspace_t *as, bool shared);

/* vmar.c */
vmar_t *vmar_create_root(vm_aspace_t *as);
/* Destroys vmar's subtree and the vmar itself (see vmar_destroy); lock held. Works
 * without recursion, so any nesting depth is fine. */
void vmar_destroy_locked(vmar_t *vmar);
/*
 * Pre-order walk of the regions below `top`, without recursion (VMARs nest as deep as
 * user space likes): returns the region after r (r NULL: the first child of top), going
 * into r's children first when r is a VMAR, NULL once the walk leaves top's subtree.
 * *depth goes up by one for each level the walk goes down and down by one for each level
 * it comes back up. Aspace lock held, and the tree unchanged between calls.
 */
struct vm_region *vmar_walk_next(vmar_t *top, struct vm_region *r, unsigned *depth);
/* The mapping containing addr among vmar and its descendants, or NULL (a gap). *depth
 * (if non-NULL) = 0 for a direct child of vmar, 1 for a grandchild, ... */
vm_mapping_t *vmar_find_mapping(vmar_t *vmar, vaddr_t addr, unsigned *depth);
void vm_region_reinsert(struct vm_region *r, vaddr_t new_base, size_t new_size);

/* vm_mapping.c */
/* A zeroed mapping holding the one reference its tree will own; NULL without memory. */
vm_mapping_t *vm_mapping_alloc(void);
/* Frees a mapping from vm_mapping_alloc that was never installed. */
void vm_mapping_free_unused(vm_mapping_t *m);
/* Takes one more reference (a holder's); m must be alive and the aspace lock held. */
void vm_mapping_hold_locked(vm_mapping_t *m);
/* Fills m and inserts it into parent (the range must be free); takes a VMO reference
 * and registers the link. Cannot fail. */
void vm_mapping_install(vm_mapping_t *m, vmar_t *parent, vaddr_t base, size_t size,
                        vmo_t *vmo, uint64_t vmo_offset, zx_vm_option_t perms,
                        zx_vm_option_t max_perms);
/* Removes translations, the link, the VMO reference and the tree entry; m becomes dead
 * and the tree's reference goes (freeing m unless someone holds it). */
void vm_mapping_destroy(vm_mapping_t *m);
/* Unmaps [a, b) (inside m, page-aligned). If [a, b) is strictly inside m, spare (not
 * NULL) becomes the right part; otherwise spare is not used. */
void vm_mapping_unmap_part(vm_mapping_t *m, vaddr_t a, vaddr_t b, vm_mapping_t *spare);
/* True if unmapping [a, b) from m needs a spare mapping. */
bool vm_mapping_unmap_needs_spare(const vm_mapping_t *m, vaddr_t a, vaddr_t b);
zx_vm_option_t vm_mapping_perms_at(const vm_mapping_t *m, vaddr_t va);
/* True if every run overlapping [a, b) has perms that include `perms` (no raise). */
bool vm_mapping_perms_cover(const vm_mapping_t *m, vaddr_t a, vaddr_t b, zx_vm_option_t perms);
/* Spares (0..2) needed to protect [a, b) of m. */
unsigned vm_mapping_protect_spares(const vm_mapping_t *m, vaddr_t a, vaddr_t b,
                                   zx_vm_option_t perms);
/* Protects [a, b) of m, taking spares from *spares (advancing it) as counted above. */
zx_status_t vm_mapping_protect(vm_mapping_t *m, vaddr_t a, vaddr_t b, zx_vm_option_t perms,
                               vm_mapping_t ***spares);
/* Pre-populates translations of committed pages in [a, b) of m (MAP_RANGE). */
zx_status_t vm_mapping_populate(vm_mapping_t *m, vaddr_t a, vaddr_t b);
/* Arch flags for perms in m (must include READ). */
uint32_t vm_mapping_arch_flags(const vm_mapping_t *m, zx_vm_option_t perms);
/* Merges m with its neighbours in the parent where possible (same VMO, contiguous
 * offsets, same max perms, runs fit). Returns the surviving mapping. */
vm_mapping_t *vm_mapping_try_merge(vm_mapping_t *m);

#endif
