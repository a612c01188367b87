/*
 * Handle tables (object/handle.h).
 *
 * A table is a directory of fixed-size chunks of HT_CHUNK_SLOTS slots. A handle value is
 *     (generation << (2 + HT_INDEX_BITS)) | (index << 2) | 3
 * so the low two bits are always set and 0 never appears. Freed slots go to the tail of
 * a FIFO free list with their generation bumped: a closed value comes back only after
 * its slot has been reused 2^HT_GEN_BITS times, and every other free slot is reused
 * before it.
 *
 * Growth adds one chunk (and, every time the directory is full, a directory twice as
 * large): the allocations happen with the lock dropped (and never with interrupts off: a
 * large directory is a run of pages the PMM scans for), and installing them copies at
 * most the directory's pointers, never the slots, so the work done under the lock (with
 * interrupts off) stays small however many handles user space makes. Walks
 * (handle_table_for_each) take the lock one chunk at a time for the same reason.
 *
 * The table lock is held only for slot bookkeeping. References are taken while the lock
 * is held (the slot's own reference keeps the object alive meanwhile) but dropped
 * only after it is released, because the last unref may run a destructor that closes
 * other handles.
 *
 * The struct itself is refcounted (handle_table_ref): a walker that found the table
 * through its owner keeps it while handle_table_destroy empties it; the walk then sees
 * an empty table.
 */
#include <object/handle.h>

#include <kernel/assert.h>
#include <lib/string.h>
#include <phys/heap.h>

#define HT_INDEX_BITS 18u
#define HT_GEN_BITS (30u - HT_INDEX_BITS)
#define HT_INDEX_MASK ((1u << HT_INDEX_BITS) - 1u)
#define HT_GEN_MASK ((1u << HT_GEN_BITS) - 1u)
#define HT_MAX_SLOTS (1u << HT_INDEX_BITS)
#define HT_CHUNK_SHIFT 6u
#define HT_CHUNK_SLOTS (1u << HT_CHUNK_SHIFT) /* 64 slots: 1 KiB */
#define HT_MAX_CHUNKS (HT_MAX_SLOTS / HT_CHUNK_SLOTS)
#define HT_INITIAL_DIR 4u                    /* directory entries of a new table */
#define HT_NO_SLOT UINT32_MAX

struct ht_slot {
    kobject_t *obj;     /* NULL while free */
    zx_rights_t rights;
    uint32_t gen : HT_GEN_BITS;
    uint32_t next_free : 32u - HT_GEN_BITS; /* free-list link; HT_FREE_END at the tail */
};
#define HT_FREE_END ((1u << (32u - HT_GEN_BITS)) - 1u)
_Static_assert(HT_MAX_SLOTS <= HT_FREE_END, "next_free cannot hold every slot index");

struct handle_table {
    spinlock_t lock;          /* guards the rest, refcount excepted, and the slots */
    uint32_t refcount;        /* atomic: the owner's, plus walkers' */
    struct ht_slot **chunks;  /* directory: chunks[i] holds slots [i*64, i*64+64) */
    uint32_t dir_cap;         /* entries in chunks[] */
    uint32_t nchunks;         /* chunks in use; slots [0, nchunks * 64) exist */
    uint32_t count;
    uint32_t free_head;       /* oldest free slot */
    uint32_t free_tail;
};

static inline zx_handle_t ht_encode(uint32_t index, uint32_t gen) {
    return (gen << (2u + HT_INDEX_BITS)) | (index << 2) | ZX_HANDLE_FIXED_BITS_MASK;
}

static inline struct ht_slot *ht_slot(handle_table_t *ht, uint32_t index) TA_REQ(ht->lock) {
    return &ht->chunks[index >> HT_CHUNK_SHIFT][index & (HT_CHUNK_SLOTS - 1)];
}

/* Returns the slot named by value, or NULL if value names no live handle. Lock held. */
static struct ht_slot *ht_lookup_locked(handle_table_t *ht, zx_handle_t value)
    TA_REQ(ht->lock) {
    if ((value & ZX_HANDLE_FIXED_BITS_MASK) != ZX_HANDLE_FIXED_BITS_MASK)
        return NULL;
    uint32_t index = (value >> 2) & HT_INDEX_MASK;
    uint32_t gen = value >> (2u + HT_INDEX_BITS);
    if (index >= ht->nchunks * HT_CHUNK_SLOTS)
        return NULL;
    struct ht_slot *s = ht_slot(ht, index);
    if (s->obj == NULL || s->gen != gen)
        return NULL;
    return s;
}

static void ht_push_free_locked(handle_table_t *ht, uint32_t index) TA_REQ(ht->lock) {
    ht_slot(ht, index)->next_free = HT_FREE_END;
    if (ht->free_tail == HT_NO_SLOT)
        ht->free_head = index;
    else
        ht_slot(ht, ht->free_tail)->next_free = index;
    ht->free_tail = index;
}

static uint32_t ht_pop_free_locked(handle_table_t *ht) TA_REQ(ht->lock) {
    uint32_t index = ht->free_head;
    if (index != HT_NO_SLOT) {
        uint32_t next = ht_slot(ht, index)->next_free;
        ht->free_head = next == HT_FREE_END ? HT_NO_SLOT : next;
        if (ht->free_head == HT_NO_SLOT)
            ht->free_tail = HT_NO_SLOT;
    }
    return index;
}

/* Appends a zeroed chunk (the directory has room) and frees its slots. Lock held or the
 * table not yet shared. */
static void ht_add_chunk_locked(handle_table_t *ht, struct ht_slot *chunk) TA_REQ(ht->lock) {
    DEBUG_ASSERT(ht->nchunks < ht->dir_cap);
    uint32_t first = ht->nchunks * HT_CHUNK_SLOTS;
    ht->chunks[ht->nchunks++] = chunk;
    for (uint32_t i = 0; i < HT_CHUNK_SLOTS; i++)
        ht_push_free_locked(ht, first + i);
}

/* Not checked by the analysis: it fills a table nobody else can see yet without its lock
 * (ht_add_chunk_locked). */
handle_table_t *handle_table_create(void) TA_NO_THREAD_SAFETY_ANALYSIS {
    handle_table_t *ht = kmalloc(sizeof(*ht));
    struct ht_slot **dir = kzalloc(HT_INITIAL_DIR * sizeof(*dir));
    struct ht_slot *chunk = kzalloc(HT_CHUNK_SLOTS * sizeof(*chunk));
    if (ht == NULL || dir == NULL || chunk == NULL) {
        kfree(ht);
        kfree(dir);
        kfree(chunk);
        return NULL;
    }
    spin_lock_init_class(&ht->lock, LOCK_CLASS_HANDLE_TABLE);
    ht->refcount = 1;
    ht->chunks = dir;
    ht->dir_cap = HT_INITIAL_DIR;
    ht->nchunks = 0;
    ht->count = 0;
    ht->free_head = ht->free_tail = HT_NO_SLOT;
    ht_add_chunk_locked(ht, chunk);
    return ht;
}

void handle_table_ref(handle_table_t *ht) {
    __atomic_add_fetch(&ht->refcount, 1, __ATOMIC_RELAXED);
}

void handle_table_unref(handle_table_t *ht) {
    if (__atomic_sub_fetch(&ht->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        DEBUG_ASSERT(ht->chunks == NULL);
        kfree(ht);
    }
}

void handle_table_destroy(handle_table_t *ht) {
    if (ht == NULL)
        return;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&ht->lock, &st);
    struct ht_slot **chunks = ht->chunks;
    uint32_t nchunks = ht->nchunks;
    ht->chunks = NULL;
    ht->dir_cap = 0;
    ht->nchunks = 0;
    ht->count = 0;
    ht->free_head = ht->free_tail = HT_NO_SLOT;
    spin_unlock_irqrestore(&ht->lock, st);

    for (uint32_t c = 0; c < nchunks; c++) {
        for (uint32_t i = 0; i < HT_CHUNK_SLOTS; i++) {
            struct ht_slot *s = &chunks[c][i];
            if (s->obj != NULL) {
                handle_ref_t h = {s->obj, s->rights};
                s->obj = NULL;
                handle_ref_release(&h);
            }
        }
        kfree(chunks[c]);
    }
    kfree(chunks);
    handle_table_unref(ht);
}

/*
 * Puts obj (whose reference and handle_count the caller has already provided) into a
 * free slot, adding a chunk when none is free. The chunk (and a larger directory when
 * the directory is full) is allocated with the lock dropped; if another thread grew the
 * table meanwhile, they are discarded and the search starts again. On failure
 * (ZX_ERR_NO_MEMORY, also when the table holds HT_MAX_SLOTS handles) nothing changed.
 */
static zx_status_t ht_insert(handle_table_t *ht, kobject_t *obj, zx_rights_t rights,
                             zx_handle_t *out) {
    spin_lock_saved_state_t st;
    for (;;) {
        spin_lock_irqsave(&ht->lock, &st);
        uint32_t index = ht_pop_free_locked(ht);
        if (index != HT_NO_SLOT) {
            struct ht_slot *s = ht_slot(ht, index);
            s->obj = obj;
            s->rights = rights;
            ht->count++;
            *out = ht_encode(index, s->gen);
            spin_unlock_irqrestore(&ht->lock, st);
            return ZX_OK;
        }
        uint32_t nchunks = ht->nchunks, dir_cap = ht->dir_cap;
        bool dead = ht->chunks == NULL;
        spin_unlock_irqrestore(&ht->lock, st);

        if (dead || nchunks >= HT_MAX_CHUNKS)
            return ZX_ERR_NO_MEMORY;
#ifndef BERYL_HOST
        /* A directory past the heap's slab sizes is a run of pages, found by a scan of
         * the PMM's frames: growth must never run with interrupts off (under a caller's
         * spinlock), or that scan would too. */
        DEBUG_ASSERT_MSG(!arch_irqs_disabled(), "handle table %p grown with interrupts off",
                         (void *)ht);
#endif
        struct ht_slot *chunk = kzalloc(HT_CHUNK_SLOTS * sizeof(*chunk));
        struct ht_slot **dir = NULL;
        if (chunk && nchunks == dir_cap)
            dir = kzalloc((size_t)dir_cap * 2 * sizeof(*dir));
        if (chunk == NULL || (nchunks == dir_cap && dir == NULL)) {
            kfree(chunk);
            return ZX_ERR_NO_MEMORY;
        }

        struct ht_slot **unused_dir = dir;
        spin_lock_irqsave(&ht->lock, &st);
        if (ht->chunks != NULL && ht->nchunks == nchunks && ht->free_head == HT_NO_SLOT) {
            if (dir) {
                memcpy(dir, ht->chunks, (size_t)nchunks * sizeof(*dir));
                unused_dir = ht->chunks;
                ht->chunks = dir;
                ht->dir_cap = dir_cap * 2;
            }
            ht_add_chunk_locked(ht, chunk);
            chunk = NULL;
        }
        spin_unlock_irqrestore(&ht->lock, st);
        kfree(unused_dir);
        kfree(chunk);
    }
}

zx_status_t handle_table_add(handle_table_t *ht, kobject_t *obj, zx_rights_t rights,
                             zx_handle_t *out) {
    handle_ref_t h;
    handle_ref_init(&h, obj, rights);
    zx_status_t status = ht_insert(ht, obj, rights, out);
    if (status != ZX_OK) {
        /* Undo by hand: this handle never existed, so on_zero_handles must not run. */
        __atomic_fetch_sub(&obj->handle_count, 1, __ATOMIC_ACQ_REL);
        kobject_unref(obj);
    }
    return status;
}

zx_status_t handle_table_add_ref(handle_table_t *ht, handle_ref_t *h, zx_handle_t *out) {
    DEBUG_ASSERT(h->obj != NULL);
    zx_status_t status = ht_insert(ht, h->obj, h->rights, out);
    if (status == ZX_OK)
        h->obj = NULL;
    return status;
}

zx_status_t handle_table_get(handle_table_t *ht, zx_handle_t value, zx_obj_type_t type,
                             zx_rights_t required, kobject_t **obj, zx_rights_t *rights) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&ht->lock, &st);
    struct ht_slot *s = ht_lookup_locked(ht, value);
    zx_status_t status = ZX_OK;
    if (s == NULL)
        status = ZX_ERR_BAD_HANDLE;
    else if (type != ZX_OBJ_TYPE_NONE && kobject_type(s->obj) != type)
        status = ZX_ERR_WRONG_TYPE;
    else if ((s->rights & required) != required)
        status = ZX_ERR_ACCESS_DENIED;
    if (status == ZX_OK) {
        kobject_ref(s->obj);
        *obj = s->obj;
        if (rights != NULL)
            *rights = s->rights;
    }
    spin_unlock_irqrestore(&ht->lock, st);
    return status;
}

/* Removing a handle cancels waits through it: waiters re-check still_valid. */
zx_status_t handle_table_remove(handle_table_t *ht, zx_handle_t value, handle_ref_t *out) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&ht->lock, &st);
    struct ht_slot *s = ht_lookup_locked(ht, value);
    if (s == NULL) {
        spin_unlock_irqrestore(&ht->lock, st);
        return ZX_ERR_BAD_HANDLE;
    }
    out->obj = s->obj;
    out->rights = s->rights;
    s->obj = NULL;
    s->rights = 0;
    s->gen = (s->gen + 1) & HT_GEN_MASK;
    ht->count--;
    ht_push_free_locked(ht, (value >> 2) & HT_INDEX_MASK);
    spin_unlock_irqrestore(&ht->lock, st);
    kobject_poke_waiters(out->obj);
    return ZX_OK;
}

void handle_ref_init(handle_ref_t *out, kobject_t *obj, zx_rights_t rights) {
    kobject_ref(obj);
    __atomic_fetch_add(&obj->handle_count, 1, __ATOMIC_RELAXED);
    out->obj = obj;
    out->rights = rights;
}

void handle_ref_release(handle_ref_t *h) {
    kobject_t *obj = h->obj;
    if (obj == NULL)
        return;
    h->obj = NULL;
    uint32_t old = __atomic_fetch_sub(&obj->handle_count, 1, __ATOMIC_ACQ_REL);
    ASSERT_MSG(old > 0, "handle_count underflow on %p", (void *)obj);
    /* The op and the unref go through the kobject layer's release queue (kobject.h), so
     * a handle that releases other handles never recurses. */
    if (old == 1 && obj->ops->on_zero_handles != NULL)
        kobject_handle_action(obj, KOBJECT_ACTION_ZERO_HANDLES);
    else if (old > 1 && obj->ops->on_handle_dropped != NULL)
        kobject_handle_action(obj, KOBJECT_ACTION_HANDLE_DROPPED);
    else
        kobject_unref(obj);
}

void handle_ref_dup(const handle_ref_t *h, zx_rights_t rights, handle_ref_t *out) {
    handle_ref_init(out, h->obj, rights);
}

bool handle_table_valid(handle_table_t *ht, zx_handle_t value) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&ht->lock, &st);
    bool valid = ht_lookup_locked(ht, value) != NULL;
    spin_unlock_irqrestore(&ht->lock, st);
    return valid;
}

size_t handle_table_count(handle_table_t *ht) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&ht->lock, &st);
    size_t n = ht->count;
    spin_unlock_irqrestore(&ht->lock, st);
    return n;
}

/* Visits the slots one chunk per hold of the lock (see the file comment). */
void handle_table_for_each(handle_table_t *ht,
                           void (*fn)(void *ctx, zx_handle_t value, kobject_t *obj,
                                      zx_rights_t rights),
                           void *ctx) {
    spin_lock_saved_state_t st;
    for (uint32_t c = 0;; c++) {
        spin_lock_irqsave(&ht->lock, &st);
        if (c >= ht->nchunks) {
            spin_unlock_irqrestore(&ht->lock, st);
            return;
        }
        for (uint32_t i = 0; i < HT_CHUNK_SLOTS; i++) {
            struct ht_slot *s = &ht->chunks[c][i];
            if (s->obj != NULL)
                fn(ctx, ht_encode(c * HT_CHUNK_SLOTS + i, s->gen), s->obj, s->rights);
        }
        spin_unlock_irqrestore(&ht->lock, st);
    }
}
