/*
 * The test runner behind <beryl/test.h>: registration walk, failures, death tests, report.
 *
 * While a case runs, the thread running it is named after it ("Suite.Case", cut to
 * ZX_MAX_NAME_LEN - 1 characters) and a death-test child process is named
 * BERYL_DEATH_NAME_PREFIX "Suite.Case", so the kernel's user fault report (which names
 * the process and thread) tells which case crashed and whether the crash was expected.
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_report.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/processargs.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

extern const beryl_test_case_t *const __start_beryl_tests[] __attribute__((weak));
extern const beryl_test_case_t *const __stop_beryl_tests[] __attribute__((weak));

static const beryl_test_case_t *current;
static uint32_t current_failures; /* atomic: threads of a test may fail concurrently */
static char first_failure[200];
static volatile int fail_lock;
static const char *prog_name = "test";

/* Death-test child state, from args "--death <suite.name> <id>". */
static bool death_child;
static int death_id = -1;

bool beryl_test_in_death_child(void) { return death_child; }
int beryl_test_death_id(void) { return death_id; }

bool beryl_test_str_eq_(const char *a, const char *b) {
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

void beryl_test_fail(const char *file, int line, const char *fmt, ...) {
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *base = strrchr(file, '/');
    base = base != NULL ? base + 1 : file;
    while (__atomic_exchange_n(&fail_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    uint32_t n = __atomic_fetch_add(&current_failures, 1, __ATOMIC_RELAXED);
    if (n == 0)
        snprintf(first_failure, sizeof(first_failure), "%s:%d: %s", base, line, msg);
    __atomic_store_n(&fail_lock, 0, __ATOMIC_RELEASE);
    /* The result line carries the first failure; later ones get their own line. */
    if (n > 0 && !death_child)
        printf("    %s:%d: %s\n", base, line, msg);
}

static void full_name(const beryl_test_case_t *t, char *buf, size_t size) {
    snprintf(buf, size, "%s.%s", t->suite, t->name);
}

/* Gives the calling thread the name `name`, cut to ZX_MAX_NAME_LEN - 1 characters. The name only
 * serves diagnostics (the fault report), so a failure is ignored: the case still runs. */
static void name_current_thread(const char *name) {
    zx_object_set_property(zx_thread_self(), ZX_PROP_NAME, name,
                           strnlen(name, ZX_MAX_NAME_LEN - 1));
}

bool beryl_test_run_death(int id, int64_t expected, const char *what, const char *file,
                          int line) {
    zx_handle_t exe = beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0));
    if (exe == ZX_HANDLE_INVALID || current == NULL) {
        beryl_test_fail(file, line, "death test needs PA_VMO_EXECUTABLE and a running TEST");
        return false;
    }
    char name[96], idbuf[16], process_name[ZX_MAX_NAME_LEN];
    full_name(current, name, sizeof(name));
    snprintf(idbuf, sizeof(idbuf), "%d", id);
    /* snprintf cuts the name to ZX_MAX_NAME_LEN - 1 characters, as the kernel would. */
    snprintf(process_name, sizeof(process_name), "%s%s", BERYL_DEATH_NAME_PREFIX, name);
    const char *argv[] = {prog_name, "--death", name, idbuf};
    beryl_launch_args_t a = {
        .job = zx_job_default(),
        .name = process_name,
        .exe_vmo = exe,
        .argc = 4,
        .argv = argv,
    };
    zx_handle_t child;
    zx_status_t st = beryl_launch(&a, &child);
    if (st != ZX_OK) {
        beryl_test_fail(file, line, "death test: launch failed: %d", (int)st);
        return false;
    }
    int64_t rc = 0;
    st = beryl_wait_exit(child, zx_clock_get_monotonic() + BERYL_DEATH_TIMEOUT_NS, &rc);
    if (st == ZX_ERR_TIMED_OUT) {
        zx_task_kill(child);
        zx_object_wait_one(child, ZX_PROCESS_TERMINATED, ZX_TIME_INFINITE, NULL);
    }
    zx_handle_close(child);
    if (st != ZX_OK) {
        beryl_test_fail(file, line, "death test {%s}: wait failed: %d", what, (int)st);
        return false;
    }
    if (rc != expected) {
        const char *why = rc == BERYL_DEATH_SURVIVED     ? " (block survived)"
                          : rc == BERYL_DEATH_NOT_REACHED ? " (block not reached)"
                                                          : "";
        beryl_test_fail(file, line, "death test {%s}: return code %lld%s, expected %lld", what,
                        (long long)rc, why, (long long)expected);
        return false;
    }
    return true;
}

static void send_report(uint32_t passed, uint32_t failed) {
    zx_handle_t ch = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
    if (ch == ZX_HANDLE_INVALID)
        return;
    beryl_test_report_t r = {BERYL_TEST_REPORT_MAGIC, passed, failed, 0};
    zx_channel_write(ch, 0, &r, sizeof(r), NULL, 0);
    zx_handle_close(ch);
}

/* Child side of a death test: run only the named case; the matching block exits. */
static int run_death_child(const char *name, const char *id) {
    death_child = true;
    death_id = (int)strtol(id, NULL, 10);
    size_t n = (size_t)(__stop_beryl_tests - __start_beryl_tests);
    for (size_t i = 0; i < n; i++) {
        char full[96];
        full_name(__start_beryl_tests[i], full, sizeof(full));
        if (strcmp(full, name) == 0) {
            current = __start_beryl_tests[i];
            name_current_thread(full);
            current->fn();
            break;
        }
    }
    return BERYL_DEATH_NOT_REACHED;
}

int beryl_test_run_all(int argc, char **argv) {
    if (argc > 0 && argv[0][0] != 0)
        prog_name = argv[0];
    if (argc >= 4 && strcmp(argv[1], "--death") == 0)
        return run_death_child(argv[2], argv[3]);
    const char *filter = argc >= 2 ? argv[1] : NULL;

    /* The thread gets its own name back after each case ("main" from the launcher, unless
     * the program renamed it before calling this). */
    char own_name[ZX_MAX_NAME_LEN] = "main";
    if (zx_object_get_property(zx_thread_self(), ZX_PROP_NAME, own_name, sizeof(own_name)) !=
        ZX_OK)
        snprintf(own_name, sizeof(own_name), "main");
    own_name[ZX_MAX_NAME_LEN - 1] = 0;

    uint32_t passed = 0, failed = 0;
    size_t n = (size_t)(__stop_beryl_tests - __start_beryl_tests);
    for (size_t i = 0; i < n; i++) {
        const beryl_test_case_t *t = __start_beryl_tests[i];
        char full[96];
        full_name(t, full, sizeof(full));
        if (filter != NULL && strstr(full, filter) == NULL)
            continue;
        current = t;
        __atomic_store_n(&current_failures, 0, __ATOMIC_RELAXED);
        name_current_thread(full);
        t->fn();
        name_current_thread(own_name);
        current = NULL;
        if (__atomic_load_n(&current_failures, __ATOMIC_RELAXED) == 0) {
            passed++;
            printf("PASS %s\n", full);
        } else {
            failed++;
            printf("FAIL %s (%s)\n", full, first_failure);
        }
    }
    printf("%s: %u passed, %u failed\n", prog_name, passed, failed);
    send_report(passed, failed);
    return (int)failed;
}

__attribute__((weak)) int main(int argc, char **argv) {
    return beryl_test_run_all(argc, argv);
}
