/*
 * Handle tables (object/handle.h).
 *
 * A table is a growable array of slots. A handle value is
 *     (generation << (2 + HT_INDEX_BITS)) | (index << 2) | 3
 * so the low two bits are always set and 0 never appears. Freed slots go to the tail of
 * a FIFO free list with their generation bumped: a closed value comes back only after
 * its slot has been reused 2^HT_GEN_BITS times, and every other free slot is reused
 * before it.
 *
 * The table lock is held only for slot bookkeeping. References are taken while the lock
 * is held (the slot's own reference keeps the object alive meanwhile) but dropped
 * only after it is released, because the last unref may run a destructor that closes
 * other handles.
 */
#include <object/handle.h>

#include <kernel/assert.h>
#include <lib/string.h>
#include <vm/heap.h>

#define HT_INDEX_BITS 18u
#define HT_GEN_BITS (30u - HT_INDEX_BITS)
#define HT_INDEX_MASK ((1u << HT_INDEX_BITS) - 1u)
#define HT_GEN_MASK ((1u << HT_GEN_BITS) - 1u)
#define HT_MAX_SLOTS (1u << HT_INDEX_BITS)
#define HT_INITIAL_SLOTS 64u
#define HT_NO_SLOT UINT32_MAX

struct ht_slot {
    kobject_t *obj;     /* NULL while free */
    zx_rights_t rights;
    uint32_t gen;
    uint32_t next_free; /* free-list link, HT_NO_SLOT at the tail */
};

struct handle_table {
    spinlock_t lock;
    struct ht_slot *slots;
    uint32_t cap;
    uint32_t count;
    uint32_t free_head; /* oldest free slot */
    uint32_t free_tail;
};

static inline zx_handle_t ht_encode(uint32_t index, uint32_t gen) {
    return (gen << (2u + HT_INDEX_BITS)) | (index << 2) | ZX_HANDLE_FIXED_BITS_MASK;
}

/* Returns the slot named by value, or NULL if value names no live handle. Lock held. */
static struct ht_slot *ht_lookup_locked(handle_table_t *ht, zx_handle_t value) {
    if ((value & ZX_HANDLE_FIXED_BITS_MASK) != ZX_HANDLE_FIXED_BITS_MASK)
        return NULL;
    uint32_t index = (value >> 2) & HT_INDEX_MASK;
    uint32_t gen = value >> (2u + HT_INDEX_BITS);
    if (index >= ht->cap)
        return NULL;
    struct ht_slot *s = &ht->slots[index];
    if (s->obj == NULL || s->gen != gen)
        return NULL;
    return s;
}

static void ht_push_free_locked(handle_table_t *ht, uint32_t index) {
    ht->slots[index].next_free = HT_NO_SLOT;
    if (ht->free_tail == HT_NO_SLOT)
        ht->free_head = index;
    else
        ht->slots[ht->free_tail].next_free = index;
    ht->free_tail = index;
}

static uint32_t ht_pop_free_locked(handle_table_t *ht) {
    uint32_t index = ht->free_head;
    if (index != HT_NO_SLOT) {
        ht->free_head = ht->slots[index].next_free;
        if (ht->free_head == HT_NO_SLOT)
            ht->free_tail = HT_NO_SLOT;
    }
    return index;
}

handle_table_t *handle_table_create(void) {
    handle_table_t *ht = kmalloc(sizeof(*ht));
    struct ht_slot *slots = kmalloc(HT_INITIAL_SLOTS * sizeof(*slots));
    if (ht == NULL || slots == NULL) {
        kfree(ht);
        kfree(slots);
        return NULL;
    }
    memset(slots, 0, HT_INITIAL_SLOTS * sizeof(*slots));
    spin_lock_init(&ht->lock);
    ht->slots = slots;
    ht->cap = HT_INITIAL_SLOTS;
    ht->count = 0;
    ht->free_head = ht->free_tail = HT_NO_SLOT;
    for (uint32_t i = 0; i < HT_INITIAL_SLOTS; i++)
        ht_push_free_locked(ht, i);
    return ht;
}

void handle_table_destroy(handle_table_t *ht) {
    if (ht == NULL)
        return;
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&ht->lock, &st);
    struct ht_slot *slots = ht->slots;
    uint32_t cap = ht->cap;
    ht->slots = NULL;
    ht->cap = 0;
    ht->count = 0;
    ht->free_head = ht->free_tail = HT_NO_SLOT;
    spin_unlock_irqrestore(&ht->lock, st);

    for (uint32_t i = 0; i < cap; i++) {
        if (slots[i].obj != NULL) {
            handle_ref_t h = {slots[i].obj, slots[i].rights};
            slots[i].obj = NULL;
            handle_ref_release(&h);
        }
    }
    kfree(slots);
    kfree(ht);
}

/*
 * Puts obj (whose reference and handle_count the caller has already provided) into a
 * free slot, doubling the slot array when none is free. The array is allocated with the
 * lock dropped; if another thread grew the table meanwhile, the new array is discarded
 * and the search starts again. On failure (ZX_ERR_NO_MEMORY) nothing changed.
 */
static zx_status_t ht_insert(handle_table_t *ht, kobject_t *obj, zx_rights_t rights,
                             zx_handle_t *out) {
    spin_lock_saved_state_t st;
    for (;;) {
        spin_lock_irqsave(&ht->lock, &st);
        uint32_t index = ht_pop_free_locked(ht);
        if (index != HT_NO_SLOT) {
            struct ht_slot *s = &ht->slots[index];
            s->obj = obj;
            s->rights = rights;
            ht->count++;
            *out = ht_encode(index, s->gen);
            spin_unlock_irqrestore(&ht->lock, st);
            return ZX_OK;
        }
        uint32_t old_cap = ht->cap;
        spin_unlock_irqrestore(&ht->lock, st);

        if (old_cap >= HT_MAX_SLOTS)
            return ZX_ERR_NO_MEMORY;
        uint32_t new_cap = old_cap * 2;
        struct ht_slot *slots = kmalloc((size_t)new_cap * sizeof(*slots));
        if (slots == NULL)
            return ZX_ERR_NO_MEMORY;

        spin_lock_irqsave(&ht->lock, &st);
        struct ht_slot *unused = slots;
        if (ht->cap == old_cap && ht->free_head == HT_NO_SLOT) {
            memcpy(slots, ht->slots, (size_t)old_cap * sizeof(*slots));
            memset(slots + old_cap, 0, (size_t)(new_cap - old_cap) * sizeof(*slots));
            unused = ht->slots;
            ht->slots = slots;
            ht->cap = new_cap;
            for (uint32_t i = old_cap; i < new_cap; i++)
                ht_push_free_locked(ht, i);
        }
        spin_unlock_irqrestore(&ht->lock, st);
        kfree(unused);
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
    ht_push_free_locked(ht, (uint32_t)(s - ht->slots));
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

void handle_table_for_each(handle_table_t *ht,
                           void (*fn)(void *ctx, zx_handle_t value, kobject_t *obj,
                                      zx_rights_t rights),
                           void *ctx) {
    spin_lock_saved_state_t st;
    spin_lock_irqsave(&ht->lock, &st);
    for (uint32_t i = 0; i < ht->cap; i++) {
        struct ht_slot *s = &ht->slots[i];
        if (s->obj != NULL)
            fn(ctx, ht_encode(i, s->gen), s->obj, s->rights);
    }
    spin_unlock_irqrestore(&ht->lock, st);
}
