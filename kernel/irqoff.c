/*
 * The interrupts-off report of <kernel/irqoff.h>: the longest stretch, read from the
 * architecture's accounting (kernel/arch/x86/irqoff.c), with symbolised addresses.
 */
#include <kernel/console.h>
#include <kernel/irqoff.h>
#include <kernel/ksyms.h>

static void print_pc(const char *label, uintptr_t pc) {
    const char *name;
    uint64_t off;
    if (ksyms_lookup(pc, &name, &off))
        printf(" %s %s+0x%lx", label, name, off);
    else
        printf(" %s 0x%lx", label, pc);
}

void irqoff_print(const char *tag) {
    struct irqoff_stats st;
    irqoff_get(&st);
    printf("irqoff: longest stretch %lu ticks (%lu ns)", st.max_ticks, st.max_ns);
    print_pc("from", st.start_pc);
    print_pc("to", st.end_pc);
    printf(" (%s)\n", tag);
}
