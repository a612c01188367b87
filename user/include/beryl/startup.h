/*
 * Beryl extras over the startup (processargs) message; see <zircon/processargs.h>.
 * The runtime reads the message before main() and keeps every handle it carried.
 */
#ifndef BERYL_STARTUP_H
#define BERYL_STARTUP_H

#include <zircon/types.h>

/* Returns the handle sent with info value pa_info (PA_HND(type, arg)) and forgets it: the
 * caller owns it from now on. ZX_HANDLE_INVALID if absent or already taken. */
zx_handle_t beryl_take_startup_handle(uint32_t pa_info);

/* Like beryl_take_startup_handle() but the runtime keeps ownership (do not close it). */
zx_handle_t beryl_get_startup_handle(uint32_t pa_info);

/* The names table: names[arg] for a PA_VMO_BOOTFS handle with that arg; NULL when out of
 * range. beryl_startup_name_count() is the table's length. */
const char *beryl_startup_name(uint32_t arg);
uint32_t beryl_startup_name_count(void);

/* The PA_RESOURCE handle (runtime-owned), or ZX_HANDLE_INVALID. */
zx_handle_t beryl_resource(void);

/* The program's argv[0] ("" if the creator sent no args). */
const char *beryl_program_name(void);

#endif
