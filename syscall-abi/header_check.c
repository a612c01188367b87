/*
 * Compiled into beryl_syscalls with the user flags so that a broken public header fails
 * the build even before a program includes it. Defines nothing that gets linked.
 */
#include <zircon/processargs.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls-next.h>
#include <zircon/syscalls/exception.h>
#include <zircon/syscalls/object.h>
#include <zircon/types.h>
