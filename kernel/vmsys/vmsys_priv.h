/* Shared by the files of kernel/vmsys (the VMO and VMAR dispatchers and their syscalls). */
#ifndef VMSYS_VMSYS_PRIV_H
#define VMSYS_VMSYS_PRIV_H

#include <kernel/user_copy.h>
#include <object/handle.h>
#include <object/vmar_dispatcher.h>
#include <object/vmo_dispatcher.h>

/*
 * A child VMO dispatcher for child_vmo (taking a new reference on it, like
 * vmo_dispatcher_create), created from parent_obj with ZX_VMO_CHILD_* child_options. The
 * child holds a reference on parent_obj until it dies, so the parent's num_children and
 * ZX_VMO_ZERO_CHILDREN track live children (and, through them, grandchildren).
 */
zx_status_t vmo_dispatcher_create_child(kobject_t *parent_obj, vmo_t *child_vmo,
                                    uint32_t child_options, uint64_t content_size,
                                    kobject_t **out);

/* Children currently alive (ZX_INFO_VMO num_children). */
size_t vmo_dispatcher_num_children(kobject_t *obj);

#endif
