/*
 * Handles and handle tables.
 *
 * A handle is {object reference, rights}. A process's handle table maps handle values to
 * handles. Value encoding: bits 0-1 are always 1 (ZX_HANDLE_FIXED_BITS_MASK); the slot
 * index and a per-slot generation make up the rest, so a closed value is not handed out
 * again until the slot's generation wraps (and freed slots are reused oldest-first).
 * Value 0 (ZX_HANDLE_INVALID) is never produced.
 *
 * Lookup order, everywhere: value not in the table -> ZX_ERR_BAD_HANDLE; object of
 * another type -> ZX_ERR_WRONG_TYPE; a required right missing -> ZX_ERR_ACCESS_DENIED.
 *
 * Locking: one blocking mutex per table (<kernel/mutex.h>, lock class handle_table), so
 * every call below that takes it must be made from thread context with interrupts on and
 * no spinlock held. Objects are unreferenced outside it (an unref can run a destructor).
 */
#ifndef OBJECT_HANDLE_H
#define OBJECT_HANDLE_H

#include <stddef.h>
#include <stdint.h>
#include <object/kobject.h>
#include <zircon/rights.h>
#include <zircon/types.h>

/* A handle outside any table (in a channel message, or in flight between tables). */
typedef struct handle_ref {
    kobject_t *obj; /* holds one reference and one handle_count */
    zx_rights_t rights;
} handle_ref_t;

typedef struct handle_table handle_table_t;

/* The most handles one add_many / remove_many moves under one hold of the table lock
 * (a channel message's handles, a chunk of zx_handle_close_many's array). */
#define HANDLE_TABLE_BATCH_MAX 64u

/* The batch that code closing a user array of handles removes at a time: each batch's
 * handle_ref_t array sits on the kernel stack until released. */
#define HANDLE_TABLE_CLOSE_BATCH 16u

/* Slots per chunk of a table: the unit of handle_table_visit_chunk. */
#define HANDLE_TABLE_CHUNK_SLOTS 64u

/* Creates an empty table. Returns NULL when out of memory. */
handle_table_t *handle_table_create(void);

/* Closes every handle left in the table and drops the creator's reference (the struct
 * is freed with the last reference; the table stays empty until then). */
void handle_table_destroy(handle_table_t *ht);

/* Keep the struct alive while walking a table someone else may destroy meanwhile. */
void handle_table_ref(handle_table_t *ht);
void handle_table_unref(handle_table_t *ht);

/*
 * Adds a handle to obj with rights. Takes one new reference and one handle_count on obj
 * (the caller keeps its own reference). Returns ZX_OK and the value in *out, or
 * ZX_ERR_NO_MEMORY (nothing changed).
 */
zx_status_t handle_table_add(handle_table_t *ht, kobject_t *obj, zx_rights_t rights,
                             zx_handle_t *out);

/* Adds an in-flight handle, consuming its reference and handle_count (on failure they
 * stay with *h). */
zx_status_t handle_table_add_ref(handle_table_t *ht, handle_ref_t *h, zx_handle_t *out);

/*
 * Looks value up with the lookup order above; type ZX_OBJ_TYPE_NONE matches any type.
 * On ZX_OK *obj holds a new reference (caller unrefs) and *rights (may be NULL) the
 * handle's rights.
 */
zx_status_t handle_table_get(handle_table_t *ht, zx_handle_t value, zx_obj_type_t type,
                             zx_rights_t required, kobject_t **obj, zx_rights_t *rights);

/* One lookup of handle_table_get2: in value, type, required; out obj, rights. */
struct handle_get {
    zx_handle_t value;
    zx_obj_type_t type;
    zx_rights_t required;
    kobject_t *obj;
    zx_rights_t rights;
};

/*
 * handle_table_get of a[0] and then of a[1] in one hold of the table lock (a syscall that
 * takes two handles pays for one lock round trip). Returns a[0]'s error if it has one,
 * else a[1]'s; on ZX_OK both obj hold a new reference (caller unrefs), on failure none.
 */
zx_status_t handle_table_get2(handle_table_t *ht, struct handle_get a[2]);

/* Removes value from the table, returning its handle in *out (BAD_HANDLE if absent). */
zx_status_t handle_table_remove(handle_table_t *ht, zx_handle_t value, handle_ref_t *out);

/*
 * Adds n (at most HANDLE_TABLE_BATCH_MAX) in-flight handles in one hold of the table
 * lock, so no other thread sees some of them without the others. On ZX_OK each h[i] is
 * consumed (h[i].obj set to NULL) and values[i] is its value; on ZX_ERR_NO_MEMORY (the
 * table cannot grow, or is destroyed) nothing changed and the handles stay with h[].
 */
zx_status_t handle_table_add_many(handle_table_t *ht, handle_ref_t *h, uint32_t n,
                                  zx_handle_t *values);

/*
 * Removes the n (at most HANDLE_TABLE_BATCH_MAX) values in one hold of the table lock,
 * in array order: out[i] receives the handle of values[i], or obj == NULL if values[i]
 * was not in the table (ZX_HANDLE_INVALID, a stale value, or a repeat of an earlier
 * entry). Returns how many were removed; the caller owns (and releases) them.
 */
uint32_t handle_table_remove_many(handle_table_t *ht, const zx_handle_t *values, uint32_t n,
                                  handle_ref_t *out);

/* Makes an in-flight handle to obj with `rights`: takes one new reference and one
 * handle_count (the caller keeps its own reference). Kernel code that holds an object
 * "as a handle" (e.g. a channel endpoint it reads from, or handles it sends with
 * channel_write_kernel) uses this and later handle_ref_release. */
void handle_ref_init(handle_ref_t *out, kobject_t *obj, zx_rights_t rights);

/* Drops an in-flight handle: handle_count-- (running on_zero_handles at zero, else
 * on_handle_dropped) and unref, through the kobject release queue (kobject.h): if this
 * thread is already releasing an object, the op runs later in the same outermost call.
 * Sets h->obj to NULL; a handle_ref with obj == NULL is ignored. */
void handle_ref_release(handle_ref_t *h);

/* Makes a second handle_ref to the same object with `rights` (no checks). */
void handle_ref_dup(const handle_ref_t *h, zx_rights_t rights, handle_ref_t *out);

/* True if value currently names a handle in ht (any type). */
bool handle_table_valid(handle_table_t *ht, zx_handle_t value);

size_t handle_table_count(handle_table_t *ht);

/* What a walk calls for each handle, with the table locked: fn may take a reference on
 * obj (the slot keeps it alive meanwhile) and take spinlocks; it must not use the table,
 * release a handle or drop a reference, block, or copy to or from user memory. */
typedef void (*handle_table_visit_fn)(void *ctx, zx_handle_t value, kobject_t *obj,
                                      zx_rights_t rights);

/* Calls fn(ctx, value, obj, rights) for every handle of chunk number `chunk` (slots
 * [chunk * HANDLE_TABLE_CHUNK_SLOTS, +HANDLE_TABLE_CHUNK_SLOTS)), in slot order, in one
 * hold of the table lock. Returns false (calling nothing) when the table has no such
 * chunk: chunks are numbered from 0 and never go away while the table lives, so a walk
 * that stops at the first false has seen every chunk (a destroyed table has none). */
bool handle_table_visit_chunk(handle_table_t *ht, uint32_t chunk, handle_table_visit_fn fn,
                              void *ctx);

/* Calls fn for every handle, in slot order, one chunk per hold of the table lock (so the
 * walk is not one atomic snapshot: handles added or closed meanwhile may or may not be
 * seen). */
void handle_table_for_each(handle_table_t *ht, handle_table_visit_fn fn, void *ctx);

#endif
