/*
 * Host tests of the printf engine (lib/fmt/fmt.c), which the kernel and the user runtime
 * share, under ASan + UBSan.
 *
 * Most integer and string cases are checked against the host C library's snprintf over
 * a large grid of flags, widths, precisions, length modifiers and extreme values; what
 * the engine decides beyond C99 (both %p styles, %b when libc lacks it, "(null)", unknown
 * conversions, truncation, the sink's runs) is checked against explicit expected strings.
 * The kernel's and the user runtime's wrappers have their own tests (test_printf.c,
 * test_user_runtime.c).
 */
#include <fmt/fmt.h>

#include <stdarg.h>
#include <stdlib.h>

#include "htest.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))
#define MIN_SIZE(a, b) ((a) < (b) ? (a) : (b))
#define BUF_SIZE 8192
#define MAX_REPORTED 20 /* mismatches printed per grid test; the rest are only counted */

/*
 * The grid deliberately feeds %b to the host vsnprintf; stop ASan's printf interceptor
 * from warning that it does not know that conversion.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "check_printf=0";
}

/* Non-literal formats go through these so odd formats do not trip -Wformat. */
static int ours(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, FMT_POINTER_FIXED, fmt, ap);
    va_end(ap);
    return n;
}

static int ours_compact(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, FMT_POINTER_COMPACT, fmt, ap);
    va_end(ap);
    return n;
}

/* The same with compile-time format checks, one per %p style. */
static int fixed(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fixed(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, FMT_POINTER_FIXED, fmt, ap);
    va_end(ap);
    return n;
}

static int compact(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int compact(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, FMT_POINTER_COMPACT, fmt, ap);
    va_end(ap);
    return n;
}

static int theirs(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* Mismatch bookkeeping shared by the grid tests. */
static long grid_checked, grid_failed;

static void grid_reset(void) {
    grid_checked = 0;
    grid_failed = 0;
}

static void grid_compare(const char *fmt, const char *a, int na, const char *b, int nb) {
    grid_checked++;
    if (na == nb && strcmp(a, b) == 0)
        return;
    if (grid_failed++ < MAX_REPORTED)
        htest_fail(__FILE__, __LINE__, "fmt \"%s\": ours \"%s\" (%d) libc \"%s\" (%d)", fmt, a, na,
                   b, nb);
}

/* Calls both formatters with the same argument list and compares. */
static char ours_buf[BUF_SIZE], libc_buf[BUF_SIZE];
#define COMPARE(fmt, ...)                                                           \
    do {                                                                            \
        int na_ = ours(ours_buf, sizeof(ours_buf), (fmt), __VA_ARGS__);             \
        int nb_ = theirs(libc_buf, sizeof(libc_buf), (fmt), __VA_ARGS__);           \
        grid_compare((fmt), ours_buf, na_, libc_buf, nb_);                          \
    } while (0)

/* Whether the host libc implements %b (glibc >= 2.35); otherwise %b is checked by hand. */
static bool libc_has_binary(void) {
    char buf[16];
    const char *fmt = "%b";
    theirs(buf, sizeof(buf), fmt, 5u);
    return strcmp(buf, "101") == 0;
}

static const char flag_chars[] = "-0+ #";
#define NUM_FLAGS (sizeof(flag_chars) - 1)
static const char *const lengths[] = {"", "hh", "h", "l", "ll", "z", "j", "t"};
static const char *const widths[] = {"", "1", "5", "25", "*"};
static const int star_widths[] = {7, -7, 0};
static const char *const precisions[] = {"", ".", ".0", ".1", ".5", ".30", ".*"};
static const int star_precisions[] = {3, -1, 0};

static const uint64_t int_values[] = {
    0, 1, (uint64_t)-1, 7, 42, (uint64_t)-42, 127, (uint64_t)-128, 255, 256,
    32767, (uint64_t)-32768, 65535, INT32_MAX, (uint64_t)INT32_MIN, UINT32_MAX,
    (uint64_t)INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX, 0x123456789abcdef0ull,
};

/* COMPARE with the '*' width and/or precision arguments the format asks for. */
#define COMPARE_STARS(fmt, wstar, w, pstar, p, x)                                   \
    do {                                                                            \
        if ((wstar) && (pstar))                                                     \
            COMPARE(fmt, w, p, x);                                                  \
        else if (wstar)                                                             \
            COMPARE(fmt, w, x);                                                     \
        else if (pstar)                                                             \
            COMPARE(fmt, p, x);                                                     \
        else                                                                        \
            COMPARE(fmt, x);                                                        \
    } while (0)

/* Formats one value as a 64-bit argument or as a (truncated) promoted int. */
static void compare_value(const char *fmt, bool wide, bool wstar, int w, bool pstar, int p,
                          uint64_t v) {
    if (wide)
        COMPARE_STARS(fmt, wstar, w, pstar, p, (long long)v);
    else
        COMPARE_STARS(fmt, wstar, w, pstar, p, (int)v); /* hh, h and none take an int */
}

/* Every flag subset x width x precision x length x value for one conversion. */
static void integer_grid(char conv) {
    char fmt[64];
    for (size_t li = 0; li < COUNTOF(lengths); li++) {
        bool wide = lengths[li][0] != '\0' && lengths[li][0] != 'h'; /* 64-bit on x86-64 */
        for (unsigned mask = 0; mask < (1u << NUM_FLAGS); mask++) {
            char flags[8];
            size_t nf = 0;
            for (unsigned b = 0; b < NUM_FLAGS; b++)
                if (mask & (1u << b))
                    flags[nf++] = flag_chars[b];
            flags[nf] = 0;
            for (size_t wi = 0; wi < COUNTOF(widths); wi++) {
                bool wstar = widths[wi][0] == '*';
                for (size_t pi = 0; pi < COUNTOF(precisions); pi++) {
                    bool pstar = strcmp(precisions[pi], ".*") == 0;
                    snprintf(fmt, sizeof(fmt), "[%%%s%s%s%s%c]", flags, widths[wi],
                             precisions[pi], lengths[li], conv);
                    for (size_t vi = 0; vi < COUNTOF(int_values); vi++) {
                        for (size_t si = 0; si < (wstar ? COUNTOF(star_widths) : 1); si++)
                            for (size_t sj = 0; sj < (pstar ? COUNTOF(star_precisions) : 1);
                                 sj++)
                                compare_value(fmt, wide, wstar, star_widths[si], pstar,
                                              star_precisions[sj], int_values[vi]);
                    }
                }
            }
        }
    }
}

#define INTEGER_GRID_TEST(name, conv)                                               \
    HTEST(fmt_grid, name) {                                                      \
        grid_reset();                                                               \
        integer_grid(conv);                                                         \
        EXPECT_EQ(grid_failed, 0);                                                  \
        EXPECT_GT(grid_checked, 100000);                                            \
    }

INTEGER_GRID_TEST(d, 'd')
INTEGER_GRID_TEST(i, 'i')
INTEGER_GRID_TEST(u, 'u')
INTEGER_GRID_TEST(x, 'x')
INTEGER_GRID_TEST(X, 'X')
INTEGER_GRID_TEST(o, 'o')

HTEST(fmt_grid, b) {
    if (!libc_has_binary()) {
        printf("    (host libc lacks %%b; covered by fmt.binary)\n");
        return;
    }
    grid_reset();
    integer_grid('b');
    EXPECT_EQ(grid_failed, 0);
}

/* %s and %c over widths, precisions and the '-' flag (the only flag C defines for them). */
HTEST(fmt_grid, strings_and_chars) {
    static const char *const strs[] = {"", "a", "hello", "a string longer than twenty-five"};
    static const char *const str_flags[] = {"", "-"};
    static const char *const str_widths[] = {"", "1", "5", "25", "40"};
    static const char *const str_precs[] = {"", ".", ".0", ".1", ".3", ".5", ".100"};
    char fmt[64];
    grid_reset();
    for (size_t fi = 0; fi < COUNTOF(str_flags); fi++) {
        for (size_t wi = 0; wi < COUNTOF(str_widths); wi++) {
            for (size_t pi = 0; pi < COUNTOF(str_precs); pi++) {
                snprintf(fmt, sizeof(fmt), "<%%%s%s%ss>", str_flags[fi], str_widths[wi],
                         str_precs[pi]);
                for (size_t si = 0; si < COUNTOF(strs); si++)
                    COMPARE(fmt, strs[si]);
            }
            snprintf(fmt, sizeof(fmt), "<%%%s%sc>", str_flags[fi], str_widths[wi]);
            COMPARE(fmt, 'x');
            COMPARE(fmt, 'Z');
            snprintf(fmt, sizeof(fmt), "<%%%s*.*s>", str_flags[fi]);
            for (int w = -12; w <= 12; w += 4)
                for (int p = -1; p <= 6; p++)
                    COMPARE(fmt, w, p, "abcdef");
        }
    }
    EXPECT_EQ(grid_failed, 0);
}

/* Mixed conversions, literal text and %% in one format. */
HTEST(fmt_grid, mixed) {
    grid_reset();
    COMPARE("%d%%%s|%5.2x|%-6o|%c%c%c", -12, "str", 0xabu, 8u, 'a', 'b', 'c');
    COMPARE("100%% of %u is %+d and %#X", 7u, 7, 0xbeefu);
    COMPARE("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
    COMPARE("%lld %llu %llx", (long long)INT64_MIN, (unsigned long long)UINT64_MAX,
            (unsigned long long)UINT64_MAX);
    COMPARE("%zu %zd %zx", (size_t)SIZE_MAX, (size_t)5, (size_t)0xfeed);
    COMPARE("%jd %ju %td %tx", (intmax_t)INT64_MIN, (uintmax_t)UINT64_MAX,
            (ptrdiff_t)-5, (ptrdiff_t)-1);
    EXPECT_EQ(grid_failed, 0);
}

/* Output far larger than any internal buffer, in fields and in literal text. */
HTEST(fmt, wide_fields) {
    static char buf[BUF_SIZE];
    char expect[400];
    grid_reset();
    COMPARE("%300d|", 42);
    COMPARE("%-300d|", -42);
    COMPARE("%0300d|", -5);
    COMPARE("%.300d|", 5);
    COMPARE("%#300.200x|", 0xabcu);
    COMPARE("%300s|%-300s|", "right", "left");
    COMPARE("%300c|", 'q');
    COMPARE("%5000x", 1u);
    COMPARE("%*d", 3000, 1);
    COMPARE("%-*d|", 3000, 1);
    EXPECT_EQ(grid_failed, 0);

    memset(expect, ' ', 298);
    strcpy(expect + 298, "42");
    EXPECT_EQ(fixed(buf, sizeof(buf), "%300d", 42), 300);
    EXPECT_STREQ(buf, expect);

    /* A 7000-byte literal run interleaved with conversions stays in order. */
    static char fmt[7100];
    static char want[7200];
    size_t n = 0;
    for (int i = 0; i < 7000; i++)
        fmt[n++] = (char)('a' + i % 26);
    strcpy(fmt + n, "%d");
    snprintf(want, sizeof(want), "%.7000s%d", fmt, 123);
    EXPECT_EQ(ours(buf, sizeof(buf), fmt, 123), 7003);
    EXPECT_STREQ(buf, want);
}

/* Runs of every length landing at every offset of the internal chunk buffer. */
HTEST(fmt, chunk_boundaries) {
    static const char forty[] = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
    grid_reset();
    for (int w = 0; w <= 300; w++) {
        COMPARE("%*s%s|%llu|%-#*x", w, "", forty, (unsigned long long)UINT64_MAX, w % 7, w);
        COMPARE("%*sliteral text, thirty bytes..%d", w, "", w);
        for (int len = 0; len <= 40; len += 13)
            COMPARE("%*s%.*s%.*d", w, "", len, forty, len, w);
    }
    EXPECT_EQ(grid_failed, 0);
}

HTEST(fmt, extremes) {
    char buf[128];
    fixed(buf, sizeof(buf), "%lld", (long long)INT64_MIN);
    EXPECT_STREQ(buf, "-9223372036854775808");
    fixed(buf, sizeof(buf), "%+jd|% zd", (intmax_t)INT64_MIN, (size_t)INT64_MIN);
    EXPECT_STREQ(buf, "-9223372036854775808|-9223372036854775808");
    fixed(buf, sizeof(buf), "%llu", (unsigned long long)UINT64_MAX);
    EXPECT_STREQ(buf, "18446744073709551615");
    fixed(buf, sizeof(buf), "%llo", (unsigned long long)UINT64_MAX);
    EXPECT_STREQ(buf, "1777777777777777777777");
    fixed(buf, sizeof(buf), "%d|%d", INT32_MIN, INT32_MAX);
    EXPECT_STREQ(buf, "-2147483648|2147483647");
    fixed(buf, sizeof(buf), "%.0d|%.0x|%#.0o|%#.0x|%5.0d|", 0, 0u, 0u, 0u, 0);
    EXPECT_STREQ(buf, "||0||     |");
    ours(buf, sizeof(buf), "%08.3d|%-08d|%+05d|% 05d", 7, 7, 7, 7);
    EXPECT_STREQ(buf, "     007|7       |+0007| 0007");
    fixed(buf, sizeof(buf), "%#010x|%#o|%#X", 0xabu, 8u, 0xabu);
    EXPECT_STREQ(buf, "0x000000ab|010|0XAB");
}

HTEST(fmt, pointer_fixed) {
    char buf[64];
    fixed(buf, sizeof(buf), "%p", (void *)0);
    EXPECT_STREQ(buf, "0x0000000000000000");
    fixed(buf, sizeof(buf), "%p", (void *)0xdeadbeef);
    EXPECT_STREQ(buf, "0x00000000deadbeef");
    fixed(buf, sizeof(buf), "%p", (void *)UINTPTR_MAX);
    EXPECT_STREQ(buf, "0xffffffffffffffff");
    fixed(buf, sizeof(buf), "[%20p]", (void *)0x1234);
    EXPECT_STREQ(buf, "[  0x0000000000001234]");
    fixed(buf, sizeof(buf), "[%-20p]", (void *)0x1234);
    EXPECT_STREQ(buf, "[0x0000000000001234  ]");
    fixed(buf, sizeof(buf), "[%5p]", (void *)0xffff800000000000ull);
    EXPECT_STREQ(buf, "[0xffff800000000000]");
    /* Flags that would change the shape are ignored for %p. */
    EXPECT_EQ(ours(buf, sizeof(buf), "[%#020.3p]", (void *)1), 22);
    EXPECT_STREQ(buf, "[  0x0000000000000001]");
    EXPECT_EQ(ours(buf, sizeof(buf), "[%+ lp]", (void *)1), 20);
    EXPECT_STREQ(buf, "[0x0000000000000001]");
}

/* COMPACT: what a hosted libc prints for a non-null pointer, "0x0" for NULL. */
HTEST(fmt, pointer_compact) {
    char buf[64], ref[64];
    void *ptrs[] = {(void *)1, (void *)0x1234, (void *)0xdeadbeef, (void *)UINTPTR_MAX,
                    (void *)0xffff800000000000ull};
    for (size_t i = 0; i < COUNTOF(ptrs); i++) {
        int n = compact(buf, sizeof(buf), "%p|%20p|%-20p|%5p", ptrs[i], ptrs[i], ptrs[i],
                        ptrs[i]);
        int m = snprintf(ref, sizeof(ref), "%p|%20p|%-20p|%5p", ptrs[i], ptrs[i], ptrs[i],
                         ptrs[i]);
        EXPECT_STREQ(buf, ref);
        EXPECT_EQ(n, m);
    }
    EXPECT_EQ(compact(buf, sizeof(buf), "%p", (void *)0), 3);
    EXPECT_STREQ(buf, "0x0");
    compact(buf, sizeof(buf), "[%6p][%-6p]", (void *)0, (void *)0);
    EXPECT_STREQ(buf, "[   0x0][0x0   ]");
    /* The precision is the minimum digit count; '0', '+' and ' ' change nothing. */
    EXPECT_EQ(ours_compact(buf, sizeof(buf), "[%.6p]", (void *)0x1234), 10);
    EXPECT_STREQ(buf, "[0x001234]");
    ours_compact(buf, sizeof(buf), "[%010p][%+ p][%#p]", (void *)0x1f, (void *)0x1f,
                 (void *)0x1f);
    EXPECT_STREQ(buf, "[      0x1f][0x1f][0x1f]");
    ours_compact(buf, sizeof(buf), "[%05p][%.3p]", (void *)0, (void *)0);
    EXPECT_STREQ(buf, "[  0x0][0x0]");
    /* The style changes %p only. */
    const char *all = "%d %i %u %x %X %o %c %s %%";
    char a[64], b[64];
    ours(a, sizeof(a), all, -1, 2, 3u, 0xabu, 0xabu, 8u, 'z', "s");
    ours_compact(b, sizeof(b), all, -1, 2, 3u, 0xabu, 0xabu, 8u, 'z', "s");
    EXPECT_STREQ(a, "-1 2 3 ab AB 10 z s %");
    EXPECT_STREQ(b, a);
}

/* Signs, zero padding and widths of negative numbers down to INT64_MIN. */
HTEST(fmt, negative_numbers) {
    char buf[128];
    fixed(buf, sizeof(buf), "[%05d][%-5d][%5d][%+d][% d][%+d][% d]", -42, -42, -42, -1, -1, 0,
          0);
    EXPECT_STREQ(buf, "[-0042][-42  ][  -42][-1][-1][+0][ 0]");
    fixed(buf, sizeof(buf), "[%025lld][%-22lld][%.20lld]", (long long)INT64_MIN,
          (long long)INT64_MIN, (long long)INT64_MIN);
    EXPECT_STREQ(buf, "[-000009223372036854775808][-9223372036854775808  ]"
                      "[-09223372036854775808]");
    fixed(buf, sizeof(buf), "[%hhd][%hd][%ld][%zd][%td][%jd]", (signed char)-128, (short)-32768, -1L,
          (size_t)(ssize_t)-2, (ptrdiff_t)-3, (intmax_t)-4);
    EXPECT_STREQ(buf, "[-128][-32768][-1][-2][-3][-4]");
    /* Negative numbers through unsigned conversions are their two's complement. */
    fixed(buf, sizeof(buf), "[%x][%lx][%hhu][%o]", -1, -1L, (unsigned char)-1, -8);
    EXPECT_STREQ(buf, "[ffffffff][ffffffffffffffff][255][37777777770]");
}

/* The engine reads a copy of ap: the caller may format from the same ap twice. */
static void format_twice(char *a, char *b, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(a, size, FMT_POINTER_FIXED, fmt, ap);
    fmt_vsnprintf(b, size, FMT_POINTER_FIXED, fmt, ap);
    va_end(ap);
}

HTEST(fmt, ap_untouched) {
    char a[64], b[64];
    format_twice(a, b, sizeof(a), "%d %s %*d %lld", 1, "two", 4, 3, (long long)INT64_MAX);
    EXPECT_STREQ(a, "1 two    3 9223372036854775807");
    EXPECT_STREQ(b, a);
}

/* %b checked by hand, independent of the host libc. */
HTEST(fmt, binary) {
    char buf[128];
    const char *fmt = "%b|%#b|%#b|%08b|%-6b|%.4b|%hhb|%hb";
    ours(buf, sizeof(buf), fmt, 5u, 5u, 0u, 5u, 3u, 1u, 0x1ffu, 0x1ffffu);
    EXPECT_STREQ(buf, "101|0b101|0|00000101|11    |0001|11111111|1111111111111111");
    ours(buf, sizeof(buf), "%llb", (unsigned long long)UINT64_MAX);
    EXPECT_STREQ(buf, "1111111111111111111111111111111111111111111111111111111111111111");
    ours(buf, sizeof(buf), "%#llb", 1ull << 63);
    EXPECT_STREQ(buf, "0b1000000000000000000000000000000000000000000000000000000000000000");
    ours(buf, sizeof(buf), "%.0b|%b", 0u, 0u);
    EXPECT_STREQ(buf, "|0");
}

HTEST(fmt, null_and_strings) {
    char buf[64];
    const char *null_str = NULL;
    fixed(buf, sizeof(buf), "%s", null_str);
    EXPECT_STREQ(buf, "(null)");
    fixed(buf, sizeof(buf), "[%10s]", null_str);
    EXPECT_STREQ(buf, "[    (null)]");
    fixed(buf, sizeof(buf), "[%-8s]", null_str);
    EXPECT_STREQ(buf, "[(null)  ]");
    fixed(buf, sizeof(buf), "[%.3s]", null_str);
    EXPECT_STREQ(buf, "[(nu]");

    /* Precision bounds the read: ASan would catch a look past these heap bytes. */
    char *raw = malloc(3);
    memcpy(raw, "abc", 3);
    fixed(buf, sizeof(buf), "[%.3s][%.2s][%.*s][%5.3s]", raw, raw, 1, raw, raw);
    EXPECT_STREQ(buf, "[abc][ab][a][  abc]");
    free(raw);

    /* '0' pads strings and chars with spaces. */
    EXPECT_EQ(ours(buf, sizeof(buf), "[%05s][%03c]", "ab", 'z'), 12);
    EXPECT_STREQ(buf, "[   ab][  z]");

    /* A NUL produced by %c is counted and stored. */
    EXPECT_EQ(fixed(buf, sizeof(buf), "a%cb", 0), 3);
    EXPECT_EQ(memcmp(buf, "a\0b\0", 4), 0);
}

HTEST(fmt, unknown_conversions) {
    char buf[64];
    /* The %d after each bad spec must still receive the first vararg. */
    struct {
        const char *fmt;
        const char *want;
    } cases[] = {
        {"%y%d", "%y42"},
        {"a%yb%d", "a%yb42"},
        {"%-5y%d", "%-5y42"},
        {"%*y%d", "%*y42"},
        {"%.*y%d", "%.*y42"},
        {"%#0+ 12.7y%d", "%#0+ 12.7y42"},
        {"%q%d", "%q42"},
        {"%lllx%d", "%lllx42"},
        {"%hz%d", "%hz42"},
        {"%L%d", "%L42"},
        {"%n%d", "%n42"},
        {"%f%d", "%f42"},
        {"%B%d", "%B42"},
        {"%d%", "42%"},
        {"%d%l", "42%l"},
        {"%d%-*.*", "42%-*.*"},
        {"%5%%d", "%42"},
        {"100%%%d", "100%42"},
    };
    for (size_t i = 0; i < COUNTOF(cases); i++) {
        int n = ours(buf, sizeof(buf), cases[i].fmt, 42, 99, 98);
        EXPECT_STREQ(buf, cases[i].want);
        EXPECT_EQ(n, (int)strlen(cases[i].want));
    }
}

HTEST(fmt, truncation) {
    char buf[16];
    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(fixed(buf, 5, "hello world"), 11);
    EXPECT_STREQ(buf, "hell");
    EXPECT_EQ(buf[5], 'X'); /* nothing past size is touched */

    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(fixed(buf, 1, "hello"), 5);
    EXPECT_EQ(buf[0], '\0');
    EXPECT_EQ(buf[1], 'X');

    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(fixed(buf, 0, "hello %d", 12345), 11);
    EXPECT_EQ(buf[0], 'X');
    EXPECT_EQ(fixed(NULL, 0, "%300d", 1), 300);

    EXPECT_EQ(fixed(buf, 12, "hello world"), 11); /* exact fit */
    EXPECT_STREQ(buf, "hello world");
    EXPECT_EQ(fixed(buf, 11, "hello world"), 11); /* one short */
    EXPECT_STREQ(buf, "hello worl");

    EXPECT_EQ(fixed(buf, 4, "%d", 123456), 6);
    EXPECT_STREQ(buf, "123");
    EXPECT_EQ(fixed(buf, 8, "%-10s|", "ab"), 11);
    EXPECT_STREQ(buf, "ab     ");
    EXPECT_EQ(fixed(buf, sizeof(buf), "%s", ""), 0);
    EXPECT_STREQ(buf, "");
    EXPECT_EQ(fixed(buf, sizeof(buf), "%s", "x"), 1);

    /* Every buffer size gives a prefix of the full output and the same return value. */
    static char full[256], part[256];
    const char *fmt = "%s=%08x %-6d %p %c%%";
    int n = fixed(full, sizeof(full), fmt, "key", 0xc0ffeeu, -17, (void *)full, 'k');
    for (size_t size = 0; size <= (size_t)n + 2; size++) {
        memset(part, 'X', sizeof(part));
        EXPECT_EQ(fixed(part, size, fmt, "key", 0xc0ffeeu, -17, (void *)full, 'k'), n);
        if (size) {
            size_t kept = MIN_SIZE(size - 1, (size_t)n);
            EXPECT_EQ(memcmp(part, full, kept), 0);
            EXPECT_EQ(part[kept], '\0');
        }
        EXPECT_EQ(part[size], 'X');
    }
}

/* A sink that records the calls it receives. */
struct record {
    char text[BUF_SIZE];
    size_t len;
    int calls;
    bool saw_empty;
};

static void record_sink(void *ctx, const char *s, size_t len) {
    struct record *r = ctx;
    r->calls++;
    if (len == 0)
        r->saw_empty = true;
    if (r->len + len < sizeof(r->text)) {
        memcpy(r->text + r->len, s, len);
        r->len += len;
        r->text[r->len] = 0;
    }
}

static int sink_printf(struct record *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vformat(record_sink, r, FMT_POINTER_FIXED, fmt, ap);
    va_end(ap);
    return n;
}

HTEST(fmt, sink) {
    static struct record r;
    static char want[BUF_SIZE];

    memset(&r, 0, sizeof(r));
    EXPECT_EQ(sink_printf(&r, "%s", ""), 0);
    EXPECT_EQ(r.calls, 0);

    memset(&r, 0, sizeof(r));
    EXPECT_EQ(sink_printf(&r, "a%db", 1), 3);
    EXPECT_STREQ(r.text, "a1b");
    EXPECT_EQ(r.calls, 1); /* short output is one run */

    /* 4000 characters of output arrive in a handful of runs, none of them empty. */
    memset(&r, 0, sizeof(r));
    int n = sink_printf(&r, "%1000d|%-1000s|%01000x|%.997u", 5, "s", 0xfu, 9u);
    snprintf(want, sizeof(want), "%1000d|%-1000s|%01000x|%.997u", 5, "s", 0xfu, 9u);
    EXPECT_EQ(n, 4000);
    EXPECT_EQ(r.len, 4000u);
    EXPECT_STREQ(r.text, want);
    EXPECT_LE(r.calls, 40);
    EXPECT_FALSE(r.saw_empty);
}
