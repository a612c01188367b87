/*
 * The startup message a new process reads from its bootstrap channel (the handle passed
 * to zx_process_start as arg1). Layout and handle-info values follow Zircon's processargs
 * protocol; Beryl fills in only the parts it uses.
 *
 * Message bytes: a zx_proc_args_t header, then at handle_info_off one uint32_t per
 * transferred handle (PA_HND(type, arg)) in the same order as the message's handles,
 * then at args_off args_num NUL-terminated argument strings, then at names_off names_num
 * NUL-terminated names (a PA_VMO_BOOTFS handle with arg n is named names[n]).
 */
#ifndef ZIRCON_PROCESSARGS_H
#define ZIRCON_PROCESSARGS_H

#include <stdint.h>

#define ZX_PROCARGS_PROTOCOL ((uint32_t)0x4150585du)
#define ZX_PROCARGS_VERSION ((uint32_t)0x0001000u)

typedef struct zx_proc_args {
    uint32_t protocol;
    uint32_t version;
    uint32_t handle_info_off;
    uint32_t args_off;
    uint32_t args_num;
    uint32_t environ_off;
    uint32_t environ_num;
    uint32_t names_off;
    uint32_t names_num;
} zx_proc_args_t;

#define PA_HND(type, arg) (((uint32_t)(type) & 0xffu) | (((uint32_t)(arg) & 0xffffu) << 16))
#define PA_HND_TYPE(n) ((uint32_t)(n) & 0xffu)
#define PA_HND_ARG(n) (((uint32_t)(n) >> 16) & 0xffffu)

#define PA_PROC_SELF 0x01u
#define PA_THREAD_SELF 0x02u
#define PA_JOB_DEFAULT 0x03u
#define PA_VMAR_ROOT 0x04u
#define PA_VMAR_LOADED 0x05u
#define PA_VMO_STACK 0x13u
#define PA_VMO_EXECUTABLE 0x14u
#define PA_VMO_BOOTFS 0x1Bu  /* a boot module; arg = index into names */
#define PA_RESOURCE 0x3Fu    /* the root resource (ZX_INFO_KMEM_STATS) */
#define PA_USER0 0xF0u       /* Beryl test runner: channel for the results record */
#define PA_USER1 0xF1u
#define PA_USER2 0xF2u

#endif
