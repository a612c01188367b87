/*
 * A process with a VM worth dumping, for the boot tests of the VM dump
 * (tests/runner/CMakeLists.txt, qemu.vm_dump_*; docs/debugging.md, "Page-table and VM
 * dumps"). Run with userboot.prefix=dumps/demo and dump.aspace=process:dumps/demo; it
 * exits normally and the kernel prints its dump as it ends. It holds:
 *   - VMO "dumps-data", 8 pages mapped read-write: pages 0-2 written (committed and
 *     populated), page 5 written through zx_vmo_write (committed, not populated), pages
 *     3, 4 and 6 never touched; page 7 protected read-only (a second protection run);
 *   - a sub-VMAR of 16 pages (CAN_MAP_READ | WRITE) holding VMO "dumps-ro", 2 pages
 *     mapped read-only, of which page 0 was read (the zero page mapped, nothing
 *     committed).
 */
#include <stdio.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#define DEMO_PAGE 4096u
#define DATA_PAGES 8u
#define SUB_PAGES 16u
#define RO_PAGES 2u

/* A VMO of `pages` pages named name; exits with status 2 on failure. */
static zx_handle_t named_vmo(const char *name, size_t pages) {
    zx_handle_t vmo;
    if (zx_vmo_create(pages * DEMO_PAGE, 0, &vmo) != ZX_OK ||
        zx_object_set_property(vmo, ZX_PROP_NAME, name, strlen(name)) != ZX_OK) {
        printf("dumps/demo: vmo setup failed\n");
        zx_process_exit(2);
    }
    return vmo;
}

int main(void) {
    zx_handle_t data = named_vmo("dumps-data", DATA_PAGES);
    uintptr_t a = 0;
    if (zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, data, 0,
                    DATA_PAGES * DEMO_PAGE, &a) != ZX_OK)
        return 2;
    for (unsigned i = 0; i < 3; i++)
        ((volatile uint8_t *)a)[i * DEMO_PAGE] = (uint8_t)(i + 1);
    uint8_t byte = 5;
    if (zx_vmo_write(data, &byte, 5 * DEMO_PAGE, 1) != ZX_OK ||
        zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, a + 7 * DEMO_PAGE, DEMO_PAGE) !=
            ZX_OK)
        return 2;

    zx_handle_t sub;
    uintptr_t sub_base = 0, b = 0;
    zx_handle_t ro = named_vmo("dumps-ro", RO_PAGES);
    if (zx_vmar_allocate(zx_vmar_root_self(), ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE, 0,
                         SUB_PAGES * DEMO_PAGE, &sub, &sub_base) != ZX_OK ||
        zx_vmar_map(sub, ZX_VM_PERM_READ, 0, ro, 0, RO_PAGES * DEMO_PAGE, &b) != ZX_OK)
        return 2;
    uint8_t seen = *(volatile uint8_t *)b;
    printf("dumps/demo: data at 0x%lx, sub-VMAR at 0x%lx, dumps-ro at 0x%lx (reads %u)\n",
           (unsigned long)a, (unsigned long)sub_base, (unsigned long)b, seen);
    return 0;
}
