/*
 * The debug.break= switch (<kernel/debug_break.h>): which stops are armed, and the stop
 * itself. The state is written once at boot, before other CPUs or user threads run, and
 * only read afterwards, so it needs no lock.
 */
#include <stdarg.h>
#include <arch/debug.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/debug_break.h>
#include <lib/string.h>

#define SYSCALL_PREFIX "syscall:"
#define SYSCALL_PREFIX_LEN (sizeof(SYSCALL_PREFIX) - 1)

static uint32_t armed;                    /* DEBUG_BREAK_* bits */
static uint64_t armed_syscalls;           /* bit n: syscall number n */
static const char *const *syscall_table;  /* debug_break_init's names */

/* The stops without an argument, by their command-line names. */
static const struct {
    const char *name;
    uint32_t bit;
} simple_stops[] = {
    {"boot", DEBUG_BREAK_BOOT},
    {"fault", DEBUG_BREAK_FAULT},
    {"dump", DEBUG_BREAK_DUMP},
};

static bool token_is(const char *tok, size_t len, const char *name) {
    return strlen(name) == len && memcmp(tok, name, len) == 0;
}

/* Prints the syscall names syscall:NAME accepts, several to a line. */
static void print_syscall_names(const char *const *names, size_t count) {
    enum { NAMES_PER_LINE = 8 };
    size_t printed = 0;
    for (size_t i = 0; i < count; i++) {
        if (!names[i])
            continue;
        if (printed % NAMES_PER_LINE == 0)
            printf("%sdebug.break:  ", printed ? "\n" : "");
        printf(" %s", names[i]);
        printed++;
    }
    printf("\n");
}

/* Arms syscall:NAME's stop (tok is NAME). Returns false when no syscall is named so. */
static bool arm_syscall(const char *tok, size_t len, const char *const *names, size_t count) {
    for (size_t i = 0; i < count && i < DEBUG_BREAK_SYSCALLS_MAX; i++) {
        if (names[i] && token_is(tok, len, names[i])) {
            armed |= DEBUG_BREAK_SYSCALL;
            armed_syscalls |= 1ull << i;
            return true;
        }
    }
    return false;
}

/* Arms one comma-separated value of debug.break=, or says why it cannot. */
static void arm_one(const char *tok, size_t len, const char *const *names, size_t count) {
    for (size_t i = 0; i < sizeof(simple_stops) / sizeof(simple_stops[0]); i++) {
        if (token_is(tok, len, simple_stops[i].name)) {
            armed |= simple_stops[i].bit;
            return;
        }
    }
    if (len > SYSCALL_PREFIX_LEN && memcmp(tok, SYSCALL_PREFIX, SYSCALL_PREFIX_LEN) == 0) {
        const char *name = tok + SYSCALL_PREFIX_LEN;
        size_t name_len = len - SYSCALL_PREFIX_LEN;
        if (!arm_syscall(name, name_len, names, count)) {
            printf("debug.break: unknown syscall \"%.*s\"; the syscalls are:\n",
                   (int)name_len, name);
            print_syscall_names(names, count);
        }
        return;
    }
    printf("debug.break: unknown stop \"%.*s\" (known: boot, fault, dump, syscall:NAME)\n",
           (int)len, tok);
}

/* Contract in the header. */
void debug_break_init(const char *const *syscall_names, size_t count) {
    size_t len;
    const char *value = cmdline_get("debug.break", &len);
    if (!value)
        return;
    syscall_table = syscall_names;
    for (size_t start = 0; start < len;) {
        size_t end = start;
        while (end < len && value[end] != ',')
            end++;
        if (end > start)
            arm_one(value + start, end - start, syscall_names, count);
        start = end + 1;
    }
    if (!armed) {
        printf("debug.break: no stop armed (known: boot, fault, dump, syscall:NAME)\n");
        return;
    }
    printf("debug.break: armed:");
    for (size_t i = 0; i < sizeof(simple_stops) / sizeof(simple_stops[0]); i++)
        if (armed & simple_stops[i].bit)
            printf(" %s", simple_stops[i].name);
    for (size_t i = 0; i < count && i < DEBUG_BREAK_SYSCALLS_MAX; i++)
        if (armed_syscalls & (1ull << i))
            printf(" syscall:%s", syscall_names[i]);
    printf(" (each stops the Bochs debugger; a no-op elsewhere)\n");
}

bool debug_break_armed(uint32_t what) { return (armed & what) != 0; }

bool debug_break_syscall_armed(uint64_t num) {
    return num < DEBUG_BREAK_SYSCALLS_MAX && (armed_syscalls & (1ull << num));
}

const char *debug_break_syscall_name(uint64_t num) {
    return debug_break_syscall_armed(num) ? syscall_table[num] : "?";
}

/* Contract in the header. */
void debug_break_stop(uintptr_t pc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("debug.break: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    arch_debug_break_at(pc);
}

void debug_break_user_fault(const char *process, const char *thread, const char *what,
                            uintptr_t pc) {
    if (!(armed & DEBUG_BREAK_FAULT))
        return;
    debug_break_stop(pc, "user fault: %s in process \"%s\" thread \"%s\" at pc 0x%lx",
                     what, process, thread, pc);
}

void debug_break_panic(uintptr_t pc) {
    if (!(armed & DEBUG_BREAK_FAULT))
        return;
    debug_break_stop(pc, "kernel panic at 0x%lx, before the power-off", pc);
}

void debug_break_dump(const char *what) {
    if (!(armed & DEBUG_BREAK_DUMP))
        return;
    debug_break_stop(0, "after the dump of %s", what);
}
