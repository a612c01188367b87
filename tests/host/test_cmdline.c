/* Host tests for kernel/cmdline.c (and the kparse_u64 it relies on). */
#include <kernel/cmdline.h>
#include <kernel/compiler.h>
#include <lib/string.h>

#include <stdlib.h>

#include "htest.h"

/* Looks key up and checks the value against want (NULL means "must be absent"). */
static void check_value(const char *file, int line, const char *key, const char *want) {
    size_t len = 0xbad;
    const char *v = cmdline_get(key, &len);
    if (!want) {
        if (v)
            htest_fail(file, line, "key \"%s\": expected absent, got \"%.*s\"", key, (int)len, v);
        return;
    }
    if (!v) {
        htest_fail(file, line, "key \"%s\": expected \"%s\", got absent", key, want);
        return;
    }
    if (len != strlen(want) || memcmp(v, want, len) != 0)
        htest_fail(file, line, "key \"%s\": expected \"%s\", got \"%.*s\" (len %zu)", key, want,
                   (int)len, v, len);
}
#define CHECK_VALUE(key, want) check_value(__FILE__, __LINE__, (key), (want))

HTEST(cmdline, empty_and_null) {
    cmdline_init(NULL);
    EXPECT_STREQ(cmdline_raw(), "");
    CHECK_VALUE("test", NULL);

    cmdline_init("");
    EXPECT_STREQ(cmdline_raw(), "");
    CHECK_VALUE("test", NULL);
    CHECK_VALUE("", NULL);

    cmdline_init(" \t  \t ");
    CHECK_VALUE("test", NULL);
    CHECK_VALUE("", NULL);
}

HTEST(cmdline, key_values) {
    cmdline_init("test=all loglevel=3 pmm.fail_random=1234:50 pmm.fail_every=7");
    CHECK_VALUE("test", "all");
    CHECK_VALUE("loglevel", "3");
    CHECK_VALUE("pmm.fail_random", "1234:50");
    CHECK_VALUE("pmm.fail_every", "7");
    CHECK_VALUE("missing", NULL);
    EXPECT_STREQ(cmdline_raw(), "test=all loglevel=3 pmm.fail_random=1234:50 pmm.fail_every=7");
}

HTEST(cmdline, whitespace) {
    cmdline_init("   a=1\t\tb=2   ");
    CHECK_VALUE("a", "1");
    CHECK_VALUE("b", "2");
    cmdline_init("\ta=x\t");
    CHECK_VALUE("a", "x");
    cmdline_init("a=1\nb=2\r\nc");
    CHECK_VALUE("a", "1");
    CHECK_VALUE("b", "2");
    CHECK_VALUE("c", "");
    /* The raw copy is kept exactly as given. */
    cmdline_init("  a=1  ");
    EXPECT_STREQ(cmdline_raw(), "  a=1  ");
}

HTEST(cmdline, last_occurrence_wins) {
    cmdline_init("a=1 a=2 b=x a=3");
    CHECK_VALUE("a", "3");
    CHECK_VALUE("b", "x");
    cmdline_init("x x=5");
    CHECK_VALUE("x", "5");
    cmdline_init("x=5 x");
    CHECK_VALUE("x", "");
    cmdline_init("a=long-value a=");
    CHECK_VALUE("a", "");
}

HTEST(cmdline, flags) {
    cmdline_init("quiet a=1 verbose");
    size_t len = 99;
    const char *v = cmdline_get("quiet", &len);
    EXPECT_NONNULL(v);
    EXPECT_EQ(len, 0u);
    CHECK_VALUE("verbose", "");
    CHECK_VALUE("a", "1");
    CHECK_VALUE("quie", NULL);
    CHECK_VALUE("quiett", NULL);

    /* "a=" is present with an empty value, just like a flag. */
    cmdline_init("a=");
    len = 99;
    EXPECT_NONNULL(cmdline_get("a", &len));
    EXPECT_EQ(len, 0u);
}

HTEST(cmdline, exact_key_match) {
    cmdline_init("testing=1 pmm.test=1 xtest=2 test.x=3");
    CHECK_VALUE("test", NULL);
    CHECK_VALUE("testing", "1");
    CHECK_VALUE("pmm.test", "1");
    CHECK_VALUE("xtest", "2");
    CHECK_VALUE("test.x", "3");
    CHECK_VALUE("tes", NULL);
    CHECK_VALUE("pmm", NULL);
    CHECK_VALUE("testing=1", NULL);

    cmdline_init("test=all testing=1");
    CHECK_VALUE("test", "all");
    CHECK_VALUE("testing", "1");
    cmdline_init("testing test");
    CHECK_VALUE("test", "");
}

HTEST(cmdline, values_with_equals) {
    cmdline_init("a=b=c d== e=x=y=z");
    CHECK_VALUE("a", "b=c");
    CHECK_VALUE("d", "=");
    CHECK_VALUE("e", "x=y=z");
    CHECK_VALUE("b", NULL);
    CHECK_VALUE("a=b", NULL);

    /* A token with an empty key never matches anything. */
    cmdline_init("=foo =");
    CHECK_VALUE("", NULL);
    CHECK_VALUE("foo", NULL);
}

HTEST(cmdline, null_len_pointer) {
    cmdline_init("a=1 flag");
    const char *v = cmdline_get("a", NULL);
    ASSERT_NONNULL(v);
    EXPECT_EQ(v[0], '1');
    EXPECT_NONNULL(cmdline_get("flag", NULL));
    EXPECT_NULL(cmdline_get("none", NULL));
}

HTEST(cmdline, private_copy) {
    char src[] = "key=value";
    cmdline_init(src);
    memset(src, 'Z', sizeof(src) - 1); /* the caller's buffer may be reused */
    CHECK_VALUE("key", "value");
    const char *raw = cmdline_raw();
    size_t len;
    const char *v = cmdline_get("key", &len);
    EXPECT_TRUE(v >= raw && v + len <= raw + strlen(raw)); /* points into the copy */

    cmdline_init("other=1"); /* re-initialising replaces everything */
    CHECK_VALUE("key", NULL);
    CHECK_VALUE("other", "1");
}

HTEST(cmdline, truncation) {
    static char big[CMDLINE_MAX * 2];
    /* Filler tokens, then a key that straddles the cut and one entirely past it. */
    size_t n = 0;
    while (n < CMDLINE_MAX - 20)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "f%zu ", n);
    size_t straddle_start = n;
    n += (size_t)snprintf(big + n, sizeof(big) - n, "cut=0123456789012345678901234567890 ");
    snprintf(big + n, sizeof(big) - n, "gone=1");

    cmdline_init(big);
    EXPECT_EQ(strlen(cmdline_raw()), (size_t)CMDLINE_MAX - 1);
    EXPECT_EQ(memcmp(cmdline_raw(), big, CMDLINE_MAX - 1), 0);
    CHECK_VALUE("gone", NULL);
    CHECK_VALUE("f0", "");

    size_t len = 0;
    const char *v = cmdline_get("cut", &len);
    ASSERT_NONNULL(v);
    EXPECT_EQ(len, (size_t)CMDLINE_MAX - 1 - (straddle_start + strlen("cut=")));
    EXPECT_EQ(memcmp(v, "0123456789", len < 10 ? len : 10), 0);

    /* Exactly CMDLINE_MAX-1 bytes fit untouched. */
    memset(big, 'k', CMDLINE_MAX - 1);
    big[CMDLINE_MAX - 1] = '\0';
    cmdline_init(big);
    EXPECT_EQ(strlen(cmdline_raw()), (size_t)CMDLINE_MAX - 1);
    CHECK_VALUE(big, "");
}

HTEST(cmdline, get_u64) {
    uint64_t v;
    cmdline_init("loglevel=5 hex=0x10 HEX=0XfF bad=12a flag empty= neg=-1 big=18446744073709551616 "
                 "max=18446744073709551615 n=1 n=2 prefix=0x");
    EXPECT_TRUE(cmdline_get_u64("loglevel", &v));
    EXPECT_EQ(v, 5u);
    EXPECT_TRUE(cmdline_get_u64("hex", &v));
    EXPECT_EQ(v, 16u);
    EXPECT_TRUE(cmdline_get_u64("HEX", &v));
    EXPECT_EQ(v, 255u);
    EXPECT_TRUE(cmdline_get_u64("max", &v));
    EXPECT_EQ(v, UINT64_MAX);
    EXPECT_TRUE(cmdline_get_u64("n", &v));
    EXPECT_EQ(v, 2u);

    const char *failing[] = {"bad", "flag", "empty", "neg", "big", "prefix", "absent", "loglevel5"};
    for (size_t i = 0; i < countof(failing); i++) {
        v = 0xdead;
        if (cmdline_get_u64(failing[i], &v))
            htest_fail(__FILE__, __LINE__, "cmdline_get_u64(\"%s\") succeeded", failing[i]);
        EXPECT_EQ(v, 0xdeadu); /* untouched on failure */
    }
}

HTEST(cmdline, get_bool) {
    cmdline_init("t=true one=1 flag empty= f=false zero=0 off=off on=on yes=yes F=FALSE "
                 "falsey=falsey last=0 last=1");
    const char *truthy[] = {"t", "one", "flag", "empty", "on", "yes", "F", "falsey", "last"};
    for (size_t i = 0; i < countof(truthy); i++) {
        if (!cmdline_get_bool(truthy[i], false))
            htest_fail(__FILE__, __LINE__, "cmdline_get_bool(\"%s\") is false", truthy[i]);
    }
    const char *falsy[] = {"f", "zero", "off"};
    for (size_t i = 0; i < countof(falsy); i++) {
        if (cmdline_get_bool(falsy[i], true))
            htest_fail(__FILE__, __LINE__, "cmdline_get_bool(\"%s\") is true", falsy[i]);
    }
    EXPECT_TRUE(cmdline_get_bool("absent", true));
    EXPECT_FALSE(cmdline_get_bool("absent", false));
}

/* Random command lines: the last token with the key always wins, per a simple model. */
HTEST(cmdline, random_model) {
    static const char *const keys[] = {"a", "ab", "b", "a.b", "test", "testing"};
    static const char *const vals[] = {"", "1", "x=y", "0x20", "=="};
    static char line[CMDLINE_MAX];
    srand((unsigned)htest_seed());
    for (int iter = 0; iter < 2000; iter++) {
        const char *want[countof(keys)] = {0};
        size_t n = 0;
        int tokens = rand() % 12;
        for (int t = 0; t < tokens; t++) {
            size_t k = (size_t)rand() % countof(keys);
            int kind = rand() % 3; /* 0: flag, 1: key=value, 2: key=value after tabs */
            const char *sep = kind == 2 ? "\t\t" : " ";
            if (kind == 0) {
                n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", sep, keys[k]);
                want[k] = "";
            } else {
                const char *val = vals[(size_t)rand() % countof(vals)];
                n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s=%s", sep, keys[k], val);
                want[k] = val;
            }
        }
        line[n] = '\0';
        cmdline_init(line);
        for (size_t k = 0; k < countof(keys); k++)
            CHECK_VALUE(keys[k], want[k]);
    }
}
