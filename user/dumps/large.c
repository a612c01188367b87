/*
 * Large pages in a dump (tests/runner/CMakeLists.txt, qemu.vm_dump_large; docs/debugging.md,
 * "Page-table and VM dumps"). Run with userboot.prefix=dumps/large and
 * dump.aspace=process:dumps/large; it exits normally and the kernel prints its dump as it
 * ends. It holds VMO "dumps-large", 4 MiB committed with zx_vmo_op_range(COMMIT) (so in
 * two 2 MiB blocks, docs/architecture.md "Large pages") and mapped read-write,
 * 2 MiB-aligned, with MAP_RANGE; then one page of the second block is protected
 * read-only, which splits that block into 4 KiB entries while the first stays one 2M
 * entry.
 */
#include <stdio.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#define LARGE_BLOCK (2u << 20)
#define LARGE_SIZE (2u * LARGE_BLOCK)
#define LARGE_PAGE 4096u

int main(void) {
    static const char name[] = "dumps-large";
    zx_handle_t vmo;
    uintptr_t a = 0;
    if (zx_vmo_create(LARGE_SIZE, 0, &vmo) != ZX_OK ||
        zx_object_set_property(vmo, ZX_PROP_NAME, name, strlen(name)) != ZX_OK ||
        zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, LARGE_SIZE, NULL, 0) != ZX_OK ||
        zx_vmar_map(zx_vmar_root_self(),
                    ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_MAP_RANGE | ZX_VM_ALIGN_2MB, 0,
                    vmo, 0, LARGE_SIZE, &a) != ZX_OK ||
        zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a + LARGE_BLOCK + LARGE_PAGE,
                        LARGE_PAGE) != ZX_OK) {
        printf("dumps/large: setup failed\n");
        return 2;
    }
    *(volatile uint8_t *)a = 1;
    printf("dumps/large: dumps-large at 0x%lx\n", (unsigned long)a);
    return 0;
}
