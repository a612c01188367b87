/*
 * Physical memory manager.
 *
 * Every frame has a vm_page record (vm_page.h). Free pages sit on one doubly-linked free
 * list threaded through vm_page.node. The list is LIFO: a page freed a moment ago is the
 * next one handed out, so its lines are likely still in cache.
 *
 *   single page      pop the list head: O(1).
 *   contiguous run   scan the array for an aligned run of FREE records without the lock,
 *                    then claim it batch by batch under the lock, checking each page is
 *                    still FREE and unlinking it (O(1) each, the list is doubly linked);
 *                    a page taken meanwhile gives the claimed part back and the scan
 *                    goes on after it.
 *   free             check the state, reset the record, push it on the list head.
 *
 * Locking: pmm_lock (taken with irqsave, so the PMM may be used from interrupt handlers)
 * guards the free list, the counters, the state of every FREE page and the fault-injection
 * settings. It is held for O(1) work per call, or for at most PMM_LOCK_BATCH pages of a
 * run: a run's size is the caller's choice (ultimately user space's, through contiguous
 * VMOs and large heap blocks), so interrupts must not stay off for all of it. Zeroing
 * happens after the lock is dropped: the pages belong to the caller by then, and clearing
 * 4 KiB (or a whole run) should not stall other CPUs.
 *
 * Panics from bad frees are raised after the lock is released, so a host test that
 * catches the panic can keep using the PMM.
 */
#include <phys/pmm.h>

#include <kernel/assert.h>
#include <kernel/compiler.h>
#include <kernel/spinlock.h>
#include <lib/list.h>
#include <lib/string.h>
#include <phys/physmap.h>

#define MAX_ALIGN_LOG2 40
/* Pages of a contiguous run claimed, checked or freed per hold of pmm_lock. */
#define PMM_LOCK_BATCH 256u
#define PERMILLE 1000
/* xorshift64 gets stuck at 0, so a zero seed is replaced by this constant. */
#define XORSHIFT_ZERO_SEED_REPLACEMENT 0x9e3779b97f4a7c15ull

static spinlock_t pmm_lock = SPIN_LOCK_INIT_CLASS(PMM);

static struct list_node free_list TA_GUARDED(pmm_lock) = LIST_INITIAL_VALUE(free_list);
static size_t free_count TA_GUARDED(pmm_lock);
static size_t total_count TA_GUARDED(pmm_lock);

/*
 * Every FREE frame lies in [scan_lo, scan_hi): the lowest and one past the highest frame
 * pmm_init put on the free list. Contiguous scans stay inside this window, which skips
 * the ABSENT low memory and anything above the top of RAM.
 */
static size_t scan_lo TA_GUARDED(pmm_lock);
static size_t scan_hi TA_GUARDED(pmm_lock);

/* Fault injection (see pmm.h). Both modes may be active; either one fails a call. */
static uint32_t inject_every TA_GUARDED(pmm_lock);     /* 0 = off */
static uint32_t inject_counter TA_GUARDED(pmm_lock);   /* calls since the last failure */
static uint32_t inject_permille TA_GUARDED(pmm_lock);  /* 0 = off */
static uint64_t inject_rng TA_GUARDED(pmm_lock);       /* xorshift64 state */
static uint64_t inject_total TA_GUARDED(pmm_lock);     /* failures injected so far */

/* Returns true if [base, base + size) starts and ends on page boundaries. */
static bool range_is_page_aligned(const struct mem_range *r) {
    return IS_ALIGNED(r->base, PAGE_SIZE) && IS_ALIGNED(r->size, PAGE_SIZE);
}

/* Returns true if every range in the set (NULL counts as empty) is page aligned. */
static bool set_is_page_aligned(const struct range_set *set) {
    if (!set)
        return true;
    for (size_t i = 0; i < set->count; i++) {
        if (!range_is_page_aligned(&set->r[i]))
            return false;
    }
    return true;
}

/*
 * Computes the frames [*first, *end) of a page-aligned range, clipped to the array.
 * Returns false if nothing of the range lies inside the array.
 */
static bool range_frames(const struct mem_range *r, size_t array_count, size_t *first,
                         size_t *end) {
    uint64_t lo = r->base >> PAGE_SHIFT;
    uint64_t hi = lo + (r->size >> PAGE_SHIFT); /* cannot overflow: both were shifted */
    if (hi > array_count)
        hi = array_count;
    if (lo >= hi)
        return false;
    *first = (size_t)lo;
    *end = (size_t)hi;
    return true;
}

/* Resets a page record to the pristine FREE/ALLOC state: no flags, no owner data. */
static void reset_page_record(vm_page_t *page, uint8_t state) {
    page->state = state;
    page->flags = 0;
    page->reserved0 = 0;
    page->reserved1 = 0;
    memset(&page->heap, 0, sizeof(vm_page_t) - offsetof(vm_page_t, heap));
}

/*
 * (Re)initialises the PMM over `count` records at `array`. Everything the PMM knew
 * before is forgotten, including fault-injection settings and the injected count; the
 * caller must not be holding pages from a previous pmm_init (host tests rely on this to
 * start each test from scratch). Runs before other CPUs exist, but takes the lock anyway
 * so that the annotated state is only touched under it.
 */
zx_status_t pmm_init(vm_page_t *array, size_t count, const struct range_set *free_ranges,
                     const struct range_set *wired_ranges) {
    if (!array && count)
        return ZX_ERR_INVALID_ARGS;
    if (!set_is_page_aligned(free_ranges) || !set_is_page_aligned(wired_ranges))
        return ZX_ERR_INVALID_ARGS;

    spin_lock_init_class(&pmm_lock, LOCK_CLASS_PMM);
    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&pmm_lock, &irq);

    vm_page_array = array;
    vm_page_array_count = count;
    list_init(&free_list);
    free_count = 0;
    total_count = 0;
    scan_lo = count;
    scan_hi = 0;
    inject_every = 0;
    inject_counter = 0;
    inject_permille = 0;
    inject_rng = XORSHIFT_ZERO_SEED_REPLACEMENT;
    inject_total = 0;

    for (size_t i = 0; i < count; i++) {
        memset(&array[i], 0, sizeof(array[i]));
        list_init(&array[i].node);
        array[i].state = VM_PAGE_STATE_ABSENT;
    }

    size_t first, end;
    for (size_t i = 0; wired_ranges && i < wired_ranges->count; i++) {
        if (!range_frames(&wired_ranges->r[i], count, &first, &end))
            continue;
        for (size_t pfn = first; pfn < end; pfn++)
            array[pfn].state = VM_PAGE_STATE_WIRED;
    }

    /* Free ranges win over wired ones. Pushing in descending order makes the first
     * allocations come from low memory, which keeps early boot deterministic. */
    for (size_t i = free_ranges ? free_ranges->count : 0; i-- > 0;) {
        if (!range_frames(&free_ranges->r[i], count, &first, &end))
            continue;
        for (size_t pfn = end; pfn-- > first;) {
            if (array[pfn].state == VM_PAGE_STATE_FREE)
                continue; /* overlapping free ranges: already on the list */
            array[pfn].state = VM_PAGE_STATE_FREE;
            list_add_head(&free_list, &array[pfn].node);
            free_count++;
        }
        scan_lo = MIN(scan_lo, first);
        scan_hi = MAX(scan_hi, end);
    }
    total_count = free_count;

    spin_unlock_irqrestore(&pmm_lock, irq);
    return ZX_OK;
}

/* Advances the xorshift64 generator and returns the new value. */
static uint64_t inject_rng_next(void) TA_REQ(pmm_lock) {
    uint64_t x = inject_rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    inject_rng = x;
    return x;
}

/*
 * Decides whether this allocation call fails on purpose. Called once per allocation call
 * (after argument checks). Calls flagged NO_INJECT neither fail nor advance the every-Nth
 * counter or the generator, so exempt calls do not perturb a deterministic sequence.
 */
static bool should_inject_failure(uint32_t flags) TA_REQ(pmm_lock) {
    if (flags & PMM_ALLOC_FLAG_NO_INJECT)
        return false;
    bool fail = false;
    if (inject_every) {
        if (++inject_counter >= inject_every) {
            inject_counter = 0;
            fail = true;
        }
    }
    if (inject_permille) {
        if (inject_rng_next() % PERMILLE < inject_permille)
            fail = true;
    }
    if (fail)
        inject_total++;
    return fail;
}

/* Takes a FREE page off the free list and marks it ALLOC. */
static void take_free_page(vm_page_t *page) TA_REQ(pmm_lock) {
    DEBUG_ASSERT(page->state == VM_PAGE_STATE_FREE);
    list_delete(&page->node);
    page->state = VM_PAGE_STATE_ALLOC;
    free_count--;
}

/* Allocates one page (see pmm.h). O(1): pops the head of the free list. */
zx_status_t pmm_alloc_page(uint32_t flags, vm_page_t **out_page, paddr_t *out_pa) {
    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&pmm_lock, &irq);
    vm_page_t *page = NULL;
    if (!should_inject_failure(flags) && !list_is_empty(&free_list)) {
        page = containerof(free_list.next, vm_page_t, node);
        take_free_page(page);
    }
    spin_unlock_irqrestore(&pmm_lock, irq);

    if (!page)
        return ZX_ERR_NO_MEMORY;
    paddr_t pa = vm_page_to_paddr(page);
    if (flags & PMM_ALLOC_FLAG_ZERO)
        memset(paddr_to_physmap(pa), 0, PAGE_SIZE);
    if (out_page)
        *out_page = page;
    if (out_pa)
        *out_pa = pa;
    return ZX_OK;
}

/* A frame's state read without the lock (a snapshot: it may change at once). */
static bool frame_looks_free(size_t pfn) {
    return __atomic_load_n(&vm_page_array[pfn].state, __ATOMIC_RELAXED) == VM_PAGE_STATE_FREE;
}

/*
 * Returns the highest frame in [pfn, pfn + count) that does not look FREE, or SIZE_MAX
 * if the whole run does. Checking from the top down lets the caller skip past the blocker.
 */
static size_t last_nonfree_frame(size_t pfn, size_t count) {
    for (size_t i = pfn + count; i-- > pfn;) {
        if (!frame_looks_free(i))
            return i;
    }
    return SIZE_MAX;
}

/*
 * Finds the lowest run of `count` frames that look FREE, starting on a multiple of
 * `align_pages` at or after `pfn`, within [lo, hi). Returns its first frame, or SIZE_MAX
 * if there is none. Runs without the lock (the caller claims the run under it). Each
 * failed probe jumps to the first aligned frame after the blocking page, so no frame is
 * examined more than about count times over.
 */
static size_t find_free_run(size_t pfn, size_t hi, size_t count, size_t align_pages) {
    pfn = ROUNDUP(pfn, align_pages);
    while (pfn < hi && count <= hi - pfn) {
        size_t blocker = last_nonfree_frame(pfn, count);
        if (blocker == SIZE_MAX)
            return pfn;
        pfn = ROUNDUP(blocker + 1, align_pages);
    }
    return SIZE_MAX;
}

/* Frees the frames [first, first + count), which the caller owns, PMM_LOCK_BATCH at a
 * time. */
static void put_free_run(size_t first, size_t count);

/*
 * Claims [first, first + count) batch by batch: each batch is checked to be still FREE
 * and taken under one hold of the lock. Returns SIZE_MAX when the whole run is the
 * caller's; otherwise the frame that was no longer FREE, with every page claimed so far
 * given back.
 */
static size_t claim_run(size_t first, size_t count) {
    size_t done = 0;
    while (done < count) {
        size_t n = MIN(count - done, (size_t)PMM_LOCK_BATCH);
        size_t blocker = SIZE_MAX;
        spin_lock_saved_state_t irq;
        spin_lock_irqsave(&pmm_lock, &irq);
        for (size_t i = first + done; i < first + done + n; i++) {
            if (vm_page_array[i].state != VM_PAGE_STATE_FREE) {
                blocker = i;
                break;
            }
        }
        for (size_t i = first + done; blocker == SIZE_MAX && i < first + done + n; i++)
            take_free_page(&vm_page_array[i]);
        spin_unlock_irqrestore(&pmm_lock, irq);
        if (blocker != SIZE_MAX) {
            put_free_run(first, done);
            return blocker;
        }
        done += n;
    }
    return SIZE_MAX;
}

/* Allocates a physically contiguous, aligned run (see pmm.h). An O(frames) scan, done
 * without the lock; see the file comment. */
zx_status_t pmm_alloc_contiguous(size_t count, uint32_t flags, uint8_t align_log2,
                                 paddr_t *out_pa) {
    if (count == 0 || align_log2 > MAX_ALIGN_LOG2)
        return ZX_ERR_INVALID_ARGS;
    if (align_log2 < PAGE_SHIFT)
        align_log2 = PAGE_SHIFT;
    size_t align_pages = (size_t)1 << (align_log2 - PAGE_SHIFT);

    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&pmm_lock, &irq);
    bool go = !should_inject_failure(flags) && count <= free_count;
    size_t lo = scan_lo, hi = scan_hi;
    spin_unlock_irqrestore(&pmm_lock, irq);

    size_t first = SIZE_MAX;
    for (size_t pfn = lo; go;) {
        first = find_free_run(pfn, hi, count, align_pages);
        if (first == SIZE_MAX)
            break;
        size_t blocker = claim_run(first, count);
        if (blocker == SIZE_MAX)
            break;
        first = SIZE_MAX;
        pfn = blocker + 1;
    }
    if (first == SIZE_MAX)
        return ZX_ERR_NO_MEMORY;
    paddr_t pa = (paddr_t)first << PAGE_SHIFT;
    if (flags & PMM_ALLOC_FLAG_ZERO)
        memset(paddr_to_physmap(pa), 0, count * PAGE_SIZE);
    if (out_pa)
        *out_pa = pa;
    return ZX_OK;
}

/*
 * Returns why `page` may not be freed, or NULL if it may. The state of a page that is not
 * FREE belongs to its owner, but FREE pages are ours, so the check is made under the lock
 * to catch two racing frees of the same page.
 */
static const char *free_check(const vm_page_t *page) TA_REQ(pmm_lock) {
    switch (page->state) {
    case VM_PAGE_STATE_FREE:
        return "double free";
    case VM_PAGE_STATE_ABSENT:
        return "page is not managed memory (ABSENT)";
    case VM_PAGE_STATE_WIRED:
        return "page is WIRED";
    default:
        if (page->state >= VM_PAGE_STATE_COUNT)
            return "corrupt page state";
        if (list_in_list(&page->node))
            return "page is still linked on a list";
        if (page->state == VM_PAGE_STATE_OBJECT && page->object.pins != 0)
            return "a VMO copy still has the page pinned";
        return NULL;
    }
}

/* Puts a checked page back on the free list with a clean record. */
static void put_free_page(vm_page_t *page) TA_REQ(pmm_lock) {
    reset_page_record(page, VM_PAGE_STATE_FREE);
    list_add_head(&free_list, &page->node);
    free_count++;
}

/* Returns true if `page` points at a record inside the vm_page array. */
static bool page_in_array(const vm_page_t *page) {
    uintptr_t p = (uintptr_t)page, lo = (uintptr_t)vm_page_array;
    return p >= lo && (p - lo) / sizeof(vm_page_t) < vm_page_array_count &&
           (p - lo) % sizeof(vm_page_t) == 0;
}

/* Frees one page (see pmm.h); panics (after unlocking) if it is not an allocated page. */
void pmm_free_page(vm_page_t *page) {
    ASSERT_MSG(page && page_in_array(page), "pmm_free_page: %p is not a vm_page",
               (void *)page);
    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&pmm_lock, &irq);
    const char *why = free_check(page);
    uint8_t state = page->state;
    if (!why)
        put_free_page(page);
    spin_unlock_irqrestore(&pmm_lock, irq);
    ASSERT_MSG(why == NULL, "pmm_free_page: pa %#llx (state %s): %s",
               (unsigned long long)vm_page_to_paddr(page), vm_page_state_name(state), why);
}

/*
 * Frees `count` pages starting at pa. All pages are checked before any is freed, so a
 * bad page in the middle panics without having half-freed the run.
 */
void pmm_free_contiguous(paddr_t pa, size_t count) {
    size_t first = (size_t)(pa >> PAGE_SHIFT);
    ASSERT_MSG(IS_ALIGNED(pa, PAGE_SIZE), "pmm_free_contiguous: pa %#llx unaligned",
               (unsigned long long)pa);
    ASSERT_MSG(first <= vm_page_array_count && count <= vm_page_array_count - first,
               "pmm_free_contiguous: [%#llx, +%zu pages) is outside the page array",
               (unsigned long long)pa, count);

    const char *why = NULL;
    size_t bad = 0;
    for (size_t done = 0; done < count && !why;) {
        size_t n = MIN(count - done, (size_t)PMM_LOCK_BATCH);
        spin_lock_saved_state_t irq;
        spin_lock_irqsave(&pmm_lock, &irq);
        for (size_t i = first + done; i < first + done + n && !why; i++) {
            why = free_check(&vm_page_array[i]);
            bad = i;
        }
        spin_unlock_irqrestore(&pmm_lock, irq);
        done += n;
    }
    ASSERT_MSG(why == NULL, "pmm_free_contiguous: pa %#llx (state %s): %s",
               (unsigned long long)bad << PAGE_SHIFT,
               vm_page_state_name(vm_page_array[bad].state), why);
    put_free_run(first, count);
}

static void put_free_run(size_t first, size_t count) {
    for (size_t done = 0; done < count;) {
        size_t n = MIN(count - done, (size_t)PMM_LOCK_BATCH);
        spin_lock_saved_state_t irq;
        spin_lock_irqsave(&pmm_lock, &irq);
        for (size_t i = first + done; i < first + done + n; i++)
            put_free_page(&vm_page_array[i]);
        spin_unlock_irqrestore(&pmm_lock, irq);
        done += n;
    }
}

/* A snapshot; an aligned word is read atomically, so the lock is not needed (clang has
 * no annotation for a deliberate unlocked read of a guarded variable). */
size_t pmm_count_free_pages(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    return __atomic_load_n(&free_count, __ATOMIC_RELAXED);
}

/* Reads every record without the PMM lock: the walk is proportional to RAM and must not
 * keep interrupts off; a state byte is read atomically, so each record is counted in
 * some state it was in during the walk (the counts are a statistic, not a snapshot). */
void pmm_count_by_state(size_t counts[VM_PAGE_STATE_COUNT]) {
    for (size_t s = 0; s < VM_PAGE_STATE_COUNT; s++)
        counts[s] = 0;
    for (size_t i = 0; i < vm_page_array_count; i++) {
        uint8_t st = __atomic_load_n(&vm_page_array[i].state, __ATOMIC_RELAXED);
        if (st < VM_PAGE_STATE_COUNT)
            counts[st]++;
    }
}

/* A snapshot; an aligned word is read atomically, so the lock is not needed (clang has
 * no annotation for a deliberate unlocked read of a guarded variable). */
size_t pmm_count_total_pages(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    return __atomic_load_n(&total_count, __ATOMIC_RELAXED);
}

/* Fails every nth allocation call from now on (0 disables); restarts the count. */
void pmm_fault_inject_every(uint32_t n) {
    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&pmm_lock, &irq);
    inject_every = n;
    inject_counter = 0;
    spin_unlock_irqrestore(&pmm_lock, irq);
}

/* Fails each allocation call with probability permille/1000 (0 disables), reseeding the
 * generator so the same seed replays the same sequence of failures. */
void pmm_fault_inject_random(uint64_t seed, uint32_t permille) {
    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&pmm_lock, &irq);
    inject_permille = MIN(permille, (uint32_t)PERMILLE);
    inject_rng = seed ? seed : XORSHIFT_ZERO_SEED_REPLACEMENT;
    spin_unlock_irqrestore(&pmm_lock, irq);
}

uint64_t pmm_fault_injected_count(void) {
    spin_lock_saved_state_t irq;
    spin_lock_irqsave(&pmm_lock, &irq);
    uint64_t n = inject_total;
    spin_unlock_irqrestore(&pmm_lock, irq);
    return n;
}
