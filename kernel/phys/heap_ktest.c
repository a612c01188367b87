/*
 * In-kernel heap tests (run with test=heap or test=all).
 *
 * The PMM may be failing allocations on purpose (pmm.fail_every=N), so kmalloc may return
 * NULL at any time: a NULL is treated as "skip this object". Every test frees everything
 * it allocated, because the runner compares heap bytes and free pages around each test.
 */
#include <kernel/ktest.h>
#include <kernel/types.h>
#include <lib/string.h>
#include <phys/heap.h>

#define MIN_ALIGN 16
#define SLAB_MAX 2048

/* What heap_bytes_in_use() should charge for a request of `size` bytes. */
static size_t expected_charge(size_t size) {
    if (size > SLAB_MAX)
        return ROUNDUP(size, PAGE_SIZE);
    size_t c = MIN_ALIGN;
    while (c < size)
        c *= 2;
    return c;
}

static uint8_t pattern_byte(size_t obj, size_t i) { return (uint8_t)(obj * 29 + i * 7 + 1); }

static void fill_pattern(uint8_t *p, size_t size, size_t obj) {
    for (size_t i = 0; i < size; i++)
        p[i] = pattern_byte(obj, i);
}

static bool pattern_intact(const uint8_t *p, size_t size, size_t obj) {
    for (size_t i = 0; i < size; i++) {
        if (p[i] != pattern_byte(obj, i))
            return false;
    }
    return true;
}

KTEST(heap, many_sizes_aligned_and_intact) {
    static const size_t sizes[] = {1,   8,   15,   16,   17,   31,   32,   33,   64,
                                   100, 128, 255,  256,  500,  512,  1000, 1024, 2000,
                                   2048, 2049, 4096, 5000, 8192, 12345};
    enum { N = countof(sizes) };
    uint8_t *ptrs[N];
    size_t bytes_before = heap_bytes_in_use();
    size_t charged = 0;
    for (size_t i = 0; i < N; i++) {
        ptrs[i] = kmalloc(sizes[i]);
        if (!ptrs[i])
            continue;
        uintptr_t align = sizes[i] > SLAB_MAX ? PAGE_SIZE : MIN_ALIGN;
        EXPECT_EQ((uintptr_t)ptrs[i] & (align - 1), 0u);
        fill_pattern(ptrs[i], sizes[i], i);
        charged += expected_charge(sizes[i]);
    }
    EXPECT_EQ(heap_bytes_in_use(), bytes_before + charged);
    for (size_t i = 0; i < N; i++) {
        if (ptrs[i])
            EXPECT_TRUE(pattern_intact(ptrs[i], sizes[i], i));
    }
    for (size_t i = 0; i < N; i++)
        kfree(ptrs[i]);
    EXPECT_EQ(heap_bytes_in_use(), bytes_before);
}

/* Objects packed into the same slabs must not overlap: fill all, free and refill half,
 * then check every pattern. */
KTEST(heap, neighbours_not_corrupted) {
    enum { N = 96, SIZE = 48 };
    uint8_t *objs[N];
    for (size_t i = 0; i < N; i++) {
        objs[i] = kmalloc(SIZE);
        if (objs[i])
            fill_pattern(objs[i], SIZE, i);
    }
    for (size_t i = 1; i < N; i += 2) {
        kfree(objs[i]);
        objs[i] = kmalloc(SIZE);
        if (objs[i])
            fill_pattern(objs[i], SIZE, i + N);
    }
    size_t damaged = 0;
    for (size_t i = 0; i < N; i++) {
        if (objs[i] && !pattern_intact(objs[i], SIZE, i % 2 ? i + N : i))
            damaged++;
    }
    EXPECT_EQ(damaged, 0u);
    for (size_t i = 0; i < N; i++)
        kfree(objs[i]);
}

KTEST(heap, large_allocation_pages) {
    size_t size = 3 * PAGE_SIZE + 1;
    size_t pages_before = heap_pages();
    size_t bytes_before = heap_bytes_in_use();
    uint8_t *p = kmalloc(size);
    if (!p)
        return; /* out of memory (or injected): nothing to check */
    EXPECT_EQ((uintptr_t)p & PAGE_MASK, 0u);
    EXPECT_EQ(heap_pages(), pages_before + 4);
    EXPECT_EQ(heap_bytes_in_use(), bytes_before + 4 * PAGE_SIZE);
    fill_pattern(p, size, 1);
    EXPECT_TRUE(pattern_intact(p, size, 1));
    kfree(p);
    EXPECT_EQ(heap_pages(), pages_before);
    EXPECT_EQ(heap_bytes_in_use(), bytes_before);
}

KTEST(heap, kzalloc_is_zero) {
    static const size_t sizes[] = {24, 700, 2048, 5000};
    for (size_t i = 0; i < countof(sizes); i++) {
        uint8_t *dirty = kmalloc(sizes[i]);
        if (dirty) {
            memset(dirty, 0xff, sizes[i]);
            kfree(dirty);
        }
        uint8_t *z = kzalloc(sizes[i]);
        if (!z)
            continue;
        size_t nonzero = 0;
        for (size_t j = 0; j < sizes[i]; j++)
            nonzero += z[j] != 0;
        EXPECT_EQ(nonzero, 0u);
        kfree(z);
    }
}

KTEST(heap, zero_size_and_null) {
    EXPECT_NULL(kmalloc(0));
    EXPECT_NULL(kzalloc(0));
    EXPECT_NULL(kmalloc(SIZE_MAX));
    kfree(NULL);
}

/* Deliberate crash: must end in a "double free" panic. Run with test=heap.double_free. */
KTEST_MANUAL(heap, double_free) {
    void *keep = kmalloc(32); /* keeps the slab alive so the poison check fires */
    void *p = kmalloc(32);
    if (!keep || !p) {
        kfree(keep);
        kfree(p);
        ktest_fail(ktx, __FILE__, __LINE__, "out of memory");
        return;
    }
    kfree(p);
    kfree(p);
    ktest_fail(ktx, __FILE__, __LINE__, "double free did not panic");
}

/*
 * Deliberate crash with kernel.heap-poison=true: a write into a freed object must end in
 * a "written after free" panic when the object leaves the quarantine (after enough later
 * frees), naming the offset and the value. Run with test=heap.write_after_free
 * kernel.heap-poison=true.
 */
#define WAF_SIZE 64
#define WAF_OFFSET 40
#define WAF_VALUE 0x5afe5afe5afe5afeull
#define WAF_FREES 10000 /* more frees than the quarantine holds */
KTEST_MANUAL(heap, write_after_free) {
    uint64_t *p = kmalloc(WAF_SIZE);
    if (!p) {
        ktest_fail(ktx, __FILE__, __LINE__, "out of memory");
        return;
    }
    kfree(p);
    p[WAF_OFFSET / sizeof(uint64_t)] = WAF_VALUE;
    for (int i = 0; i < WAF_FREES; i++)
        kfree(kmalloc(WAF_SIZE));
    ktest_fail(ktx, __FILE__, __LINE__,
               "write after free not caught (is kernel.heap-poison=true on the command line?)");
}

/*
 * Deliberate crash with kernel.heap-poison=true: a call through a function pointer in a
 * freed object jumps to the fill pattern, and the panic report names the freed object a
 * register points into and the function that freed it. Run with
 * test=heap.use_after_free_report kernel.heap-poison=true.
 */
struct uaf_victim {
    uint64_t words[3];
    void (*fn)(void);
    uint64_t pad[4];
};
KTEST_MANUAL(heap, use_after_free_report) {
    struct uaf_victim *volatile v = kmalloc(sizeof(struct uaf_victim));
    if (!v) {
        ktest_fail(ktx, __FILE__, __LINE__, "out of memory");
        return;
    }
    kfree(v);
    v->fn();
    ktest_fail(ktx, __FILE__, __LINE__, "the call through the freed object returned");
}
