/* CPUID feature detection and enabling of the protection features we rely on. */
#include <arch/cpu.h>
#include <arch/x86/arch.h>
#include <arch/x86/cpu.h>
#include <arch/x86/fpu.h>
#include <kernel/console.h>
#include <lib/string.h>

#define CPUID_VENDOR 0x0u
#define CPUID_FEATURES 0x1u
#define CPUID_EXT_FEATURES 0x7u
#define CPUID_EXT_MAX 0x80000000u
#define CPUID_EXT_PROC_INFO 0x80000001u
#define CPUID_ADDR_SIZES 0x80000008u

/* Leaf 1 */
#define CPUID1_EDX_PGE (1u << 13)
#define CPUID1_EDX_PAT (1u << 16)
#define CPUID1_EDX_APIC (1u << 9)
#define CPUID1_ECX_PCID (1u << 17)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
/* Leaf 7, subleaf 0 */
#define CPUID7_EBX_SMEP (1u << 7)
#define CPUID7_EBX_INVPCID (1u << 10)
#define CPUID7_EBX_SMAP (1u << 20)
#define CPUID7_ECX_LA57 (1u << 16)
/* Leaf 0x80000001 */
#define CPUIDX1_EDX_NX (1u << 20)
#define CPUIDX1_EDX_PAGE1G (1u << 26)

struct x86_features x86_features;
/* Read by ENTRY_CLEAR_FLAGS in every exception / interrupt entry (<arch/x86/iframe_asm.h>):
 * 1 when the CPU has clac (SMAP). Zero until features are known, so early entries take the
 * path that works everywhere. */
uint8_t x86_entry_has_clac;

/* Turns on, on the calling CPU, the protections the kernel relies on that f says the
 * CPU has. WP makes read-only pages read-only for the kernel too. */
static void enable_protections(const struct x86_features *f) {
    if (f->nx)
        x86_wrmsr(X86_MSR_EFER, x86_rdmsr(X86_MSR_EFER) | X86_EFER_NXE);
    x86_set_cr0(x86_get_cr0() | X86_CR0_WP);
    uint64_t cr4 = x86_get_cr4();
    if (f->pge)
        cr4 |= X86_CR4_PGE;
    if (f->smep)
        cr4 |= X86_CR4_SMEP;
    if (f->smap)
        cr4 |= X86_CR4_SMAP;
    x86_set_cr4(cr4);
}

void x86_cpu_features_init_other_cpu(void) {
    enable_protections(&x86_features);
    x86_fpu_init_other_cpu();
}

void x86_cpu_features_init(void) {
    struct x86_features *f = &x86_features;
    uint32_t a, b, c, d;

    x86_cpuid(CPUID_VENDOR, 0, &a, &b, &c, &d);
    f->max_leaf = a;
    memcpy(&f->vendor[0], &b, 4);
    memcpy(&f->vendor[4], &d, 4);
    memcpy(&f->vendor[8], &c, 4);
    f->vendor[12] = '\0';

    x86_cpuid(CPUID_FEATURES, 0, &a, &b, &c, &d);
    f->pge = d & CPUID1_EDX_PGE;
    f->pat = d & CPUID1_EDX_PAT;
    f->apic = d & CPUID1_EDX_APIC;
    f->pcid = c & CPUID1_ECX_PCID;
    f->x2apic = c & CPUID1_ECX_X2APIC;
    x86_cpus_virtual = c & CPUID1_ECX_HYPERVISOR;

    if (f->max_leaf >= CPUID_EXT_FEATURES) {
        x86_cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
        f->smep = b & CPUID7_EBX_SMEP;
        f->smap = b & CPUID7_EBX_SMAP;
        f->invpcid = b & CPUID7_EBX_INVPCID;
        f->la57 = c & CPUID7_ECX_LA57;
    }

    x86_cpuid(CPUID_EXT_MAX, 0, &a, &b, &c, &d);
    f->max_ext_leaf = a;
    if (f->max_ext_leaf >= CPUID_EXT_PROC_INFO) {
        x86_cpuid(CPUID_EXT_PROC_INFO, 0, &a, &b, &c, &d);
        f->nx = d & CPUIDX1_EDX_NX;
        f->page1g = d & CPUIDX1_EDX_PAGE1G;
    }
    f->phys_addr_bits = 36;
    f->virt_addr_bits = 48;
    if (f->max_ext_leaf >= CPUID_ADDR_SIZES) {
        x86_cpuid(CPUID_ADDR_SIZES, 0, &a, &b, &c, &d);
        f->phys_addr_bits = a & 0xff;
        f->virt_addr_bits = (a >> 8) & 0xff;
    }

    enable_protections(f);
    x86_entry_has_clac = f->smap;

    printf("cpu: %s, %u-bit physical / %u-bit virtual addresses\n", f->vendor,
           f->phys_addr_bits, f->virt_addr_bits);
    printf("cpu: features:%s%s%s%s%s%s%s%s%s\n", f->nx ? " nx" : "", f->smep ? " smep" : "",
           f->smap ? " smap" : "", f->page1g ? " page1g" : "", f->pge ? " pge" : "",
           f->pat ? " pat" : "", f->pcid ? " pcid" : "", f->la57 ? " la57" : "",
           x86_cpus_virtual ? " hypervisor" : "");
    x86_fpu_init();
}
