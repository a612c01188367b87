/* Thin wrappers around x86-64 instructions and control registers. */
#ifndef ARCH_X86_CPU_H
#define ARCH_X86_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define X86_FLAGS_IF (1ull << 9)
#define X86_FLAGS_DF (1ull << 10)
#define X86_FLAGS_AC (1ull << 18)

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_SMEP (1ull << 20)
#define X86_CR4_SMAP (1ull << 21)

#define X86_MSR_EFER 0xc0000080u
#define X86_EFER_SCE (1ull << 0)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_NXE (1ull << 11)
#define X86_MSR_PAT 0x277u

static inline uint64_t x86_save_flags(void) {
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f)::"memory");
    return f;
}
/* True when RFLAGS.AC and RFLAGS.DF are both clear: what every kernel entry establishes
 * before C code runs (checked on the C side of each entry). */
static inline bool x86_entry_flags_clear(void) {
    return (x86_save_flags() & (X86_FLAGS_AC | X86_FLAGS_DF)) == 0;
}
static inline void x86_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void x86_sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void x86_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }

/*
 * The data segment selectors DS, ES, FS and GS: user code may load them (64-bit mode
 * ignores DS and ES, and FS/GS bases come from MSRs), and the kernel never uses them, so
 * whatever one thread loaded would stay for the next. Sets every nonzero one back to the
 * null selector. Returns true if any was not null: loading FS or GS (by the user, or
 * here) may have changed its base register, which the caller must then write again.
 * GS is loaded between two swapgs, so the user's GS base register takes whatever the
 * load does and the kernel's stays. Interrupts off (an interrupt between the two swapgs
 * would run with the user's base).
 */
static inline bool x86_clear_user_selectors(void) {
    uint16_t ds, es, fs, gs;
    __asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%fs, %2; mov %%gs, %3"
                     : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
    if ((ds | es | fs | gs) == 0)
        return false;
    __asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%fs; swapgs; mov %0, %%gs; swapgs"
                     ::"r"((uint32_t)0) : "memory");
    return true;
}

static inline uint64_t x86_get_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t x86_get_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t x86_get_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t x86_get_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void x86_set_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline void x86_set_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline void x86_set_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }

static inline uint64_t x86_rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void x86_wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t x86_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void x86_invlpg(uintptr_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }

static inline void x86_cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
                             uint32_t *d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

/* SMAP: stac/clac bracket the few places that touch user memory on purpose. */
static inline void x86_stac(void) { __asm__ volatile("stac" ::: "memory", "cc"); }
static inline void x86_clac(void) { __asm__ volatile("clac" ::: "memory", "cc"); }

#endif
