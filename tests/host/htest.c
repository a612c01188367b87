/* Host test runner and the host stand-ins for kernel services (panic, console level). */
#include "htest.h"

#include <stdarg.h>
#include <stdlib.h>

#include <kernel/assert.h>
#include <kernel/console.h>

static struct htest *tests_head, **tests_tail = &tests_head;
static int current_failures;
static const char *current_name = "";
jmp_buf *htest_panic_jmp;
char htest_last_panic[512];
uintptr_t host_physmap_offset;

void htest_register(struct htest *t) {
    *tests_tail = t;
    tests_tail = &t->next;
}

void htest_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
    current_failures++;
}

uint64_t htest_seed(void) {
    const char *s = getenv("HTEST_SEED");
    return s ? strtoull(s, NULL, 0) : 0x5eed1234abcdull;
}

/* Kernel panic() for host builds: longjmp into HTEST_EXPECT_PANIC, else abort. */
void panic(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(htest_last_panic, sizeof(htest_last_panic), fmt, ap);
    va_end(ap);
    if (htest_panic_jmp)
        longjmp(*htest_panic_jmp, 1);
    fprintf(stdout, "PANIC in %s: %s\n", current_name, htest_last_panic);
    fflush(stdout);
    abort();
}

int console_level(void) { return LOG_CRITICAL; }

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    char full[256];
    for (struct htest *t = tests_head; t; t = t->next) {
        snprintf(full, sizeof(full), "%s.%s", t->suite, t->name);
        if (argc > 1 && !strstr(full, argv[1]))
            continue;
        current_name = full;
        current_failures = 0;
        t->fn();
        if (current_failures) {
            printf("[ FAIL ] %s\n", full);
            failed++;
        } else {
            printf("[  OK  ] %s\n", full);
            passed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
