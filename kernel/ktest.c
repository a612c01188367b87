/*
 * In-kernel test runner (see <kernel/ktest.h>). Output, one line per test:
 *   [ RUN  ] suite.name
 *   [  OK  ] suite.name            or   [ FAIL ] suite.name
 * then the closing line "N passed, N failed" that the host runner checks.
 */
#include <kernel/console.h>
#include <kernel/ktest.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <phys/heap.h>
#include <phys/pmm.h>

extern const struct ktest __ktests_start[], __ktests_end[];

void ktest_fail(struct ktest_ctx *ktx, const char *file, int line, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printf("    %s:%d: %s\n", file, line, msg);
    ktx->failures++;
}

/* Does `t` match the selector? "all" takes every non-manual test; "suite" every
 * non-manual test of the suite; "suite.name" exactly that test, manual or not. */
static bool ktest_selected(const struct ktest *t, const char *sel, size_t len) {
    size_t slen = strlen(t->suite);
    bool manual = t->flags & KTEST_FLAG_MANUAL;
    if (len == 3 && memcmp(sel, "all", 3) == 0)
        return !manual;
    if (len == slen && memcmp(sel, t->suite, slen) == 0)
        return !manual;
    size_t nlen = strlen(t->name);
    return len == slen + 1 + nlen && memcmp(sel, t->suite, slen) == 0 && sel[slen] == '.' &&
           memcmp(sel + slen + 1, t->name, nlen) == 0;
}

int ktest_run(const char *selector, size_t selector_len) {
    int passed = 0, failed = 0;
    printf("ktest: running tests matching \"%.*s\"\n", (int)selector_len, selector);
    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++) {
        if (!ktest_selected(t, selector, selector_len))
            continue;
        struct ktest_ctx ktx = {.current = t->name, .failures = 0};
        printf("[ RUN  ] %s.%s\n", t->suite, t->name);
        heap_trim(); /* the heap's spare slabs are not the test's */
        size_t free_before = pmm_count_free_pages();
        size_t heap_before = heap_bytes_in_use();
        t->fn(&ktx);
        heap_trim();
        size_t free_after = pmm_count_free_pages();
        size_t heap_after = heap_bytes_in_use();
        if (free_after != free_before) {
            printf("    leak check: free pages %zu before, %zu after\n", free_before, free_after);
            ktx.failures++;
        }
        if (heap_after != heap_before) {
            printf("    leak check: heap bytes in use %zu before, %zu after\n", heap_before,
                   heap_after);
            ktx.failures++;
        }
        if (ktx.failures) {
            printf("[ FAIL ] %s.%s\n", t->suite, t->name);
            failed++;
        } else {
            printf("[  OK  ] %s.%s\n", t->suite, t->name);
            passed++;
        }
    }
    if (passed + failed == 0) {
        printf("ktest: no test matches \"%.*s\"\n", (int)selector_len, selector);
        failed = 1;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed;
}
