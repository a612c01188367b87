/*
 * In-kernel tests of the process registry (test=proc_registry): a published process is
 * listed and found by koid, each lookup holding a reference, until its destroy takes it
 * off the list. The tests switch the registry on (as the debug console does at boot);
 * it stays on for the rest of the run, which only adds processes to the list.
 */
#include <kernel/ktest.h>
#include <lib/string.h>
#include "proc_priv.h"

#define REGISTRY_KTEST_NAME "ktest-registry"
#define REGISTRY_KTEST_SNAPSHOT 64

static process_t *snapshot[REGISTRY_KTEST_SNAPSHOT];

/* The registry's guard: kobject_try_ref takes a reference while there is one, never
 * once the count is zero. */
KTEST(proc_registry, try_ref_only_while_referenced) {
    kobject_t *job;
    if (job_create(job_root(), &job) != ZX_OK)
        return; /* fault injection: skip */
    EXPECT_TRUE(kobject_try_ref(job));
    EXPECT_EQ(job->refs, 2u);
    kobject_unref(job);
    kobject_unref(job);
    kobject_t gone = {.refs = 0};
    EXPECT_FALSE(kobject_try_ref(&gone));
    EXPECT_EQ(gone.refs, 0u);
}

KTEST(proc_registry, lists_and_finds_a_process_until_it_is_destroyed) {
    proc_registry_enable();
    process_t *p;
    kobject_t *vmar;
    zx_rights_t rights;
    zx_status_t st = process_create(job_root(), REGISTRY_KTEST_NAME,
                                    strlen(REGISTRY_KTEST_NAME), false, &p, &vmar, &rights);
    if (st == ZX_ERR_NO_MEMORY)
        return; /* fault injection: skip */
    ASSERT_OK(st);
    zx_koid_t koid = p->obj.koid;

    process_t *found = proc_registry_find(koid);
    EXPECT_EQ(found, p);
    if (found) {
        EXPECT_EQ(p->obj.refs, 2u); /* ours and the lookup's */
        kobject_unref(&found->obj);
    }
    size_t total;
    size_t n = proc_registry_snapshot(snapshot, REGISTRY_KTEST_SNAPSHOT, &total);
    EXPECT_GE(total, n);
    bool listed = false;
    for (size_t i = 0; i < n; i++) {
        listed = listed || snapshot[i] == p;
        kobject_unref(&snapshot[i]->obj);
    }
    EXPECT_TRUE(listed);
    EXPECT_NULL(proc_registry_find(koid + 1)); /* the next koid is no process yet */

    kobject_unref(vmar);
    kobject_unref(&p->obj); /* the last reference: destroyed, off the list */
    EXPECT_NULL(proc_registry_find(koid));
}
