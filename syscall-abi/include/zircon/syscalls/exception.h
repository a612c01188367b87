/*
 * Exception types and the exception report (Zircon's <zircon/syscalls/exception.h>,
 * newest 40-byte report layout, x86-64 member only). Beryl fills a report when a thread
 * in restricted mode takes an exception (zx_restricted_exception_t, syscalls-next.h).
 * Shared by the kernel and user space (freestanding: only <zircon/types.h> is needed).
 */
#ifndef ZIRCON_SYSCALLS_EXCEPTION_H
#define ZIRCON_SYSCALLS_EXCEPTION_H

#include <stddef.h>
#include <zircon/types.h>

typedef uint32_t zx_excp_type_t;

/* Architectural exceptions; on x86-64: #PF the VM could not resolve, #UD, #BP, #DB, and
 * GENERAL for the rest (#GP, #DE, #MF, #XM, #AC, ...). */
#define ZX_EXCP_GENERAL ((zx_excp_type_t)0x008u)
#define ZX_EXCP_FATAL_PAGE_FAULT ((zx_excp_type_t)0x108u)
#define ZX_EXCP_UNDEFINED_INSTRUCTION ((zx_excp_type_t)0x208u)
#define ZX_EXCP_SW_BREAKPOINT ((zx_excp_type_t)0x308u)
#define ZX_EXCP_HW_BREAKPOINT ((zx_excp_type_t)0x408u)
#define ZX_EXCP_UNALIGNED_ACCESS ((zx_excp_type_t)0x508u)

/* What zx_info_thread_t.wait_exception_channel_type reports: the kind of exception
 * channel a thread blocked in an exception waits on. */
#define ZX_EXCEPTION_CHANNEL_TYPE_NONE ((uint32_t)0u)
#define ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER ((uint32_t)1u)
#define ZX_EXCEPTION_CHANNEL_TYPE_THREAD ((uint32_t)2u)
#define ZX_EXCEPTION_CHANNEL_TYPE_PROCESS ((uint32_t)3u)
#define ZX_EXCEPTION_CHANNEL_TYPE_JOB ((uint32_t)4u)
#define ZX_EXCEPTION_CHANNEL_TYPE_JOB_DEBUGGER ((uint32_t)5u)

typedef struct zx_exception_header {
    uint32_t size; /* of the whole report */
    zx_excp_type_t type;
} zx_exception_header_t;

/* cr2 is the fault address for a page fault and 0 for every other vector. */
typedef struct zx_x86_64_exc_data {
    uint64_t vector;
    uint64_t err_code;
    uint64_t cr2;
} zx_x86_64_exc_data_t;

typedef struct zx_exception_context {
    struct {
        union {
            zx_x86_64_exc_data_t x86_64;
        } u;
    } arch;
    /* For ZX_EXCP_FATAL_PAGE_FAULT the VM's status (NOT_FOUND: nothing mapped there,
     * ACCESS_DENIED: the mapping forbids the access, OUT_OF_RANGE: past the VMO's end),
     * as a uint32_t; 0 otherwise. */
    uint32_t synth_code;
    uint32_t synth_data;
} zx_exception_context_t;

typedef struct zx_exception_report {
    zx_exception_header_t header;
    zx_exception_context_t context;
} zx_exception_report_t;

_Static_assert(sizeof(zx_exception_report_t) == 40, "zx_exception_report_t layout");
_Static_assert(offsetof(zx_exception_report_t, context.arch.u.x86_64.cr2) == 24,
               "zx_exception_report_t layout");
_Static_assert(offsetof(zx_exception_report_t, context.synth_code) == 32,
               "zx_exception_report_t layout");

#endif
