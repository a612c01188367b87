/*
 * The pure runtime sources (string.c, format.c, malloc_core.c ...) are also compiled for
 * the host unit tests, where their libc names would collide with the host's libc. There
 * they get a beryl_ prefix instead.
 */
#ifndef BERYL_LIBC_NAMES_H
#define BERYL_LIBC_NAMES_H

#ifdef BERYL_HOST
#define BERYL_LIBC(name) beryl_##name
#else
#define BERYL_LIBC(name) name
#endif

#endif
