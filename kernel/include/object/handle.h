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
 * Locking: one spinlock per table (irqsave). Objects are referenced/unreferenced
 * outside it (an unref can run a destructor).
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

/* Removes value from the table, returning its handle in *out (BAD_HANDLE if absent). */
zx_status_t handle_table_remove(handle_table_t *ht, zx_handle_t value, handle_ref_t *out);

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

/* Calls fn(ctx, value, obj, rights) for every handle, in slot order, with the table
 * locked (a chunk of slots at a time, so the walk is not one atomic snapshot: handles
 * added or closed meanwhile may or may not be seen): fn must not block, allocate from the
 * handle table or unref objects. */
void handle_table_for_each(handle_table_t *ht,
                           void (*fn)(void *ctx, zx_handle_t value, kobject_t *obj,
                                      zx_rights_t rights),
                           void *ctx);

#endif
