/*
 * Host tests of the user runtime's pure parts (user/lib): formatting, string functions,
 * the heap's free list, ELF validation / planning, and the processargs message.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "htest.h"

#include "elf_priv.h"
#include "format_priv.h"
#include "malloc_priv.h"
#include "processargs_priv.h"
#include "string_priv.h"

/* ---- vsnprintf against the host's ---- */

#define CHECK_FMT(...)                                                              \
    do {                                                                            \
        char mine[256], ref[256];                                                   \
        int n1 = beryl_snprintf(mine, sizeof(mine), __VA_ARGS__);                   \
        int n2 = snprintf(ref, sizeof(ref), __VA_ARGS__);                           \
        EXPECT_STREQ(mine, ref);                                                    \
        EXPECT_EQ(n1, n2);                                                          \
    } while (0)

HTEST(user_format, matches_host) {
    CHECK_FMT("plain");
    CHECK_FMT("%d %i %u", -42, 17, 4000000000u);
    CHECK_FMT("%x %X %#x %#X %o %#o", 0xbeefu, 0xbeefu, 255u, 255u, 8u, 8u);
    CHECK_FMT("%5d|%-5d|%05d|%+d|% d|%-+6d|", 42, 42, -42, 42, 42, 7);
    CHECK_FMT("%.3d|%8.3d|%-8.3d|%08.3d|%.0d|%5.0d|", 5, 5, -5, 5, 0, 0);
    CHECK_FMT("%ld %lld %lu %llu %lx", -1L, (long long)INT64_MIN, (unsigned long)UINT64_MAX,
              (unsigned long long)UINT64_MAX, 0x123456789abcUL);
    CHECK_FMT("%zu %zd %zx", (size_t)12345, (ssize_t)-7, (size_t)0xfff);
    CHECK_FMT("%hd %hu %hhd %hhu", (short)-3, (unsigned short)65535, (signed char)-1,
              (unsigned char)200);
    CHECK_FMT("%s|%10s|%-10s|%.2s|%.*s|%*s|%-*s|", "abc", "abc", "abc", "abc", 3, "abcdef",
              6, "xy", 6, "xy");
    CHECK_FMT("%c%c%5c%-3c|", 'a', 'b', 'c', 'd');
    CHECK_FMT("100%% %d%%", 5);
    CHECK_FMT("%p %20p %-20p|", (void *)0x1234, (void *)0xdeadbeef, (void *)0x10);
    CHECK_FMT("%d %d", INT32_MIN, INT32_MAX);
    CHECK_FMT("%llx %llo", 0ULL, 0ULL);
}

HTEST(user_format, truncation_and_null) {
    char buf[8];
    EXPECT_EQ(beryl_snprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
    EXPECT_STREQ(buf, "0123456");
    EXPECT_EQ(beryl_snprintf(NULL, 0, "%d", 12345), 5);
    buf[0] = 'x';
    EXPECT_EQ(beryl_snprintf(buf, 1, "abc"), 3);
    EXPECT_EQ(buf[0], 0);
    char big[32];
    beryl_snprintf(big, sizeof(big), "%s|%p", (char *)NULL, (void *)NULL);
    EXPECT_STREQ(big, "(null)|0x0");
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat-invalid-specifier"
#pragma clang diagnostic ignored "-Wformat"
    beryl_snprintf(big, sizeof(big), "%q %"); /* unknown conversions pass through */
#pragma clang diagnostic pop
    EXPECT_STREQ(big, "%q %");
}

/* ---- string functions ---- */

HTEST(user_string, basics) {
    char a[64], b[64];
    for (size_t len = 0; len < 40; len++) {
        for (size_t off = 0; off < 8; off++) {
            memset(a, 'A', sizeof(a));
            memset(b, 'A', sizeof(b));
            EXPECT_EQ(beryl_memset(a + off, 0x5c, len), a + off);
            memset(b + off, 0x5c, len);
            EXPECT_EQ(memcmp(a, b, sizeof(a)), 0);
        }
    }
    char src[64];
    for (int i = 0; i < 64; i++)
        src[i] = (char)i;
    for (size_t n = 0; n < 40; n++) {
        for (int shift = -8; shift <= 8; shift++) {
            char m1[64], m2[64];
            memcpy(m1, src, 64);
            memcpy(m2, src, 64);
            beryl_memmove(m1 + 16 + shift, m1 + 16, n);
            memmove(m2 + 16 + shift, m2 + 16, n);
            EXPECT_EQ(memcmp(m1, m2, 64), 0);
        }
    }
    beryl_memcpy(a, "hello", 6);
    EXPECT_STREQ(a, "hello");
    EXPECT_EQ(beryl_strlen(""), 0u);
    EXPECT_EQ(beryl_strlen("hello"), 5u);
    EXPECT_EQ(beryl_strnlen("hello", 3), 3u);
    EXPECT_TRUE(beryl_strcmp("abc", "abd") < 0);
    EXPECT_TRUE(beryl_strcmp("abd", "abc") > 0);
    EXPECT_EQ(beryl_strcmp("abc", "abc"), 0);
    EXPECT_TRUE(beryl_strcmp("ab", "abc") < 0);
    EXPECT_TRUE(beryl_strcmp("\xff", "a") > 0);
    EXPECT_EQ(beryl_strncmp("abcx", "abcy", 3), 0);
    EXPECT_TRUE(beryl_strncmp("abcx", "abcy", 4) < 0);
    EXPECT_TRUE(beryl_memcmp("\x01\x80", "\x01\x7f", 2) > 0);
    const char *s = "a/b/c";
    EXPECT_EQ(beryl_strchr(s, '/'), s + 1);
    EXPECT_EQ(beryl_strrchr(s, '/'), s + 3);
    EXPECT_EQ(beryl_strchr(s, 0), s + 5);
    EXPECT_NULL(beryl_strchr(s, 'z'));
    EXPECT_EQ(beryl_strstr(s, "b/c"), s + 2);
    EXPECT_NULL(beryl_strstr(s, "bc"));
    EXPECT_EQ(beryl_strstr(s, ""), s);
    EXPECT_EQ(beryl_memchr(s, 'c', 5), s + 4);
    memset(b, 'x', sizeof(b));
    beryl_strncpy(b, "ab", 5);
    EXPECT_EQ(memcmp(b, "ab\0\0\0x", 6), 0);
    EXPECT_EQ(beryl_strlcpy(b, "hello", 3), 5u);
    EXPECT_STREQ(b, "he");
}

/* ---- heap free list against a model ---- */

static char *arena;
static size_t arena_size, arena_limit;

static size_t arena_grow(void *ctx, uintptr_t top, size_t min_bytes) {
    (void)ctx;
    size_t len = (min_bytes + 4095) & ~(size_t)4095;
    if ((uintptr_t)arena + arena_size != top || arena_size + len > arena_limit)
        return 0;
    arena_size += len;
    return len;
}

HTEST(user_heap, random_model) {
    arena_limit = 16u << 20;
    arena = aligned_alloc(4096, arena_limit);
    ASSERT_NONNULL(arena);
    arena_size = 0;
    beryl_heap_t h;
    beryl_heap_init(&h, (uintptr_t)arena, arena_grow, NULL);
    enum { SLOTS = 256 };
    struct { unsigned char *p; size_t n; unsigned char fill; } live[SLOTS] = {0};
    uint64_t x = htest_seed() | 1;
    for (int step = 0; step < 20000; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int i = (int)(x % SLOTS);
        size_t n = (size_t)((x >> 16) % ((x >> 40) % 4 == 0 ? 20000 : 200)) + 1;
        if (live[i].p != NULL) {
            for (size_t k = 0; k < live[i].n; k++) {
                if (live[i].p[k] != live[i].fill) {
                    htest_fail(__FILE__, __LINE__, "block %d corrupted", i);
                    return;
                }
            }
            if ((x >> 33) % 3 == 0) {
                unsigned char *r = beryl_heap_realloc(&h, live[i].p, n);
                ASSERT_NONNULL(r);
                size_t keep = n < live[i].n ? n : live[i].n;
                for (size_t k = 0; k < keep; k++)
                    ASSERT_EQ(r[k], live[i].fill);
                live[i].p = r;
                live[i].n = n;
                memset(r, live[i].fill, n);
            } else {
                ASSERT_TRUE(beryl_heap_free(&h, live[i].p));
                live[i].p = NULL;
            }
        } else {
            unsigned char *p = beryl_heap_alloc(&h, n);
            ASSERT_NONNULL(p);
            ASSERT_EQ((uintptr_t)p % 16, 0u);
            ASSERT_GE(beryl_heap_usable_size(p), n);
            live[i].p = p;
            live[i].n = n;
            live[i].fill = (unsigned char)(x >> 56);
            memset(p, live[i].fill, n);
        }
        if (step % 97 == 0)
            ASSERT_NE(beryl_heap_check(&h), (size_t)-1);
    }
    for (int i = 0; i < SLOTS; i++)
        ASSERT_TRUE(beryl_heap_free(&h, live[i].p));
    /* Everything free again: one block covering the whole heap. */
    EXPECT_EQ(beryl_heap_check(&h), h.top - h.base);
    ASSERT_NONNULL(h.free_head);
    free(arena);
}

HTEST(user_heap, bad_frees_and_limits) {
    arena_limit = 1u << 20;
    arena = aligned_alloc(4096, arena_limit);
    ASSERT_NONNULL(arena);
    arena_size = 0;
    beryl_heap_t h;
    beryl_heap_init(&h, (uintptr_t)arena, arena_grow, NULL);
    EXPECT_NULL(beryl_heap_alloc(&h, 0));
    EXPECT_NULL(beryl_heap_alloc(&h, 2u << 20)); /* cannot grow that far */
    char *p = beryl_heap_alloc(&h, 10);
    ASSERT_NONNULL(p);
    EXPECT_FALSE(beryl_heap_free(&h, p + 16));
    EXPECT_TRUE(beryl_heap_free(&h, p));
    EXPECT_FALSE(beryl_heap_free(&h, p)); /* double free */
    EXPECT_TRUE(beryl_heap_free(&h, NULL));
    char local;
    EXPECT_FALSE(beryl_heap_free(&h, &local));
    EXPECT_NE(beryl_heap_check(&h), (size_t)-1);
    free(arena);
}

/* ---- ELF header and program headers ---- */

static beryl_elf64_ehdr_t good_ehdr(void) {
    beryl_elf64_ehdr_t e;
    memset(&e, 0, sizeof(e));
    memcpy(e.e_ident, "\x7f" "ELF\x02\x01\x01", 7);
    e.e_type = BERYL_ELF_ET_EXEC;
    e.e_machine = BERYL_ELF_EM_X86_64;
    e.e_version = 1;
    e.e_entry = 0x1000000;
    e.e_phoff = 64;
    e.e_phentsize = 56;
    e.e_phnum = 2;
    return e;
}

HTEST(user_elf, header_checks) {
    uint64_t phoff;
    uint32_t phnum;
    beryl_elf64_ehdr_t e = good_ehdr();
    EXPECT_OK(beryl_elf_check_header(&e, sizeof(e), 0x3000, &phoff, &phnum));
    EXPECT_EQ(phoff, 64u);
    EXPECT_EQ(phnum, 2u);
    EXPECT_STATUS(beryl_elf_check_header(&e, 10, 0x3000, &phoff, &phnum), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(beryl_elf_check_header(&e, sizeof(e), 100, &phoff, &phnum),
                  ZX_ERR_INVALID_ARGS); /* phdrs past the end */
#define MUTATE(field, value, expect)                                                 \
    do {                                                                             \
        beryl_elf64_ehdr_t m = good_ehdr();                                          \
        m.field = value;                                                             \
        EXPECT_STATUS(beryl_elf_check_header(&m, sizeof(m), 0x3000, &phoff, &phnum), \
                      expect);                                                       \
    } while (0)
    MUTATE(e_ident[0], 0, ZX_ERR_INVALID_ARGS);
    MUTATE(e_ident[4], 1, ZX_ERR_NOT_SUPPORTED); /* 32-bit */
    MUTATE(e_ident[5], 2, ZX_ERR_NOT_SUPPORTED); /* big-endian */
    MUTATE(e_machine, 3, ZX_ERR_NOT_SUPPORTED);
    MUTATE(e_type, 3, ZX_ERR_NOT_SUPPORTED);      /* ET_DYN */
    MUTATE(e_version, 0, ZX_ERR_INVALID_ARGS);
    MUTATE(e_phentsize, 32, ZX_ERR_INVALID_ARGS);
    MUTATE(e_phnum, 0, ZX_ERR_INVALID_ARGS);
    MUTATE(e_phnum, 100, ZX_ERR_NOT_SUPPORTED);
    MUTATE(e_phoff, UINT64_MAX - 8, ZX_ERR_INVALID_ARGS);
#undef MUTATE
}

static beryl_elf64_phdr_t load(uint32_t flags, uint64_t off, uint64_t vaddr, uint64_t filesz,
                               uint64_t memsz) {
    beryl_elf64_phdr_t p = {BERYL_ELF_PT_LOAD, flags, off, vaddr, vaddr, filesz, memsz, 4096};
    return p;
}

HTEST(user_elf, plan) {
    beryl_elf64_phdr_t ph[4] = {
        load(BERYL_ELF_PF_R | BERYL_ELF_PF_X, 0x1000, 0x1000000, 0x1800, 0x1800),
        load(BERYL_ELF_PF_R, 0x3000, 0x1002000, 0x100, 0x100),
        load(BERYL_ELF_PF_R | BERYL_ELF_PF_W, 0x4010, 0x1004010, 0x20, 0x3000),
        {.p_type = 0x6474e551 /* GNU_STACK */},
    };
    beryl_elf_plan_t plan;
    ASSERT_OK(beryl_elf_make_plan(ph, 4, 0x5000, 0x1000010, &plan));
    ASSERT_EQ(plan.num_segments, 3u);
    const beryl_elf_segment_t *s = plan.segments;
    EXPECT_EQ(s[0].vaddr, 0x1000000u);
    EXPECT_EQ(s[0].file_off, 0x1000u);
    EXPECT_EQ(s[0].file_len, 0x2000u);
    EXPECT_EQ(s[0].mem_len, 0x2000u);
    EXPECT_EQ(s[0].perms, ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE);
    EXPECT_FALSE(s[0].zero_tail);
    EXPECT_EQ(s[1].perms, ZX_VM_PERM_READ);
    EXPECT_FALSE(s[1].zero_tail);
    EXPECT_EQ(s[2].vaddr, 0x1004000u);
    EXPECT_EQ(s[2].file_off, 0x4000u);
    EXPECT_EQ(s[2].file_bytes, 0x30u);
    EXPECT_EQ(s[2].file_len, 0x1000u);
    EXPECT_EQ(s[2].mem_len, 0x4000u);
    EXPECT_EQ(s[2].perms, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE);
    EXPECT_TRUE(s[2].zero_tail);

    beryl_elf64_phdr_t bad[2];
#define BAD(p0, p1, entry, expect)                                             \
    do {                                                                       \
        bad[0] = p0;                                                           \
        bad[1] = p1;                                                           \
        EXPECT_STATUS(beryl_elf_make_plan(bad, 2, 0x5000, entry, &plan), expect); \
    } while (0)
    beryl_elf64_phdr_t text = ph[0];
    beryl_elf64_phdr_t none = {0};
    BAD(text, none, 0x1000010, ZX_OK);
    BAD(text, none, 0x1003000, ZX_ERR_INVALID_ARGS);                 /* entry outside */
    BAD(ph[1], none, 0x1002000, ZX_ERR_INVALID_ARGS);                /* entry not executable */
    BAD(none, none, 0, ZX_ERR_INVALID_ARGS);                         /* no PT_LOAD */
    BAD(text, load(4, 0x1000, 0x1001000, 0x10, 0x10), 0x1000010, ZX_ERR_INVALID_ARGS); /* overlap */
    BAD(text, load(4, 0x1000, 0x1001800, 0x10, 0x10), 0x1000010, ZX_ERR_INVALID_ARGS); /* shares a page */
    BAD(load(5, 0x1000, 0x1000000, 0x20, 0x10), none, 0x1000000, ZX_ERR_INVALID_ARGS); /* filesz > memsz */
    BAD(load(5, 0x4000, 0x1000000, 0x2000, 0x2000), none, 0x1000000, ZX_ERR_INVALID_ARGS); /* past EOF */
    BAD(load(5, 0x1010, 0x1000000, 0x20, 0x20), none, 0x1000000, ZX_ERR_INVALID_ARGS); /* skew */
    BAD(load(5, 0x1000, 0x100000, 0x20, 0x20), none, 0x100000, ZX_ERR_INVALID_ARGS);   /* below user */
    BAD(load(5, 0x1000, 0x7ffffffff000, 0x20, 0x20), none, 0x7ffffffff000, ZX_ERR_INVALID_ARGS);
    BAD(load(5, 0x1000, UINT64_MAX & ~0xfffull, 0x20, 0x20), none, 0, ZX_ERR_INVALID_ARGS);
    beryl_elf64_phdr_t interp = {.p_type = BERYL_ELF_PT_INTERP};
    BAD(text, interp, 0x1000010, ZX_ERR_NOT_SUPPORTED);
    /* A read-only segment with bss that starts mid-page: its tail is zeroed. */
    BAD(load(5, 0x1000, 0x1000000, 0x20, 0x2000), none, 0x1000000, ZX_OK);
    EXPECT_TRUE(plan.segments[0].zero_tail);
    EXPECT_EQ(plan.segments[0].file_len, 0x1000u);
    EXPECT_EQ(plan.segments[0].mem_len, 0x2000u);
    /* bss only. */
    BAD(text, load(6, 0, 0x1003000, 0, 0x1000), 0x1000010, ZX_OK);
    EXPECT_EQ(plan.segments[1].file_len, 0u);
    EXPECT_FALSE(plan.segments[1].zero_tail);
    /* Writable, file-backed to the end of its page: nothing to zero. */
    BAD(text, load(6, 0x3000, 0x1003000, 0x1000, 0x1000), 0x1000010, ZX_OK);
    EXPECT_FALSE(plan.segments[1].zero_tail);
#undef BAD
}

/* The real test program the build produced must pass both checks. */
HTEST(user_elf, real_program) {
    FILE *f = fopen(BERYL_SELFTEST_ELF, "rb");
    ASSERT_NONNULL(f);
    static unsigned char file[1 << 20];
    size_t n = fread(file, 1, sizeof(file), f);
    fclose(f);
    uint64_t phoff;
    uint32_t phnum;
    ASSERT_OK(beryl_elf_check_header(file, n, n, &phoff, &phnum));
    beryl_elf64_ehdr_t e;
    memcpy(&e, file, sizeof(e));
    beryl_elf_plan_t plan;
    ASSERT_OK(beryl_elf_make_plan(file + phoff, phnum, n, e.e_entry, &plan));
    EXPECT_GE(plan.num_segments, 2u);
    EXPECT_EQ(plan.entry, 0x1000000u);
}

/* ---- processargs ---- */

HTEST(user_processargs, round_trip) {
    char buf[1024];
    uint32_t infos[3] = {PA_HND(PA_PROC_SELF, 0), PA_HND(PA_VMO_BOOTFS, 1),
                         PA_HND(PA_VMO_BOOTFS, 0)};
    const char *argv[] = {"userboot", "--x", ""};
    const char *names[] = {"test/a", "userboot"};
    uint32_t len;
    ASSERT_OK(beryl_pa_build(buf, sizeof(buf), infos, 3, argv, 3, names, 2, &len));
    beryl_pa_msg_t m;
    ASSERT_OK(beryl_pa_parse(buf, len, 3, &m));
    EXPECT_EQ(m.num_handles, 3u);
    EXPECT_EQ(m.handle_info[1], PA_HND(PA_VMO_BOOTFS, 1));
    EXPECT_EQ(PA_HND_ARG(m.handle_info[1]), 1u);
    EXPECT_EQ(m.argc, 3u);
    EXPECT_STREQ(m.argv[0], "userboot");
    EXPECT_STREQ(m.argv[2], "");
    EXPECT_NULL(m.argv[3]);
    EXPECT_EQ(m.num_names, 2u);
    EXPECT_STREQ(m.names[1], "userboot");

    /* Fewer handles than infos is fine; more is not. */
    EXPECT_OK(beryl_pa_parse(buf, len, 0, &m));
    EXPECT_STATUS(beryl_pa_build(buf, 40, infos, 3, argv, 3, names, 2, &len),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_STATUS(beryl_pa_build(buf, 60, infos, 3, argv, 3, names, 2, &len),
                  ZX_ERR_BUFFER_TOO_SMALL);
}

HTEST(user_processargs, malformed) {
    char buf[256];
    uint32_t info = PA_HND(PA_PROC_SELF, 0);
    const char *argv[] = {"prog"};
    uint32_t len;
    ASSERT_OK(beryl_pa_build(buf, sizeof(buf), &info, 1, argv, 1, NULL, 0, &len));
    beryl_pa_msg_t m;
    EXPECT_STATUS(beryl_pa_parse(buf, 10, 0, &m), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(beryl_pa_parse(buf, len, 200, &m), ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(beryl_pa_parse(buf, len - 1, 1, &m), ZX_ERR_INVALID_ARGS); /* cut string */
    zx_proc_args_t h;
    memcpy(&h, buf, sizeof(h));
#define MUT(field, value, nh, expect)                                        \
    do {                                                                     \
        char c[256];                                                         \
        memcpy(c, buf, len);                                                 \
        zx_proc_args_t hh = h;                                               \
        hh.field = value;                                                    \
        memcpy(c, &hh, sizeof(hh));                                          \
        EXPECT_STATUS(beryl_pa_parse(c, len, nh, &m), expect);               \
    } while (0)
    MUT(protocol, 0, 1, ZX_ERR_INVALID_ARGS);
    MUT(version, 2, 1, ZX_ERR_INVALID_ARGS);
    MUT(handle_info_off, 2, 1, ZX_ERR_INVALID_ARGS);
    MUT(handle_info_off, len, 1, ZX_ERR_INVALID_ARGS);
    MUT(handle_info_off, 0xfffffffc, 1, ZX_ERR_INVALID_ARGS);
    MUT(args_off, len, 1, ZX_ERR_INVALID_ARGS);
    MUT(args_off, 0xffffff00, 1, ZX_ERR_INVALID_ARGS);
    MUT(args_num, 2, 1, ZX_ERR_INVALID_ARGS);
    MUT(args_num, 1000, 1, ZX_ERR_OUT_OF_RANGE);
    MUT(names_num, 1, 1, ZX_ERR_INVALID_ARGS);
#undef MUT
}
