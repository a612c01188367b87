/*
 * Kernel heap: a slab allocator over single PMM pages, plus page runs for big requests.
 *
 * Small requests (1 .. HEAP_MAX_SLAB_SIZE bytes) are rounded up to a power-of-two size
 * class. Each slab is one page holding objects of one class only; all of its bookkeeping
 * lives in the page's vm_page (state HEAP):
 *   heap.size_class  class index
 *   heap.in_use      objects handed out from this page
 *   heap.free_list   first free object; free objects are chained through their first word
 * Slabs with at least one free object are kept on their class's partial list (linked
 * through vm_page.node). A slab whose last object is freed becomes its class's spare if
 * the class has none, and otherwise goes back to the PMM: so the heap holds at most one
 * empty page per class (HEAP_NUM_CLASSES pages in all), and an object created and
 * destroyed over and over costs no PMM round trip (page allocation, object threading and
 * the free) when it happens to be the only one on its slab. heap_trim gives the spares
 * back, for whoever counts free pages exactly (the in-kernel tests' leak check, the
 * kernel memory statistics).
 *
 * Large requests take a contiguous PMM run. The first page records the run length
 * (size_class HEAP_CLASS_LARGE, npages); the others are marked HEAP_CLASS_LARGE_TAIL so
 * that kfree of a pointer into the middle of the run is caught.
 *
 * kfree finds the vm_page of a pointer through the physmap, so it needs no header in
 * front of objects. Double frees of slab objects are caught by a poison word: every free
 * object carries FREE_POISON in its second word, cleared again on allocation. If a freed
 * pointer still carries the poison, the slab's free list is walked to confirm (a live
 * object could hold that value by chance).
 *
 * Use-after-free hunting (kernel.heap-poison=true, heap_set_poison): every free slab
 * object of 32 bytes or more is filled with HEAP_POISON_BYTE from its third word to its
 * last, and its last word records who freed it. An allocation checks the fill before it
 * hands the object out, so a write into freed memory (a reference dropped on a dead
 * object, say) panics at the next allocation of that object with the offset, the value
 * found and the freeing pc; a read of a freed object's fields sees the poison pattern,
 * which is not a valid pointer. Freed objects also wait in a quarantine of the last
 * HEAP_QUARANTINE_SLOTS frees before they go back to their slabs, so a stale pointer keeps
 * seeing the fill, and heap_describe (panic reports) can name the pc that freed the object
 * a register points into.
 *
 * Locking: heap_lock (irqsave) guards the partial lists, the counters and the heap fields
 * of every HEAP page. New slab pages are taken from the PMM with heap_lock held (the PMM
 * lock nests inside it); pages are given back after heap_lock is dropped, since by then
 * nothing in the heap refers to them. Panics for bad frees are raised after unlocking.
 */
#include <phys/heap.h>

#include <stdint.h>
#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/spinlock.h>
#include <kernel/types.h>
#include <lib/list.h>
#include <lib/string.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <phys/vm_page.h>
#ifndef BERYL_HOST
#include <kernel/ksyms.h>
#include <lib/printf.h>
#endif

#define HEAP_MIN_SHIFT 4                                  /* smallest class: 16 bytes */
#define HEAP_MAX_SHIFT 11                                 /* largest class: 2 KiB */
#define HEAP_NUM_CLASSES (HEAP_MAX_SHIFT - HEAP_MIN_SHIFT + 1)
#define HEAP_MAX_SLAB_SIZE ((size_t)1 << HEAP_MAX_SHIFT)
#define HEAP_CLASS_LARGE 0xffffu      /* first page of a large run */
#define HEAP_CLASS_LARGE_TAIL 0xfffeu /* any other page of a large run */

/* Written into the second word of every free slab object. */
#define FREE_POISON 0xdeadf7eeb10cf7eeull
/* With heap_set_poison(true): the fill of the rest of a free object (see the top). */
#define HEAP_POISON_BYTE 0x6b
#define HEAP_POISON_WORD (0x0101010101010101ull * HEAP_POISON_BYTE)
/* Objects smaller than this have no room for the fill and the freeing pc. */
#define HEAP_POISON_MIN_SIZE 32u
/* With poisoning on, this many freed slab objects wait before they can be reused. */
#define HEAP_QUARANTINE_SLOTS 2048u

STATIC_ASSERT(HEAP_MAX_SLAB_SIZE <= PAGE_SIZE);
STATIC_ASSERT(HEAP_NUM_CLASSES < HEAP_CLASS_LARGE_TAIL);

/* Layout of a free object; the smallest class (16 bytes) holds exactly this. */
struct free_obj {
    struct free_obj *next;
    uint64_t poison;
};
STATIC_ASSERT(sizeof(struct free_obj) <= ((size_t)1 << HEAP_MIN_SHIFT));

static spinlock_t heap_lock = SPIN_LOCK_INIT_CLASS(HEAP);
static struct list_node partial[HEAP_NUM_CLASSES] TA_GUARDED(heap_lock);
static size_t bytes_in_use TA_GUARDED(heap_lock);
static size_t pages_held TA_GUARDED(heap_lock);
/* The empty slab kept for each class (NULL: none); on no list, its free list whole. */
static vm_page_t *spare[HEAP_NUM_CLASSES] TA_GUARDED(heap_lock);
/* Set once at boot, before the first allocation (heap_set_poison). */
static bool poison_free;
/* With poisoning on: the most recent frees, oldest at quarantine_next - quarantine_count
 * (a ring), not yet back on their slabs. */
static struct free_obj *quarantine[HEAP_QUARANTINE_SLOTS] TA_GUARDED(heap_lock);
static unsigned quarantine_next TA_GUARDED(heap_lock);
static unsigned quarantine_count TA_GUARDED(heap_lock);

static size_t class_size(unsigned cls) { return (size_t)1 << (cls + HEAP_MIN_SHIFT); }

/* Returns the smallest class whose objects hold `size` (1 .. HEAP_MAX_SLAB_SIZE) bytes:
 * the rounded-up log2 of size, less HEAP_MIN_SHIFT, found with one bit scan (every
 * kmalloc and kfree asks). */
static unsigned size_to_class(size_t size) {
    if (size <= class_size(0))
        return 0;
    unsigned log2_up = (unsigned)(sizeof(unsigned long) * 8) - (unsigned)__builtin_clzl(size - 1);
    return log2_up - HEAP_MIN_SHIFT;
}

static void *page_address(const vm_page_t *page) {
    return paddr_to_physmap(vm_page_to_paddr(page));
}

/* Fills free object obj of `size` bytes (poisoning on) and records `freed_by` in its
 * last word. */
static void poison_fill(struct free_obj *obj, size_t size, uintptr_t freed_by) {
    if (size < HEAP_POISON_MIN_SIZE)
        return;
    uint64_t *w = (uint64_t *)obj;
    size_t last = size / sizeof(uint64_t) - 1;
    for (size_t i = 2; i < last; i++)
        w[i] = HEAP_POISON_WORD;
    w[last] = freed_by;
}

/* Panics if free object obj of `size` bytes lost its fill (poisoning on): something wrote
 * to it after it was freed. */
static void poison_check(const struct free_obj *obj, size_t size) {
    if (size < HEAP_POISON_MIN_SIZE)
        return;
    const uint64_t *w = (const uint64_t *)obj;
    size_t last = size / sizeof(uint64_t) - 1;
    for (size_t i = 2; i < last; i++) {
        ASSERT_MSG(w[i] == HEAP_POISON_WORD,
                   "heap: object %p (%zu bytes) written after free: word at +%zu is 0x%lx; "
                   "freed by pc 0x%lx",
                   (const void *)obj, size, i * sizeof(uint64_t), (unsigned long)w[i],
                   (unsigned long)w[last]);
    }
}

/* Contract in phys/heap.h. */
void heap_set_poison(bool on) {
    DEBUG_ASSERT(heap_bytes_in_use() == 0 && heap_pages() == 0);
    poison_free = on;
}

/*
 * Forgets all heap state: empty partial lists, zero counters. Pages still held from a
 * previous heap_init are not returned, so call it only at boot or (in tests) right after
 * pmm_init has reset the PMM.
 */
void heap_init(void) {
    spin_lock_init_class(&heap_lock, LOCK_CLASS_HEAP);
    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&heap_lock, &irq);
    for (unsigned i = 0; i < HEAP_NUM_CLASSES; i++) {
        list_init(&partial[i]);
        spare[i] = NULL;
    }
    bytes_in_use = 0;
    pages_held = 0;
    spin_unlock_irqrestore(&heap_lock, irq);
}

/*
 * Turns a freshly allocated PMM page into an empty slab of class `cls`: threads every
 * object onto the page's free list (lowest address first) and puts the page on the
 * partial list.
 */
static void slab_setup(vm_page_t *page, unsigned cls) TA_REQ(heap_lock) {
    size_t size = class_size(cls);
    char *base = page_address(page);
    struct free_obj *head = NULL;
    for (size_t off = PAGE_SIZE; off >= size; off -= size) {
        struct free_obj *obj = (struct free_obj *)(base + off - size);
        obj->next = head;
        obj->poison = FREE_POISON;
        if (poison_free)
            poison_fill(obj, size, 0);
        head = obj;
    }
    page->state = VM_PAGE_STATE_HEAP;
    page->heap.size_class = (uint16_t)cls;
    page->heap.in_use = 0;
    page->heap.npages = 0;
    page->heap.free_list = head;
    list_add_head(&partial[cls], &page->node);
    pages_held++;
}

/* Resets the heap fields of a page we are about to give back to the PMM. */
static void unmark_page(vm_page_t *page) {
    page->state = VM_PAGE_STATE_ALLOC;
    page->heap.size_class = 0;
    page->heap.in_use = 0;
    page->heap.npages = 0;
    page->heap.free_list = NULL;
}

/*
 * Takes any class's spare off the heap's books (unmarked, no longer held), for a slab of
 * another class when the PMM is out of pages (so the spares never make an allocation
 * fail) or for heap_trim; NULL if there is none.
 */
static vm_page_t *take_any_spare(void) TA_REQ(heap_lock) {
    for (unsigned cls = 0; cls < HEAP_NUM_CLASSES; cls++) {
        vm_page_t *page = spare[cls];
        if (page) {
            spare[cls] = NULL;
            unmark_page(page);
            pages_held--;
            return page;
        }
    }
    return NULL;
}

/*
 * Takes one object of class `cls`, adding a slab page from the PMM if no slab of the
 * class has room. Returns NULL (with nothing changed) if the PMM has no page.
 */
static void *slab_alloc(unsigned cls) TA_REQ(heap_lock) {
    if (list_is_empty(&partial[cls])) {
        vm_page_t *page = spare[cls];
        if (page) {
            spare[cls] = NULL;
            list_add_head(&partial[cls], &page->node);
        } else {
            if (pmm_alloc_page(0, &page, NULL) != ZX_OK && !(page = take_any_spare()))
                return NULL;
            slab_setup(page, cls);
        }
    }
    vm_page_t *page = containerof(partial[cls].next, vm_page_t, node);
    struct free_obj *obj = page->heap.free_list;
    DEBUG_ASSERT_MSG(obj && obj->poison == FREE_POISON,
                     "heap: free object %p of class %zu was modified after free", (void *)obj,
                     class_size(cls));
    DEBUG_ASSERT_MSG(!obj->next || (uintptr_t)obj->next >> PAGE_SHIFT ==
                                       (uintptr_t)obj >> PAGE_SHIFT,
                     "heap: corrupt free list in slab %p", page_address(page));
    if (poison_free)
        poison_check(obj, class_size(cls));
    page->heap.free_list = obj->next;
    page->heap.in_use++;
    if (!page->heap.free_list)
        list_delete(&page->node); /* full: no longer a candidate */
    obj->poison = 0;              /* so a later kfree does not mistake it for free */
    bytes_in_use += class_size(cls);
    return obj;
}

/*
 * Allocates a run of whole pages for a request of more than HEAP_MAX_SLAB_SIZE bytes.
 * The PMM call and the page marking need no heap lock (the pages are ours alone until
 * the pointer is returned); only the counters do.
 */
static void *large_alloc(size_t size) {
    if (size > SIZE_MAX - PAGE_SIZE)
        return NULL;
    size_t npages = ROUNDUP(size, PAGE_SIZE) / PAGE_SIZE;
    if (npages > UINT32_MAX)
        return NULL;
    paddr_t pa;
    if (pmm_alloc_contiguous(npages, 0, PAGE_SHIFT, &pa) != ZX_OK &&
        (heap_trim() == 0 || pmm_alloc_contiguous(npages, 0, PAGE_SHIFT, &pa) != ZX_OK))
        return NULL;

    vm_page_t *first = paddr_to_vm_page(pa);
    for (size_t i = 0; i < npages; i++) {
        first[i].state = VM_PAGE_STATE_HEAP;
        first[i].heap.size_class = i == 0 ? HEAP_CLASS_LARGE : HEAP_CLASS_LARGE_TAIL;
        first[i].heap.in_use = 0;
        first[i].heap.npages = i == 0 ? (uint32_t)npages : 0;
        first[i].heap.free_list = NULL;
    }

    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&heap_lock, &irq);
    bytes_in_use += npages * PAGE_SIZE;
    pages_held += npages;
    spin_unlock_irqrestore(&heap_lock, irq);
    return paddr_to_physmap(pa);
}

/* Allocates `size` bytes, 16-byte aligned (page aligned above 2 KiB). NULL on failure. */
void *kmalloc(size_t size) {
    if (size == 0)
        return NULL;
    if (size > HEAP_MAX_SLAB_SIZE)
        return large_alloc(size);

    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&heap_lock, &irq);
    void *p = slab_alloc(size_to_class(size));
    spin_unlock_irqrestore(&heap_lock, irq);
    return p;
}

/* kmalloc, then zero the requested bytes. */
void *kzalloc(size_t size) {
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

/* Returns true if `obj` is on the free list of slab `page` (bounded walk). */
static bool slab_free_list_contains(const vm_page_t *page, const struct free_obj *obj)
    TA_REQ(heap_lock) {
    size_t limit = PAGE_SIZE / class_size(page->heap.size_class);
    const struct free_obj *it = page->heap.free_list;
    for (size_t n = 0; it && n < limit; n++, it = it->next) {
        if (it == obj)
            return true;
    }
    return false;
}

/* What kfree must hand back to the PMM once the heap lock is dropped. */
struct pmm_release {
    paddr_t pa;
    size_t npages; /* 0: nothing */
};

/* Frees the first page of a large run: the whole run goes back to the PMM. */
static const char *large_free(vm_page_t *page, paddr_t pa, struct pmm_release *rel)
    TA_REQ(heap_lock) {
    if (!IS_ALIGNED(pa, PAGE_SIZE))
        return "pointer into the middle of a large allocation";
    size_t npages = page->heap.npages;
    size_t first = (size_t)(pa >> PAGE_SHIFT);
    if (npages == 0 || npages > vm_page_array_count - first)
        return "corrupt large allocation record";
    for (size_t i = 0; i < npages; i++)
        unmark_page(&page[i]);
    bytes_in_use -= npages * PAGE_SIZE;
    pages_held -= npages;
    rel->pa = pa;
    rel->npages = npages;
    return NULL;
}

/* Puts free object obj back on its slab's free list; an emptied slab leaves its partial
 * list and becomes the class's spare, or goes to the PMM (in *rel) if the class has one.
 * obj's poison word (and, when poisoning, its fill) is already written. */
static void slab_release(vm_page_t *page, struct free_obj *obj, struct pmm_release *rel)
    TA_REQ(heap_lock) {
    unsigned cls = page->heap.size_class;
    bool was_full = page->heap.free_list == NULL;
    obj->next = page->heap.free_list;
    page->heap.free_list = obj;
    page->heap.in_use--;

    if (page->heap.in_use == 0) {
        if (!was_full)
            list_delete(&page->node);
        if (!spare[cls]) {
            spare[cls] = page;
            return;
        }
        unmark_page(page);
        pages_held--;
        rel->pa = vm_page_to_paddr(page);
        rel->npages = 1;
    } else if (was_full) {
        list_add_head(&partial[cls], &page->node);
    }
}

/* Whether obj waits in the quarantine (a bounded scan: poisoning only). */
static bool quarantine_contains(const struct free_obj *obj) TA_REQ(heap_lock) {
    for (unsigned i = 0; i < quarantine_count; i++) {
        if (quarantine[(quarantine_next + HEAP_QUARANTINE_SLOTS - 1 - i) % HEAP_QUARANTINE_SLOTS] ==
            obj)
            return true;
    }
    return false;
}

/* Takes the oldest object out of the quarantine, checks that its fill is intact and puts
 * it back on its slab (pages to give back in *rel). False if the quarantine is empty. */
static bool quarantine_evict(struct pmm_release *rel) TA_REQ(heap_lock) {
    if (quarantine_count == 0)
        return false;
    unsigned oldest =
        (quarantine_next + HEAP_QUARANTINE_SLOTS - quarantine_count) % HEAP_QUARANTINE_SLOTS;
    struct free_obj *obj = quarantine[oldest];
    quarantine_count--;
    vm_page_t *page = paddr_to_vm_page(physmap_to_paddr(obj));
    poison_check(obj, class_size(page->heap.size_class));
    slab_release(page, obj, rel);
    return true;
}

/*
 * Frees a slab object. With poisoning on, it is filled and waits in the quarantine (no
 * longer counted in use) while HEAP_QUARANTINE_SLOTS later frees happen, so a stale
 * pointer keeps reading the fill and the freeing pc for a while; the oldest quarantined
 * object goes back to its slab instead.
 */
static const char *slab_free(vm_page_t *page, void *ptr, paddr_t pa, struct pmm_release *rel,
                             uintptr_t freed_by) TA_REQ(heap_lock) {
    unsigned cls = page->heap.size_class;
    if (cls >= HEAP_NUM_CLASSES)
        return "corrupt heap page";
    size_t size = class_size(cls);
    if ((pa & PAGE_MASK) % size != 0)
        return "pointer is not at an object boundary";
    struct free_obj *obj = ptr;
    if (page->heap.in_use == 0)
        return "double free (slab has no objects in use)";
    if (obj->poison == FREE_POISON &&
        (slab_free_list_contains(page, obj) || (poison_free && quarantine_contains(obj))))
        return "double free";

    obj->poison = FREE_POISON;
    bytes_in_use -= size;
    if (!poison_free) {
        slab_release(page, obj, rel);
        return NULL;
    }
    poison_fill(obj, size, freed_by);
    if (quarantine_count == HEAP_QUARANTINE_SLOTS)
        quarantine_evict(rel);
    quarantine[quarantine_next] = obj;
    quarantine_next = (quarantine_next + 1) % HEAP_QUARANTINE_SLOTS;
    quarantine_count++;
    return NULL;
}

/* Checks that `page` is a heap page and frees ptr from it; returns why not, or NULL. */
static const char *free_locked(vm_page_t *page, void *ptr, paddr_t pa, struct pmm_release *rel,
                               uintptr_t freed_by) TA_REQ(heap_lock) {
    if (page->state != VM_PAGE_STATE_HEAP)
        return "not a heap page (double free or foreign pointer?)";
    switch (page->heap.size_class) {
    case HEAP_CLASS_LARGE:
        return large_free(page, pa, rel);
    case HEAP_CLASS_LARGE_TAIL:
        return "pointer into the middle of a large allocation";
    default:
        return slab_free(page, ptr, pa, rel, freed_by);
    }
}

/* Frees a pointer from kmalloc/kzalloc; NULL is ignored; anything else panics. */
void kfree(void *ptr) {
    if (!ptr)
        return;
    paddr_t pa = physmap_to_paddr(ptr);
    vm_page_t *page = paddr_to_vm_page(pa);
    ASSERT_MSG(page != NULL, "kfree(%p): not a physmap address", ptr);

    struct pmm_release rel = {0, 0};
    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&heap_lock, &irq);
    const char *why = free_locked(page, ptr, pa, &rel, (uintptr_t)__builtin_return_address(0));
    spin_unlock_irqrestore(&heap_lock, irq);
    ASSERT_MSG(why == NULL, "kfree(%p): %s", ptr, why);

    if (rel.npages)
        pmm_free_contiguous(rel.pa, rel.npages);
}

/* Contract in phys/heap.h. The pages go back after the lock is dropped, as kfree's; the
 * quarantine (poisoning on) is emptied first, one object per hold of the lock. */
size_t heap_trim(void) {
    vm_page_t *give[HEAP_NUM_CLASSES + 1]; /* the spares and the NULL that ends them */
    size_t n = 0;
    spin_lock_saved_state_t irq;
    for (bool more = poison_free; more;) {
        struct pmm_release rel = {0, 0};
        spin_lock_irqsave(&heap_lock, &irq);
        more = quarantine_evict(&rel);
        spin_unlock_irqrestore(&heap_lock, irq);
        if (rel.npages)
            pmm_free_contiguous(rel.pa, rel.npages);
    }
    spin_lock_irqsave(&heap_lock, &irq);
    while ((give[n] = take_any_spare()) != NULL)
        n++;
    spin_unlock_irqrestore(&heap_lock, irq);
    for (size_t i = 0; i < n; i++)
        pmm_free_contiguous(vm_page_to_paddr(give[i]), 1);
    return n;
}

/* A snapshot; an aligned word is read atomically, so the lock is not needed (clang has
 * no annotation for a deliberate unlocked read of a guarded variable). */
size_t heap_bytes_in_use(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    return __atomic_load_n(&bytes_in_use, __ATOMIC_RELAXED);
}

/* A snapshot; an aligned word is read atomically, so the lock is not needed (clang has
 * no annotation for a deliberate unlocked read of a guarded variable). */
size_t heap_pages(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    return __atomic_load_n(&pages_held, __ATOMIC_RELAXED);
}

#ifndef BERYL_HOST
/*
 * Contract in phys/heap.h. Reads without the heap lock (a panic report must not wait
 * for it): what it says about an object another CPU is changing may be stale.
 */
bool heap_describe(uintptr_t addr, char *buf, size_t len) {
    if (addr < PHYSMAP_BASE || addr - PHYSMAP_BASE >= PHYSMAP_SIZE)
        return false;
    const vm_page_t *page = paddr_to_vm_page(physmap_to_paddr((const void *)addr));
    if (!page || page->state != VM_PAGE_STATE_HEAP)
        return false;
    unsigned cls = page->heap.size_class;
    if (cls >= HEAP_NUM_CLASSES) {
        ksnprintf(buf, len, "in a large heap allocation");
        return true;
    }
    size_t size = class_size(cls);
    uintptr_t start = addr & ~(uintptr_t)(size - 1);
    const struct free_obj *obj = (const struct free_obj *)start;
    if (obj->poison != FREE_POISON) {
        ksnprintf(buf, len, "+0x%lx in the heap object at 0x%lx (%zu bytes)",
                  (unsigned long)(addr - start), (unsigned long)start, size);
        return true;
    }
    uint64_t freed_by = poison_free && size >= HEAP_POISON_MIN_SIZE
                            ? ((const uint64_t *)obj)[size / sizeof(uint64_t) - 1]
                            : 0;
    const char *name;
    uint64_t off;
    if (freed_by != 0 && ksyms_lookup(freed_by, &name, &off))
        ksnprintf(buf, len, "+0x%lx in the FREED heap object at 0x%lx (%zu bytes), freed at %s+0x%lx",
                  (unsigned long)(addr - start), (unsigned long)start, size, name,
                  (unsigned long)off);
    else
        ksnprintf(buf, len, "+0x%lx in the FREED heap object at 0x%lx (%zu bytes)",
                  (unsigned long)(addr - start), (unsigned long)start, size);
    return true;
}
#endif
