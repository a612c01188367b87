/*
 * The SMP stress test's internals (user/stress/churn.c: the run; churn/ops.c: the
 * operations and the child a launch starts).
 */
#ifndef USER_STRESS_CHURN_STRESS_PRIV_H
#define USER_STRESS_CHURN_STRESS_PRIV_H

#include <beryl/test_util.h>
#include <stdbool.h>
#include <stdint.h>

/* Workers pinned to each CPU, and the most workers in all. */
#define STRESS_WORKERS_PER_CPU 2u
#define STRESS_MAX_WORKERS 32u
/* Channel ends every worker takes from and puts back. */
#define STRESS_POOL_SLOTS 32u
/* How long a worker may take for its share (far beyond the CI size's few seconds). */
#define STRESS_WORKER_TIMEOUT_NS (600 * TU_SEC)
/* How often the main thread prints the run's progress. */
#define STRESS_PROGRESS_NS (10 * TU_SEC)
/* Every wait inside an operation (a child's answer, a thread's end). */
#define STRESS_WAIT_NS (30 * TU_SEC)
/* The in-program leak check retries while deferred frees complete. */
#define STRESS_LEAK_RETRIES 50
#define STRESS_LEAK_RETRY_NS (10 * TU_MS)
/* Handles the run may hold at once in this process's table, at most (the pool, and a
 * few per worker); the table is grown to this before the run. */
#define STRESS_HANDLE_HEADROOM 512u
/* Bytes of the main thread's stack touched before the measurement. */
#define STRESS_STACK_PREFAULT (16u * 1024u)
/* argv[1] of a launched child. */
#define STRESS_CHILD_ARG "--child"
/* The largest VMO an operation makes, in pages. */
#define STRESS_MAX_VMO_PAGES 16u
/* The most handles and bytes one of the operations' messages carries. */
#define STRESS_MSG_HANDLES 3u
#define STRESS_MSG_BYTES 64u

/* One worker thread and where it is. */
typedef struct {
    uint32_t index;
    uint32_t cpu;       /* where it is pinned */
    uint64_t rng;       /* its own stream, from the seed and its index */
    uint32_t ops;       /* its share of the operations */
    uint32_t op;        /* the one it runs now (or ran last) */
    const char *op_name;
    uint32_t finished;
    tu_thread_t thread;
} worker_t;

/* What the workers share: the pool, counters for the summary, and failures. */
typedef struct {
    zx_handle_t pool[STRESS_POOL_SLOTS]; /* accessed with atomic exchanges only */
    uint32_t ncpus;
    uint32_t failures, launches, threads, messages, pages; /* atomic adds */
} stress_t;

extern stress_t g_stress;

/* xorshift64*: the next number of a worker's stream (*state never 0). */
uint64_t stress_rand(uint64_t *state);
/* A number in [0, n), n > 0. */
uint32_t stress_below(uint64_t *state, uint32_t n);

/* Prints the failure (worker, operation, line, what, status), counts it; returns false. */
bool stress_fail(worker_t *w, int line, const char *what, zx_status_t st);

/* Fails the operation (returns false from the function) unless the call returned ZX_OK. */
#define STRESS_OK(w, call)                                       \
    do {                                                         \
        zx_status_t st_ = (call);                                \
        if (st_ != ZX_OK)                                        \
            return stress_fail((w), __LINE__, #call, st_);       \
    } while (0)
/* Fails the operation unless cond holds. */
#define STRESS_CHECK(w, cond)                                    \
    do {                                                         \
        if (!(cond))                                             \
            return stress_fail((w), __LINE__, #cond, ZX_OK);     \
    } while (0)

/* Takes the handle in a pool slot (slot taken modulo the pool's size; ZX_HANDLE_INVALID if
 * it is empty): the caller owns it. */
zx_handle_t stress_pool_take(uint32_t slot);
/* Puts h (owned; may be ZX_HANDLE_INVALID) into a slot, closing what was there. */
void stress_pool_put(uint32_t slot, zx_handle_t h);

/* Pins thread to cpu (a profile made with the resource handle). */
zx_status_t stress_pin(zx_handle_t thread, uint32_t cpu);

/* Runs operation w->op of worker w, chosen from its stream; false if a check failed. */
bool stress_run_op(worker_t *w);

/* Runs each kind of operation once as worker w (the warm-up before the measurement);
 * false if a check failed. */
bool stress_run_each_op(worker_t *w);

/* The main of a launched child (churn/ops.c). */
int stress_child_main(void);

#endif
