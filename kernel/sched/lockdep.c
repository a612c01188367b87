/*
 * The lock-order validator (<kernel/lockdep.h>): debug builds only.
 *
 * State:
 *  - each thread's held-lock stack (thread_t.lockdep), or a CPU's before a current
 *    thread exists; changed only by its owner with interrupts off, so an interrupt
 *    handler that takes a lock on the thread's behalf pushes and pops around whatever
 *    the thread was doing;
 *  - the class graph: succ[A] has bit B once a lock of class B was taken while one of
 *    class A was held, with the two code addresses of the first time (edge_site). Bits
 *    are only ever added, under graph_lock; the fast path reads them without it, and an
 *    edge it misses is checked again under the lock.
 *
 * A new edge is refused (reported) when it closes a cycle, and also when it goes against
 * the order of <kernel/lock_class.h>'s list, the documented order.
 *
 * The search for a path B -> ... -> A is a breadth-first walk over the class masks:
 * each class enters the frontier once, so it ends within LOCK_CLASS_COUNT steps, with no
 * recursion and no allocation.
 */
#include <kernel/lockdep.h>

#if LOCKDEP_BUILD

#include <arch/cpu.h>
#include <arch/irq.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/ksyms.h>
#include <kernel/thread.h>

STATIC_ASSERT(LOCK_CLASS_COUNT <= LOCKDEP_MAX_CLASSES);

bool lockdep_on;

#define LOCK_CLASS_NAME_(id, name, kind) name,
static const char *const class_names[LOCK_CLASS_COUNT] = {LOCK_CLASS_LIST(LOCK_CLASS_NAME_)};
#undef LOCK_CLASS_NAME_

struct edge_site {
    uintptr_t held_pc;  /* where the lock of the edge's first class was taken */
    uintptr_t taken_pc; /* where the second one was taken while the first was held */
};

/* The graph's own lock: a plain flag, outside the validated locks (it is taken inside
 * the hooks). Held for a bounded search and one edge update, with interrupts off. */
static uint32_t graph_lock;
static uint64_t succ[LOCK_CLASS_COUNT];
static struct edge_site edge_site[LOCK_CLASS_COUNT][LOCK_CLASS_COUNT];

static struct lockdep_held cpu_held[LOCKDEP_MAX_CPUS];
/* Per CPU: set while the validator prints, so the console lock it takes is not tracked
 * (its release, not found on the stack, is then ignored). */
static bool cpu_busy[LOCKDEP_MAX_CPUS];

static bool capture;
static uint32_t captured;
static struct lockdep_report captured_last;

static void graph_acquire(void) {
    while (__atomic_exchange_n(&graph_lock, 1, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(&graph_lock, __ATOMIC_RELAXED) != 0)
            arch_spin_pause();
    }
}

static void graph_release(void) { __atomic_store_n(&graph_lock, 0, __ATOMIC_RELEASE); }

static inline uint64_t class_bit(lock_class_t c) { return (uint64_t)1 << c; }

static const char *class_name(lock_class_t c) {
    return c < LOCK_CLASS_COUNT ? class_names[c] : "(bad class)";
}

/* The calling context's held-lock stack; NULL on a CPU the validator has no room for.
 * Interrupts are off. */
static struct lockdep_held *held_stack(void) {
    thread_t *t = thread_current();
    if (t)
        return &t->lockdep;
    uint32_t cpu = arch_curr_cpu_num();
    return cpu < LOCKDEP_MAX_CPUS ? &cpu_held[cpu] : NULL;
}

static void print_site(const char *what, uintptr_t pc) {
    const char *name;
    uint64_t off;
    if (pc && ksyms_lookup(pc, &name, &off))
        printf("lockdep:   %s at %s+0x%lx (0x%016lx)\n", what, name, off, pc);
    else
        printf("lockdep:   %s at 0x%016lx\n", what, pc);
}

static void print_held(const struct lockdep_held *h) {
    thread_t *t = thread_current();
    printf("lockdep: locks held by %s:\n", t ? t->name : "(no thread)");
    for (uint32_t i = 0; i < h->depth; i++) {
        const struct lockdep_entry *e = &h->entries[i];
        printf("lockdep:   #%u %s (lock %p)\n", i, class_name(e->cls), e->lock);
        print_site("  taken", e->pc);
    }
}

/*
 * Ends a report: in capture mode counts it and returns; otherwise turns the validator
 * off (the panic path takes locks from wherever it stopped) and panics.
 */
static void report_end(lock_class_t held, lock_class_t taken, const char *what) {
    if (capture) {
        captured++;
        captured_last.held = held;
        captured_last.taken = taken;
        uint32_t cpu = arch_curr_cpu_num();
        if (cpu < LOCKDEP_MAX_CPUS)
            cpu_busy[cpu] = true;
        printf("lockdep: (captured by a test: not fatal)\n");
        if (cpu < LOCKDEP_MAX_CPUS)
            cpu_busy[cpu] = false;
        return;
    }
    lockdep_on = false;
    panic("lockdep: %s: %s taken while holding %s", what, class_name(taken), class_name(held));
}

/* Prints the path the search found from `from` to `to` (parent[] links, walked back from
 * `to`), one recorded edge per line. */
static void print_path(lock_class_t from, lock_class_t to, const uint8_t *parent) {
    printf("lockdep: the opposite order was seen before:\n");
    lock_class_t c = to;
    for (unsigned steps = 0; c != from && steps < LOCK_CLASS_COUNT; steps++) {
        lock_class_t p = parent[c];
        const struct edge_site *e = &edge_site[p][c];
        printf("lockdep:   %s -> %s:\n", class_name(p), class_name(c));
        print_site("  held", e->held_pc);
        print_site("  then took", e->taken_pc);
        c = p;
    }
}

/* True if `to` is reachable from `from` along recorded edges; fills parent[] along the
 * way. graph_lock is held. */
static bool reaches(lock_class_t from, lock_class_t to, uint8_t *parent) {
    uint64_t seen = class_bit(from), frontier = class_bit(from);
    while (frontier) {
        lock_class_t c = (lock_class_t)__builtin_ctzll(frontier);
        frontier &= frontier - 1;
        uint64_t next = __atomic_load_n(&succ[c], __ATOMIC_RELAXED) & ~seen;
        for (uint64_t n = next; n; n &= n - 1)
            parent[__builtin_ctzll(n)] = (uint8_t)c;
        seen |= next;
        frontier |= next;
        if (seen & class_bit(to))
            return true;
    }
    return false;
}

/* Checks taking `lock` of class `cls` at `pc` against every lock in h, adding the new
 * edges. Interrupts are off; the CPU is marked busy while it prints. */
static void check_order(struct lockdep_held *h, lock_class_t cls, const void *lock,
                        uintptr_t pc, uint32_t cpu) {
    for (uint32_t i = 0; i < h->depth; i++) {
        const struct lockdep_entry *held = &h->entries[i];
        lock_class_t a = held->cls;
        if (a == cls) {
            cpu_busy[cpu] = true;
            printf("\nlockdep: a second lock of one class: %s (lock %p, holding %p)\n",
                   class_name(cls), lock, held->lock);
            print_site("taking", pc);
            print_held(h);
            cpu_busy[cpu] = false;
            report_end(a, cls, "nested locks of one class");
            continue;
        }
        if (__atomic_load_n(&succ[a], __ATOMIC_RELAXED) & class_bit(cls))
            continue;
        uint8_t parent[LOCK_CLASS_COUNT];
        graph_acquire();
        bool cycle = false, against_list = false;
        if (!(__atomic_load_n(&succ[a], __ATOMIC_RELAXED) & class_bit(cls))) {
            cycle = reaches(cls, a, parent);
            against_list = !cycle && a > cls;
            if (!cycle && !against_list) {
                edge_site[a][cls].held_pc = held->pc;
                edge_site[a][cls].taken_pc = pc;
                __atomic_fetch_or(&succ[a], class_bit(cls), __ATOMIC_RELAXED);
            }
        }
        graph_release();
        if (cycle) {
            cpu_busy[cpu] = true;
            printf("\nlockdep: lock order inversion\n");
            printf("lockdep: taking %s (lock %p)\n", class_name(cls), lock);
            print_site("taking", pc);
            printf("lockdep: while holding %s (lock %p)\n", class_name(a), held->lock);
            print_site("taken", held->pc);
            print_path(cls, a, parent);
            print_held(h);
            cpu_busy[cpu] = false;
            report_end(a, cls, "lock order inversion");
        } else if (against_list) {
            cpu_busy[cpu] = true;
            printf("\nlockdep: nesting against the documented order (<kernel/lock_class.h>)\n");
            printf("lockdep: taking %s (lock %p)\n", class_name(cls), lock);
            print_site("taking", pc);
            printf("lockdep: while holding %s (lock %p), listed after it\n", class_name(a),
                   held->lock);
            print_site("taken", held->pc);
            print_held(h);
            cpu_busy[cpu] = false;
            report_end(a, cls, "nesting against the documented order");
        }
    }
}

void lockdep_acquire_at(lock_class_t cls, const void *lock, uintptr_t pc) {
    arch_irq_state_t s = arch_irq_save();
    uint32_t cpu = arch_curr_cpu_num();
    struct lockdep_held *h = held_stack();
    if (!lockdep_on || !h || (cpu < LOCKDEP_MAX_CPUS && cpu_busy[cpu]))
        goto out;
    if (cls == LOCK_CLASS_NONE || cls >= LOCK_CLASS_COUNT) {
        lockdep_on = false;
        panic("lockdep: lock %p of no class (%u) taken at %p", lock, cls, (void *)pc);
    }
    check_order(h, cls, lock, pc, cpu);
    if (h->depth >= LOCKDEP_MAX_HELD) {
        print_held(h);
        lockdep_on = false;
        panic("lockdep: more than %d locks held (taking %s)", LOCKDEP_MAX_HELD,
              class_name(cls));
    }
    h->entries[h->depth].lock = lock;
    h->entries[h->depth].pc = pc;
    h->entries[h->depth].cls = cls;
    h->depth++;
out:
    arch_irq_restore(s);
}

/* For the trylock path, a trylock pushes without checking: it never waits. */
static void push_only(lock_class_t cls, const void *lock, uintptr_t pc) {
    arch_irq_state_t s = arch_irq_save();
    struct lockdep_held *h = held_stack();
    if (lockdep_on && h && h->depth < LOCKDEP_MAX_HELD && cls != LOCK_CLASS_NONE) {
        h->entries[h->depth].lock = lock;
        h->entries[h->depth].pc = pc;
        h->entries[h->depth].cls = cls;
        h->depth++;
    }
    arch_irq_restore(s);
}

__noinline void lockdep_acquire(lock_class_t cls, const void *lock, bool trylock) {
    uintptr_t pc = (uintptr_t)__builtin_return_address(0);
    if (trylock)
        push_only(cls, lock, pc);
    else
        lockdep_acquire_at(cls, lock, pc);
}

/* Removes the newest entry for `lock`; a lock the stack does not have (taken before the
 * validator was on, or while it printed) is ignored. Locks may be released in any
 * order. */
void lockdep_release(const void *lock) {
    arch_irq_state_t s = arch_irq_save();
    struct lockdep_held *h = held_stack();
    if (h) {
        for (uint32_t i = h->depth; i-- > 0;) {
            if (h->entries[i].lock != lock)
                continue;
            for (uint32_t j = i + 1; j < h->depth; j++)
                h->entries[j - 1] = h->entries[j];
            h->depth--;
            break;
        }
    }
    arch_irq_restore(s);
}

void lockdep_init(void) {
    if (cmdline_get_bool(LOCKDEP_OPTION, true)) {
        lockdep_on = true;
        printf("lockdep: lock-order validator on (%d lock classes)\n", LOCK_CLASS_COUNT - 1);
    }
}

void lockdep_set_enabled(bool on) { __atomic_store_n(&lockdep_on, on, __ATOMIC_RELAXED); }

void lockdep_capture_begin(void) {
    captured = 0;
    captured_last.held = captured_last.taken = LOCK_CLASS_NONE;
    __atomic_store_n(&capture, true, __ATOMIC_RELAXED);
}

uint32_t lockdep_capture_end(struct lockdep_report *last) {
    __atomic_store_n(&capture, false, __ATOMIC_RELAXED);
    if (last)
        *last = captured_last;
    return captured;
}

static const char *site_name(uintptr_t pc, uint64_t *off) {
    const char *name;
    if (pc && ksyms_lookup(pc, &name, off))
        return name;
    *off = pc;
    return "?";
}

void lockdep_print_order(void) {
    if (!lockdep_on)
        return;
    unsigned edges = 0;
    for (unsigned a = 0; a < LOCK_CLASS_COUNT; a++)
        edges += (unsigned)__builtin_popcountll(__atomic_load_n(&succ[a], __ATOMIC_RELAXED));
    printf("lockdep: lock order seen: %u edges (held -> taken)\n", edges);
    for (unsigned a = 0; a < LOCK_CLASS_COUNT; a++) {
        uint64_t m = __atomic_load_n(&succ[a], __ATOMIC_RELAXED);
        for (; m; m &= m - 1) {
            unsigned b = (unsigned)__builtin_ctzll(m);
            uint64_t ho, to;
            const char *hn = site_name(edge_site[a][b].held_pc, &ho);
            const char *tn = site_name(edge_site[a][b].taken_pc, &to);
            printf("lockdep:   %s -> %s (%s+0x%lx, then %s+0x%lx)\n", class_name((lock_class_t)a),
                   class_name((lock_class_t)b), hn, ho, tn, to);
        }
    }
}

bool lockdep_has_edge(lock_class_t from, lock_class_t to) {
    if (from >= LOCK_CLASS_COUNT || to >= LOCK_CLASS_COUNT)
        return false;
    return (__atomic_load_n(&succ[from], __ATOMIC_RELAXED) & class_bit(to)) != 0;
}

#endif
