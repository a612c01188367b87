/*
 * The boot seed at the root of the ASLR seed tree (<vm/vm_aslr.h>).
 */
#include <arch/entropy.h>
#include <kernel/assert.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/panic.h>
#include <lib/rand.h>
#include <lib/string.h>
#include <vm/vm_aslr.h>

static uint64_t boot_seed;      /* written once by vm_aslr_init, then read-only */
static bool boot_seed_chosen;   /* vm_aslr_init ran */
static uint64_t kernel_seeds;   /* atomic: kernel seeds handed out so far */

void vm_aslr_init(void) {
    ASSERT(!boot_seed_chosen);
    const char *source;
    size_t len;
    const char *v = cmdline_get(VM_ASLR_SEED_SWITCH, &len);
    if (v) {
        if (!kparse_u64(v, len, &boot_seed))
            panic("cmdline: " VM_ASLR_SEED_SWITCH " wants a number (decimal or 0x hex), "
                  "not \"%.*s\"", (int)len, v);
        source = VM_ASLR_SEED_SWITCH;
    } else {
        boot_seed = arch_entropy_seed(&source);
    }
    boot_seed_chosen = true;
    /* Always printed: it is what a failing run needs to be replayed. */
    printf("aslr: seed 0x%016lx (%s)\n", boot_seed, source);
}

uint64_t vm_aslr_boot_seed(void) {
    DEBUG_ASSERT(boot_seed_chosen);
    return boot_seed;
}

uint64_t vm_aslr_kernel_seed(void) {
    DEBUG_ASSERT(boot_seed_chosen);
    return rand_derive(boot_seed, __atomic_fetch_add(&kernel_seeds, 1, __ATOMIC_RELAXED));
}
