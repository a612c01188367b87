/*
 * Jobs and the root resource. Beryl has one job tree level in practice: the root job,
 * handed to userboot, in which every process is created. A job here is only a
 * capability to create processes (ZX_RIGHT_MANAGE_PROCESS); it does not yet track its
 * processes or apply policy. The root resource is the capability for kernel-wide
 * information (ZX_INFO_KMEM_STATS).
 */
#include <kernel/assert.h>
#include <phys/heap.h>
#include "proc_priv.h"

static void plain_destroy(kobject_t *o) { kfree(o); }

static const struct kobject_ops job_ops = {
    .type = ZX_OBJ_TYPE_JOB,
    .type_name = "job",
    .destroy = plain_destroy,
};

static const struct kobject_ops resource_ops = {
    .type = ZX_OBJ_TYPE_RESOURCE,
    .type_name = "resource",
    .destroy = plain_destroy,
};

static kobject_t *root_job, *root_resource;

zx_status_t job_create(kobject_t *parent, kobject_t **out) {
    (void)parent;
    kobject_t *j = kzalloc(sizeof(*j));
    if (!j)
        return ZX_ERR_NO_MEMORY;
    kobject_init(j, &job_ops);
    *out = j;
    return ZX_OK;
}

void proc_init(void) {
    ASSERT(job_create(NULL, &root_job) == ZX_OK);
    root_resource = kzalloc(sizeof(*root_resource));
    ASSERT(root_resource);
    kobject_init(root_resource, &resource_ops);
}

kobject_t *job_root(void) { return root_job; }
kobject_t *resource_root(void) { return root_resource; }
