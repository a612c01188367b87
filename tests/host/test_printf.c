/*
 * Host tests of the kernel's formatting wrappers (kernel/include/lib/printf.h,
 * kernel/lib/printf.c: the shared engine with FMT_POINTER_FIXED; test_fmt.c tests the
 * engine itself) and of kernel/lib/kstring.c.
 */
#include <lib/printf.h>
#include <lib/string.h>

#include <stdarg.h>

#include "htest.h"

static int via_kvsnprintf(char *buf, size_t size, const char *fmt, ...) __printflike(3, 4);
static int via_kvsnprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* A sink that gathers what it receives into a string. */
struct gather {
    char text[256];
    size_t len;
    int calls;
};

static void gather_sink(void *ctx, const char *s, size_t len) {
    struct gather *g = ctx;
    g->calls++;
    if (g->len + len < sizeof(g->text)) {
        memcpy(g->text + g->len, s, len);
        g->len += len;
        g->text[g->len] = 0;
    }
}

static int via_sink(struct gather *g, const char *fmt, ...) __printflike(2, 3);
static int via_sink(struct gather *g, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf_sink(gather_sink, g, fmt, ap);
    va_end(ap);
    return n;
}

/* All three entry points format alike, with the kernel's fixed-width %p. */
HTEST(printf, wrappers) {
    const char *want = "k=-17 0x00000000deadbeef [   ab] 1777 (null)";
    char buf[128];
    EXPECT_EQ(ksnprintf(buf, sizeof(buf), "k=%d %p [%5s] %o %s", -17, (void *)0xdeadbeef, "ab",
                        01777u, (char *)NULL),
              (int)strlen(want));
    EXPECT_STREQ(buf, want);
    EXPECT_EQ(via_kvsnprintf(buf, sizeof(buf), "k=%d %p [%5s] %o %s", -17, (void *)0xdeadbeef,
                             "ab", 01777u, (char *)NULL),
              (int)strlen(want));
    EXPECT_STREQ(buf, want);
    struct gather g = {0};
    EXPECT_EQ(via_sink(&g, "k=%d %p [%5s] %o %s", -17, (void *)0xdeadbeef, "ab", 01777u,
                       (char *)NULL),
              (int)strlen(want));
    EXPECT_STREQ(g.text, want);
    EXPECT_EQ(g.calls, 1);
    ksnprintf(buf, sizeof(buf), "%p", (void *)0);
    EXPECT_STREQ(buf, "0x0000000000000000");
}

HTEST(printf, truncation) {
    char buf[16];
    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(ksnprintf(buf, 5, "hello %s", "world"), 11);
    EXPECT_STREQ(buf, "hell");
    EXPECT_EQ(buf[5], 'X');
    EXPECT_EQ(ksnprintf(NULL, 0, "%300d", 1), 300);
    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(via_kvsnprintf(buf, 1, "%d", 12345), 5);
    EXPECT_EQ(buf[0], '\0');
    EXPECT_EQ(buf[1], 'X');
}

HTEST(kstring, parse_u64) {
    struct {
        const char *s;
        bool ok;
        uint64_t v;
    } cases[] = {
        {"0", true, 0},
        {"7", true, 7},
        {"00012", true, 12},
        {"1234567890", true, 1234567890},
        {"18446744073709551615", true, UINT64_MAX},
        {"18446744073709551616", false, 0},
        {"99999999999999999999", false, 0},
        {"0x0", true, 0},
        {"0x1f", true, 0x1f},
        {"0XaBcD", true, 0xabcd},
        {"0xffffffffffffffff", true, UINT64_MAX},
        {"0XFFFFFFFFFFFFFFFF", true, UINT64_MAX},
        {"0x00000000000000000001", true, 1},
        {"0x10000000000000000", false, 0},
        {"0x", false, 0},
        {"0X", false, 0},
        {"", false, 0},
        {"x10", false, 0},
        {"12a", false, 0},
        {"a", false, 0},
        {"-1", false, 0},
        {"+1", false, 0},
        {" 1", false, 0},
        {"1 ", false, 0},
        {"0x1g", false, 0},
        {"0x 1", false, 0},
        {"0b101", false, 0},
        {"1.5", false, 0},
    };
    for (size_t i = 0; i < countof(cases); i++) {
        uint64_t v = 0xdead;
        bool ok = kparse_u64(cases[i].s, strlen(cases[i].s), &v);
        if (ok != cases[i].ok)
            htest_fail(__FILE__, __LINE__, "kparse_u64(\"%s\") returned %d", cases[i].s, ok);
        EXPECT_EQ(v, cases[i].ok ? cases[i].v : 0xdead); /* untouched on failure */
    }

    /* Only s[0..len) is looked at. */
    uint64_t v = 0;
    EXPECT_TRUE(kparse_u64("123456", 3, &v));
    EXPECT_EQ(v, 123u);
    EXPECT_TRUE(kparse_u64("0x1fzz", 4, &v));
    EXPECT_EQ(v, 0x1fu);
    EXPECT_FALSE(kparse_u64("0x12", 2, &v));
    EXPECT_FALSE(kparse_u64(NULL, 0, &v));
}

HTEST(kstring, strlcpy) {
    char buf[8];
    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(kstrlcpy(buf, "abc", sizeof(buf)), 3u);
    EXPECT_STREQ(buf, "abc");

    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(kstrlcpy(buf, "abcdefghij", sizeof(buf)), 10u);
    EXPECT_STREQ(buf, "abcdefg");

    EXPECT_EQ(kstrlcpy(buf, "abcdefg", sizeof(buf)), 7u); /* exact fit */
    EXPECT_STREQ(buf, "abcdefg");

    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(kstrlcpy(buf, "abc", 1), 3u);
    EXPECT_EQ(buf[0], '\0');
    EXPECT_EQ(buf[1], 'X');

    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(kstrlcpy(buf, "abc", 0), 3u);
    EXPECT_EQ(buf[0], 'X');

    EXPECT_EQ(kstrlcpy(buf, "", sizeof(buf)), 0u);
    EXPECT_STREQ(buf, "");
}
