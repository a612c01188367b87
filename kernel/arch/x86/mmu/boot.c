/*
 * Boot-time construction of the kernel address space, and the boot allocator.
 *
 * Before this runs, the entry code's tables identity-map [0, 4 GiB) and map the image
 * at -2 GiB. Here we:
 *   1. turn the firmware memory map into free page ranges (usable RAM minus the first
 *      MiB, the kernel image and the boot modules);
 *   2. build the final tables from pages taken off the front of those ranges (below
 *      4 GiB, so they are reachable through the identity map while we fill them):
 *      a PML4 whose kernel slots 256..511 all point at pre-allocated PDPTs (so no address
 *      space ever needs a kernel-half update), the physmap of all RAM with 1 GiB pages
 *      (2 MiB without CPU support), and the image in 4 KiB pages with per-section rights;
 *   3. load CR3 (the identity map is gone from here on) and allocate the vm_page array;
 *   4. hand every remaining free page to the PMM. Everything taken here stays WIRED.
 */
#include <arch/init.h>
#include <arch/x86/arch.h>
#include <arch/x86/boot_defs.h>
#include <arch/x86/cpu.h>
#include <arch/x86/mmu_defs.h>
#include <kernel/console.h>
#include <kernel/panic.h>
#include <lib/string.h>
#include <phys/memrange.h>
#include <phys/physmap.h>
#include <phys/pmm.h>
#include <phys/vm_page.h>

#define BOOT_RANGES_MAX 256
#define BOOT_IDENTITY_LIMIT ((uint64_t)BOOT_IDENTITY_GIB << 30)
#define LOW_MEMORY_RESERVED (1ull << 20) /* BIOS data, real-mode IVT, option ROMs */
#define KERNEL_TABLE_FLAGS (X86_PTE_P | X86_PTE_W)

extern char __kernel_phys_start[], __kernel_phys_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[], __kernel_end[];

static struct mem_range usable_storage[BOOT_RANGES_MAX];
static struct mem_range free_storage[BOOT_RANGES_MAX];
static struct range_set usable_set;
static struct range_set free_set;
static bool on_final_tables;
static paddr_t kernel_pml4;
static paddr_t kernel_pdpt[X86_PT_ENTRIES]; /* indexed by PML4 slot; 0 below 256 */
static size_t boot_pages_taken;
static uint64_t physmap_end;

uint64_t x86_kernel_pml4_phys(void) { return kernel_pml4; }
uint64_t x86_physmap_end(void) { return physmap_end; }

/* Physical -> usable pointer: identity map before the switch, physmap after. */
static void *boot_phys_ptr(paddr_t pa) {
    return on_final_tables ? paddr_to_physmap(pa) : (void *)(uintptr_t)pa;
}

/* Takes n pages off the free ranges; panics when memory is exhausted. The pages are not
 * cleared: see boot_alloc_zeroed. */
static paddr_t boot_alloc_pages(size_t n, const char *what) {
    uint64_t limit = on_final_tables ? UINT64_MAX : BOOT_IDENTITY_LIMIT;
    uint64_t pa;
    if (range_set_take(&free_set, (uint64_t)n * PAGE_SIZE, PAGE_SIZE, limit, &pa) != ZX_OK)
        panic("boot: out of memory taking %zu pages for %s", n, what);
    boot_pages_taken += n;
    return pa;
}

/* boot_alloc_pages for page tables, which must start empty. */
static paddr_t boot_alloc_zeroed(size_t n, const char *what) {
    paddr_t pa = boot_alloc_pages(n, what);
    memset(boot_phys_ptr(pa), 0, n * PAGE_SIZE);
    return pa;
}

static uint64_t *table_at(paddr_t pa) { return boot_phys_ptr(pa); }

/* Returns the table an entry points to, allocating it if the entry is empty. */
static uint64_t *next_table(uint64_t *entry, const char *what) {
    if (!(*entry & X86_PTE_P))
        *entry = boot_alloc_zeroed(1, what) | KERNEL_TABLE_FLAGS;
    ASSERT(!(*entry & X86_PTE_PS));
    return table_at(*entry & X86_PTE_ADDR_MASK);
}

static void build_free_ranges(const struct boot_info *bi) {
    range_set_init(&usable_set, usable_storage, BOOT_RANGES_MAX);
    range_set_init(&free_set, free_storage, BOOT_RANGES_MAX);
    for (size_t i = 0; i < bi->mem_count; i++) {
        const struct boot_mem_region *r = &bi->mem[i];
        if (r->type != BOOT_MEM_USABLE)
            continue;
        if (range_set_add(&usable_set, r->base, r->length) != ZX_OK ||
            range_set_add(&free_set, r->base, r->length) != ZX_OK)
            panic("boot: more than %d usable memory ranges", BOOT_RANGES_MAX);
    }
    range_set_trim_to_alignment(&usable_set, PAGE_SIZE);

    uint64_t kstart = (uint64_t)(uintptr_t)__kernel_phys_start;
    uint64_t kend = (uint64_t)(uintptr_t)__kernel_phys_end;
    zx_status_t st = range_set_subtract(&free_set, 0, LOW_MEMORY_RESERVED);
    if (st == ZX_OK)
        st = range_set_subtract(&free_set, kstart, kend - kstart);
    for (size_t i = 0; st == ZX_OK && i < bi->module_count; i++)
        st = range_set_subtract(&free_set, bi->modules[i].start,
                                bi->modules[i].end - bi->modules[i].start);
    if (st != ZX_OK)
        panic("boot: memory map too fragmented (%d)", st);
    range_set_trim_to_alignment(&free_set, PAGE_SIZE);
    if (range_set_total(&free_set) == 0)
        panic("boot: no usable memory above 1 MiB besides the kernel and modules");
}

static void map_physmap(uint64_t end) {
    for (uint64_t pa = 0; pa < end; pa += X86_PAGE_SIZE_1G) {
        uint64_t va = PHYSMAP_BASE + pa;
        uint64_t *pdpt = table_at(kernel_pdpt[X86_VA_INDEX(va, X86_PML4_SHIFT)]);
        uint64_t *pdpte = &pdpt[X86_VA_INDEX(va, X86_PDPT_SHIFT)];
        uint64_t leaf = X86_PTE_P | X86_PTE_W | X86_PTE_G | X86_PTE_PS |
                        (x86_features.nx ? X86_PTE_NX : 0);
        if (x86_features.page1g) {
            *pdpte = pa | leaf;
            continue;
        }
        uint64_t *pd = next_table(pdpte, "physmap");
        for (unsigned i = 0; i < X86_PT_ENTRIES; i++)
            pd[i] = (pa + (uint64_t)i * X86_PAGE_SIZE_2M) | leaf;
    }
}

/* Rights for one 4 KiB page of the image: text RX, rodata R, everything else RW; all G. */
static uint64_t image_page_flags(uintptr_t va) {
    uint64_t nx = x86_features.nx ? X86_PTE_NX : 0;
    if (va >= (uintptr_t)__text_start && va < (uintptr_t)__text_end)
        return X86_PTE_P | X86_PTE_G;
    if (va >= (uintptr_t)__rodata_start && va < (uintptr_t)__rodata_end)
        return X86_PTE_P | X86_PTE_G | nx;
    return X86_PTE_P | X86_PTE_W | X86_PTE_G | nx;
}

static void map_kernel_image(void) {
    uint64_t pstart = (uint64_t)(uintptr_t)__kernel_phys_start;
    uintptr_t vend = (uintptr_t)__kernel_end;
    for (uintptr_t va = KERNEL_VMA_BASE + pstart; va < vend; va += PAGE_SIZE) {
        uint64_t *pdpt = table_at(kernel_pdpt[X86_VA_INDEX(va, X86_PML4_SHIFT)]);
        uint64_t *pd = next_table(&pdpt[X86_VA_INDEX(va, X86_PDPT_SHIFT)], "kernel image");
        uint64_t *pt = next_table(&pd[X86_VA_INDEX(va, X86_PD_SHIFT)], "kernel image");
        pt[X86_VA_INDEX(va, X86_PT_SHIFT)] = (va - KERNEL_VMA_BASE) | image_page_flags(va);
    }
}

void arch_mmu_boot_init(const struct boot_info *bi) {
    build_free_ranges(bi);

    /* PML4 and one PDPT per kernel slot. */
    kernel_pml4 = boot_alloc_zeroed(1, "kernel PML4");
    uint64_t *pml4 = table_at(kernel_pml4);
    for (unsigned i = X86_KERNEL_PML4_FIRST; i < X86_PT_ENTRIES; i++) {
        kernel_pdpt[i] = boot_alloc_zeroed(1, "kernel PDPT");
        pml4[i] = kernel_pdpt[i] | KERNEL_TABLE_FLAGS;
    }

    uint64_t ram_end = range_set_end(&usable_set);
    physmap_end = ROUNDUP(ram_end, X86_PAGE_SIZE_1G);
    if (physmap_end > PHYSMAP_SIZE)
        panic("boot: RAM ends at 0x%lx, beyond the %llu GiB physmap", ram_end,
              PHYSMAP_SIZE >> 30);
    map_physmap(physmap_end);
    map_kernel_image();

    x86_set_cr3(kernel_pml4);
    on_final_tables = true;

    /* vm_page array for every frame below the end of RAM. */
    size_t frames = (size_t)(ram_end >> PAGE_SHIFT);
    size_t array_pages = ROUNDUP(frames * sizeof(vm_page_t), PAGE_SIZE) / PAGE_SIZE;
    /* Not cleared here: pmm_init initialises every record. */
    paddr_t array_pa = boot_alloc_pages(array_pages, "vm_page array");
    zx_status_t st = pmm_init(paddr_to_physmap(array_pa), frames, &free_set, &usable_set);
    if (st != ZX_OK)
        panic("boot: pmm_init failed (%d)", st);

    printf("mmu: physmap [0, 0x%lx) with %s pages, kernel PML4 at 0x%lx\n", physmap_end,
           x86_features.page1g ? "1 GiB" : "2 MiB", kernel_pml4);
    printf("pmm: %zu frames, vm_page array %zu KiB, %zu boot pages, %zu free pages (%zu MiB)\n",
           frames, array_pages * PAGE_SIZE / 1024, boot_pages_taken, pmm_count_free_pages(),
           pmm_count_free_pages() * PAGE_SIZE >> 20);
}

uint64_t x86_mmu_boot_lookup(uintptr_t va, int *level) {
    static const unsigned shifts[4] = {X86_PT_SHIFT, X86_PD_SHIFT, X86_PDPT_SHIFT,
                                       X86_PML4_SHIFT};
    uint64_t *table = table_at(x86_get_cr3() & X86_PTE_ADDR_MASK);
    for (int lvl = 3; lvl >= 0; lvl--) {
        uint64_t e = table[X86_VA_INDEX(va, shifts[lvl])];
        *level = lvl;
        if (!(e & X86_PTE_P) || lvl == 0 || (e & X86_PTE_PS))
            return e;
        table = table_at(e & X86_PTE_ADDR_MASK);
    }
    return 0;
}
