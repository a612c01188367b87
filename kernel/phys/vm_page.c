/*
 * The vm_page array: one record per physical page frame, indexed by frame number.
 * pmm_init() points vm_page_array at storage the boot code carved out of RAM and sets
 * vm_page_array_count; both are written once at boot and only read afterwards.
 */
#include <phys/vm_page.h>

vm_page_t *vm_page_array;
size_t vm_page_array_count;

static const char *const state_names[VM_PAGE_STATE_COUNT] = {
    [VM_PAGE_STATE_ABSENT] = "ABSENT", [VM_PAGE_STATE_FREE] = "FREE",
    [VM_PAGE_STATE_ALLOC] = "ALLOC",   [VM_PAGE_STATE_WIRED] = "WIRED",
    [VM_PAGE_STATE_HEAP] = "HEAP",     [VM_PAGE_STATE_MMU] = "MMU",
    [VM_PAGE_STATE_OBJECT] = "OBJECT",
};

/* Returns a short upper-case name for a page state (for diagnostics); never NULL. */
const char *vm_page_state_name(unsigned state) {
    if (state < VM_PAGE_STATE_COUNT && state_names[state])
        return state_names[state];
    return "INVALID";
}
