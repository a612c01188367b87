/*
 * A process that fills its own handle table to the last slot, then keeps asking for
 * more: every call that would add a handle fails with ZX_ERR_NO_MEMORY and leaves no
 * trace (no half-made object, no lost message, no handle consumed that should not be),
 * the table's growth (a directory of 64-slot chunks doubled up to its largest size) and
 * the walks over it (ZX_INFO_PROCESS_VMOS) hold at the limit, and everything works again
 * once a few handles are closed. Runs in a child (`--fill`) so the test's own table stays
 * small; the child reports through its exit code.
 */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <stdlib.h>
#include <string.h>

/* The kernel's per-process limit (kernel/object/handle_table.c: 2^18 slots). */
#define TABLE_SLOTS (1u << 18)

enum {
    FILL_OK = 0,
    FILL_SETUP = 10,       /* setting up failed */
    FILL_WRONG_LIMIT,      /* the table did not stop at TABLE_SLOTS */
    FILL_DUP_NOT_NO_MEMORY,
    FILL_CHANNEL_CREATE,   /* channel_create at the limit: not NO_MEMORY, or a trace left */
    FILL_VMO_CREATE,
    FILL_READ,             /* a read at the limit lost or mangled its message */
    FILL_INFO,             /* PROCESS_VMOS at the limit */
    FILL_RECOVER,          /* after closing a few handles, calls still fail */
};

/* Duplicates vmo until the table is full; the number of handles made. */
static uint32_t fill_table(zx_handle_t vmo, zx_status_t *last) {
    uint32_t made = 0;
    zx_handle_t h;
    while ((*last = zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, &h)) == ZX_OK)
        made++;
    return made;
}

static int fill_main(void) {
    zx_handle_t vmo, a, b;
    if (zx_vmo_create(TU_PAGE, 0, &vmo) != ZX_OK || zx_channel_create(0, &a, &b) != ZX_OK)
        return FILL_SETUP;
    /* A message carrying one handle waits on b. */
    zx_handle_t carried;
    if (zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, &carried) != ZX_OK ||
        zx_channel_write(a, 0, "m", 1, &carried, 1) != ZX_OK)
        return FILL_SETUP;
    zx_status_t last;
    uint32_t made = fill_table(vmo, &last);
    if (last != ZX_ERR_NO_MEMORY)
        return FILL_DUP_NOT_NO_MEMORY;
    /* Every slot is in use: ours (at most a few dozen from the runtime) and the copies. */
    if (made > TABLE_SLOTS || made < TABLE_SLOTS - 64)
        return FILL_WRONG_LIMIT;
    zx_handle_t x = ZX_HANDLE_INVALID, y = ZX_HANDLE_INVALID;
    if (zx_channel_create(0, &x, &y) != ZX_ERR_NO_MEMORY || x != ZX_HANDLE_INVALID ||
        y != ZX_HANDLE_INVALID)
        return FILL_CHANNEL_CREATE;
    zx_handle_t v2 = ZX_HANDLE_INVALID;
    if (zx_vmo_create(TU_PAGE, 0, &v2) != ZX_ERR_NO_MEMORY || v2 != ZX_HANDLE_INVALID)
        return FILL_VMO_CREATE;
    /* The message cannot be delivered: it stays queued, whole. */
    char byte = 0;
    zx_handle_t got = ZX_HANDLE_INVALID;
    uint32_t nb = 0, nh = 0;
    if (zx_channel_read(b, 0, &byte, &got, 1, 1, &nb, &nh) != ZX_ERR_NO_MEMORY ||
        got != ZX_HANDLE_INVALID)
        return FILL_READ;
    /* A walk over every slot. */
    size_t actual = 0, avail = 0;
    if (zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, NULL, 0, &actual,
                           &avail) != ZX_OK ||
        avail < made)
        return FILL_INFO;
    /* Closing one handle makes room for exactly one. */
    if (zx_handle_close(vmo) != ZX_OK)
        return FILL_RECOVER;
    if (zx_channel_read(b, 0, &byte, &got, 1, 1, &nb, &nh) != ZX_OK || byte != 'm' ||
        nh != 1 || tu_basic(got).type != ZX_OBJ_TYPE_VMO)
        return FILL_READ;
    if (zx_vmo_create(TU_PAGE, 0, &v2) != ZX_ERR_NO_MEMORY)
        return FILL_RECOVER;
    return FILL_OK; /* exiting closes all 2^18 handles */
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--fill") == 0)
        return fill_main();
    return beryl_test_run_all(argc, argv);
}

TEST(HandleAttacks, FullTableRefusesCleanlyAndRecovers) {
    const char *argv[] = {beryl_program_name(), "--fill"};
    EXPECT_EQ(tu_run_self("handle-filler", 2, argv, 60 * TU_SEC), FILL_OK);
}
