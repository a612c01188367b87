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
 * The lock is a blocking mutex (<kernel/mutex.h>): everything done under it runs with
 * interrupts on, so a thread that finds it held sleeps instead of spinning with
 * interrupts off, and the table may allocate while holding it. Growth adds one chunk
 * (and, every time the directory is full, a directory twice as large, which copies the
 * directory's pointers, never the slots). Operations on several handles (add_many,
 * remove_many) take it once for the whole batch, so another thread sees all of the
 * batch or none of it; a batch is at most HANDLE_TABLE_BATCH_MAX handles. Walks take it
 * one chunk at a time (handle_table_visit_chunk), so one walk of a large table never
 * keeps the table's other users waiting for long.
 *
 * The table lock is held only for slot bookkeeping. References are taken while it is
 * held (the slot's own reference keeps the object alive meanwhile) but dropped only after
 * it is released, because the last unref may run a destructor that closes other handles
 * (and takes the gc lock, which comes before this one).
 *
 * The struct itself is refcounted (handle_table_ref): a walker that found the table
 * through its owner keeps it while handle_table_destroy empties it; the walk then sees
 * an empty table.
 */
#include <object/handle.h>

#include <kernel/assert.h>
#include <kernel/mutex.h>
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
_Static_assert(HANDLE_TABLE_BATCH_MAX <= HT_CHUNK_SLOTS,
               "a batch's growth adds more than one chunk");
_Static_assert(HANDLE_TABLE_CHUNK_SLOTS == HT_CHUNK_SLOTS, "the header's chunk size is stale");
_Static_assert(HANDLE_TABLE_CLOSE_BATCH <= HANDLE_TABLE_BATCH_MAX, "a close batch is a batch");

struct ht_slot {
    kobject_t *obj;     /* NULL while free */
    zx_rights_t rights;
    uint32_t gen : HT_GEN_BITS;
    uint32_t next_free : 32u - HT_GEN_BITS; /* free-list link; HT_FREE_END at the tail */
};
#define HT_FREE_END ((1u << (32u - HT_GEN_BITS)) - 1u)
_Static_assert(HT_MAX_SLOTS <= HT_FREE_END, "next_free cannot hold every slot index");

struct handle_table {
    mutex_t lock;             /* guards the rest, refcount excepted, and the slots */
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

static inline uint32_t ht_index(zx_handle_t value) { return (value >> 2) & HT_INDEX_MASK; }

static inline struct ht_slot *ht_slot(handle_table_t *ht, uint32_t index) TA_REQ(ht->lock) {
    return &ht->chunks[index >> HT_CHUNK_SHIFT][index & (HT_CHUNK_SLOTS - 1)];
}

/* Returns the slot named by value, or NULL if value names no live handle. Lock held. */
static struct ht_slot *ht_lookup_locked(handle_table_t *ht, zx_handle_t value)
    TA_REQ(ht->lock) {
    if ((value & ZX_HANDLE_FIXED_BITS_MASK) != ZX_HANDLE_FIXED_BITS_MASK)
        return NULL;
    uint32_t index = ht_index(value);
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

/* Free slots (none in a destroyed table). */
static inline uint32_t ht_free_slots_locked(handle_table_t *ht) TA_REQ(ht->lock) {
    return ht->nchunks * HT_CHUNK_SLOTS - ht->count;
}

/*
 * Adds one chunk (and a directory twice as large when the directory is full), allocated
 * with the lock held: interrupts are on (a directory past the heap's slab sizes is a run
 * of pages found by a scan of the PMM's frames). ZX_ERR_NO_MEMORY, nothing changed, when
 * the table is dead (destroyed), holds HT_MAX_SLOTS slots already, or memory is out.
 */
static zx_status_t ht_grow_locked(handle_table_t *ht) TA_REQ(ht->lock) {
    if (ht->chunks == NULL || ht->nchunks >= HT_MAX_CHUNKS)
        return ZX_ERR_NO_MEMORY;
    struct ht_slot *chunk = kzalloc(HT_CHUNK_SLOTS * sizeof(*chunk));
    if (chunk == NULL)
        return ZX_ERR_NO_MEMORY;
    if (ht->nchunks == ht->dir_cap) {
        struct ht_slot **dir = kzalloc((size_t)ht->dir_cap * 2 * sizeof(*dir));
        if (dir == NULL) {
            kfree(chunk);
            return ZX_ERR_NO_MEMORY;
        }
        memcpy(dir, ht->chunks, (size_t)ht->nchunks * sizeof(*dir));
        kfree(ht->chunks);
        ht->chunks = dir;
        ht->dir_cap *= 2;
    }
    ht_add_chunk_locked(ht, chunk);
    return ZX_OK;
}

/* Puts obj (whose reference and handle_count the caller provides) into the oldest free
 * slot; there must be one. Returns the new value. */
static zx_handle_t ht_insert_locked(handle_table_t *ht, kobject_t *obj, zx_rights_t rights)
    TA_REQ(ht->lock) {
    uint32_t index = ht_pop_free_locked(ht);
    DEBUG_ASSERT(index != HT_NO_SLOT);
    struct ht_slot *s = ht_slot(ht, index);
    s->obj = obj;
    s->rights = rights;
    ht->count++;
    return ht_encode(index, s->gen);
}

/* Empties the slot of a live value into *out and frees it (generation bumped). */
static void ht_remove_locked(handle_table_t *ht, struct ht_slot *s, zx_handle_t value,
                             handle_ref_t *out) TA_REQ(ht->lock) {
    out->obj = s->obj;
    out->rights = s->rights;
    s->obj = NULL;
    s->rights = 0;
    s->gen = (s->gen + 1) & HT_GEN_MASK;
    ht->count--;
    ht_push_free_locked(ht, ht_index(value));
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
    mutex_init_class(&ht->lock, LOCK_CLASS_HANDLE_TABLE);
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
    mutex_acquire(&ht->lock);
    struct ht_slot **chunks = ht->chunks;
    uint32_t nchunks = ht->nchunks;
    ht->chunks = NULL;
    ht->dir_cap = 0;
    ht->nchunks = 0;
    ht->count = 0;
    ht->free_head = ht->free_tail = HT_NO_SLOT;
    mutex_release(&ht->lock);

    for (uint32_t c = 0; c < nchunks; c++) {
        for (uint32_t i = 0; i < HT_CHUNK_SLOTS; i++) {
            struct ht_slot *s = &chunks[c][i];
            if (s->obj != NULL) {
                handle_ref_t h = {s->obj, s->rights};
                s->obj = NULL;
                kobject_cancel_handle(h.obj, ht, ht_encode(c * HT_CHUNK_SLOTS + i, s->gen));
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
 * free slot, adding a chunk when none is free. On failure (ZX_ERR_NO_MEMORY, also when
 * the table holds HT_MAX_SLOTS handles or is destroyed) nothing changed.
 */
static zx_status_t ht_insert(handle_table_t *ht, kobject_t *obj, zx_rights_t rights,
                             zx_handle_t *out) {
    zx_status_t status = ZX_OK;
    mutex_acquire(&ht->lock);
    if (ht->free_head == HT_NO_SLOT)
        status = ht_grow_locked(ht);
    if (status == ZX_OK)
        *out = ht_insert_locked(ht, obj, rights);
    mutex_release(&ht->lock);
    return status;
}

/*
 * The handle count goes up only once the slot is taken, under the table lock (nobody can
 * close the new handle before that lock is released). Counting it first and taking it
 * back by hand on failure would be wrong: another handle to obj closed in between would
 * see a count above one (a HANDLE_DROPPED, not the last handle), and the hand-made drop
 * to zero would then never run on_zero_handles.
 */
zx_status_t handle_table_add(handle_table_t *ht, kobject_t *obj, zx_rights_t rights,
                             zx_handle_t *out) {
    kobject_ref(obj);
    zx_status_t status = ZX_OK;
    mutex_acquire(&ht->lock);
    if (ht->free_head == HT_NO_SLOT)
        status = ht_grow_locked(ht);
    if (status == ZX_OK) {
        __atomic_fetch_add(&obj->handle_count, 1, __ATOMIC_RELAXED);
        *out = ht_insert_locked(ht, obj, rights);
    }
    mutex_release(&ht->lock);
    if (status != ZX_OK)
        kobject_unref(obj);
    return status;
}

zx_status_t handle_table_add_ref(handle_table_t *ht, handle_ref_t *h, zx_handle_t *out) {
    DEBUG_ASSERT(h->obj != NULL);
    zx_status_t status = ht_insert(ht, h->obj, h->rights, out);
    if (status == ZX_OK)
        h->obj = NULL;
    return status;
}

zx_status_t handle_table_add_many(handle_table_t *ht, handle_ref_t *h, uint32_t n,
                                  zx_handle_t *values) {
    DEBUG_ASSERT(n <= HANDLE_TABLE_BATCH_MAX);
    if (n == 0)
        return ZX_OK;
    zx_status_t status = ZX_OK;
    mutex_acquire(&ht->lock);
    /* One chunk is enough: a batch is no larger than a chunk. (A destroyed table has no
     * slots and cannot grow.) */
    if (ht_free_slots_locked(ht) < n)
        status = ht_grow_locked(ht);
    if (status == ZX_OK) {
        for (uint32_t i = 0; i < n; i++) {
            DEBUG_ASSERT(h[i].obj != NULL);
            values[i] = ht_insert_locked(ht, h[i].obj, h[i].rights);
            h[i].obj = NULL;
        }
    }
    mutex_release(&ht->lock);
    return status;
}

/* The slot of value if it is a handle of `type` (NONE: any) with `required` rights;
 * otherwise the error, in the lookup order (BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED). */
static zx_status_t ht_get_locked(handle_table_t *ht, zx_handle_t value, zx_obj_type_t type,
                                zx_rights_t required, struct ht_slot **out) TA_REQ(ht->lock) {
    struct ht_slot *s = ht_lookup_locked(ht, value);
    if (s == NULL)
        return ZX_ERR_BAD_HANDLE;
    if (type != ZX_OBJ_TYPE_NONE && kobject_type(s->obj) != type)
        return ZX_ERR_WRONG_TYPE;
    if ((s->rights & required) != required)
        return ZX_ERR_ACCESS_DENIED;
    *out = s;
    return ZX_OK;
}

zx_status_t handle_table_get(handle_table_t *ht, zx_handle_t value, zx_obj_type_t type,
                             zx_rights_t required, kobject_t **obj, zx_rights_t *rights) {
    mutex_acquire(&ht->lock);
    struct ht_slot *s;
    zx_status_t status = ht_get_locked(ht, value, type, required, &s);
    if (status == ZX_OK) {
        kobject_ref(s->obj);
        *obj = s->obj;
        if (rights != NULL)
            *rights = s->rights;
    }
    mutex_release(&ht->lock);
    return status;
}

zx_status_t handle_table_get2(handle_table_t *ht, struct handle_get a[2]) {
    mutex_acquire(&ht->lock);
    struct ht_slot *s0, *s1;
    zx_status_t status = ht_get_locked(ht, a[0].value, a[0].type, a[0].required, &s0);
    if (status == ZX_OK)
        status = ht_get_locked(ht, a[1].value, a[1].type, a[1].required, &s1);
    if (status == ZX_OK) {
        kobject_ref(s0->obj);
        kobject_ref(s1->obj);
        a[0].obj = s0->obj;
        a[0].rights = s0->rights;
        a[1].obj = s1->obj;
        a[1].rights = s1->rights;
    }
    mutex_release(&ht->lock);
    return status;
}

/* Removing a handle cancels waits through it: waiters re-check still_valid, and the
 * observers added through it are cancelled. */
zx_status_t handle_table_remove(handle_table_t *ht, zx_handle_t value, handle_ref_t *out) {
    mutex_acquire(&ht->lock);
    struct ht_slot *s = ht_lookup_locked(ht, value);
    if (s != NULL)
        ht_remove_locked(ht, s, value, out);
    mutex_release(&ht->lock);
    if (s == NULL)
        return ZX_ERR_BAD_HANDLE;
    kobject_cancel_handle(out->obj, ht, value);
    kobject_poke_waiters(out->obj);
    return ZX_OK;
}

uint32_t handle_table_remove_many(handle_table_t *ht, const zx_handle_t *values, uint32_t n,
                                  handle_ref_t *out) {
    DEBUG_ASSERT(n <= HANDLE_TABLE_BATCH_MAX);
    if (n == 0)
        return 0;
    uint32_t removed = 0;
    mutex_acquire(&ht->lock);
    for (uint32_t i = 0; i < n; i++) {
        /* A repeated value finds its slot already freed: it is not in the table. */
        struct ht_slot *s = ht_lookup_locked(ht, values[i]);
        out[i].obj = NULL;
        out[i].rights = 0;
        if (s != NULL) {
            ht_remove_locked(ht, s, values[i], &out[i]);
            removed++;
        }
    }
    mutex_release(&ht->lock);
    for (uint32_t i = 0; i < n; i++) {
        if (out[i].obj != NULL) {
            kobject_cancel_handle(out[i].obj, ht, values[i]);
            kobject_poke_waiters(out[i].obj);
        }
    }
    return removed;
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
    mutex_acquire(&ht->lock);
    bool valid = ht_lookup_locked(ht, value) != NULL;
    mutex_release(&ht->lock);
    return valid;
}

size_t handle_table_count(handle_table_t *ht) {
    mutex_acquire(&ht->lock);
    size_t n = ht->count;
    mutex_release(&ht->lock);
    return n;
}

bool handle_table_visit_chunk(handle_table_t *ht, uint32_t chunk, handle_table_visit_fn fn,
                              void *ctx) {
    mutex_acquire(&ht->lock);
    bool exists = chunk < ht->nchunks;
    if (exists) {
        for (uint32_t i = 0; i < HT_CHUNK_SLOTS; i++) {
            struct ht_slot *s = &ht->chunks[chunk][i];
            if (s->obj != NULL)
                fn(ctx, ht_encode(chunk * HT_CHUNK_SLOTS + i, s->gen), s->obj, s->rights);
        }
    }
    mutex_release(&ht->lock);
    return exists;
}

void handle_table_for_each(handle_table_t *ht, handle_table_visit_fn fn, void *ctx) {
    for (uint32_t c = 0; handle_table_visit_chunk(ht, c, fn, ctx); c++) {
    }
}
