/*
 * zx_process_write_memory respects sharing (the suite boots with
 * kernel.enable-debugging-syscalls=true; nodebug/ checks the default):
 *  - a write goes only through a mapping that could ever be writable, so a read-only VMO
 *    handle's mapping (or a mapping in a VMAR without CAN_MAP_WRITE) is ACCESS_DENIED;
 *  - a genuinely shared writable mapping is written, and every sharer sees it;
 *  - the loader maps code and data from private copy-on-write children of the executable
 *    VMO, which processes get without WRITE: a child that patches its own code or
 *    read-only data (write_memory on itself) changes only its own copy, never the parent,
 *    a sibling already running, a sibling started afterwards, or the executable VMO.
 *
 * The children are this same program with `--patch-code`, `--patch-rodata` or
 * `--probe`; their exit code says what they saw (CHILD_*).
 */
#include <beryl/launch.h>
#include <beryl/startup.h>
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/processargs.h>

#define PAGE TU_PAGE
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define WORD 0x1122334455667788ull

/* probe_code returns PROBE_ORIG; a child patches it to return PROBE_PATCHED. */
#define PROBE_ORIG 0x1234u
#define PROBE_PATCHED 0x4321u
/* The patch: mov $PROBE_PATCHED, %eax; ret. */
static const uint8_t probe_patch[] = {0xb8, PROBE_PATCHED & 0xff, PROBE_PATCHED >> 8, 0, 0, 0xc3};

#define RODATA_ORIG 0x0dd0bead5eed0001ull
#define RODATA_PATCHED 0xbad0bad0bad0bad0ull

#define CHILD_NAME "debug-memory-child"
/* Child exit codes. */
#define CHILD_OK 0
#define CHILD_PATCH_FAILED 10  /* its zx_process_write_memory on itself failed */
#define CHILD_PATCH_UNSEEN 11  /* the write succeeded but it does not see it */
#define CHILD_SAW_PATCH 12     /* a probing child ran patched code / read patched data */
#define CHILD_EXE_WRITABLE 13  /* its PA_VMO_EXECUTABLE carries WRITE */
#define CHILD_NO_GO 14         /* the parent's go-ahead never came */

__attribute__((noinline, used, aligned(16))) static uint32_t probe_code(void) {
    return PROBE_ORIG;
}
static const volatile uint64_t rodata_marker = RODATA_ORIG;
/* Calls through a volatile pointer, so the compiler cannot fold the constant. */
static uint32_t (*volatile probe_fn)(void) = probe_code;

static int patch_code_main(void) {
    size_t actual = 0;
    if (zx_process_write_memory(zx_process_self(), (zx_vaddr_t)(uintptr_t)probe_code,
                                probe_patch, sizeof(probe_patch), &actual) != ZX_OK ||
        actual != sizeof(probe_patch))
        return CHILD_PATCH_FAILED;
    return probe_fn() == PROBE_PATCHED ? CHILD_OK : CHILD_PATCH_UNSEEN;
}

static int patch_rodata_main(void) {
    uint64_t v = RODATA_PATCHED;
    size_t actual = 0;
    if (zx_process_write_memory(zx_process_self(), (zx_vaddr_t)(uintptr_t)&rodata_marker, &v,
                                sizeof(v), &actual) != ZX_OK ||
        actual != sizeof(v))
        return CHILD_PATCH_FAILED;
    return rodata_marker == RODATA_PATCHED ? CHILD_OK : CHILD_PATCH_UNSEEN;
}

/* Waits for the parent's go-ahead on PA_USER0 (if there is one), then looks. */
static int probe_main(void) {
    zx_handle_t go = beryl_take_startup_handle(PA_HND(PA_USER0, 0));
    if (go != ZX_HANDLE_INVALID &&
        zx_object_wait_one(go, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
                           zx_deadline_after(10 * TU_SEC), NULL) != ZX_OK)
        return CHILD_NO_GO;
    zx_handle_t exe = beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0));
    if (tu_rights(exe) & ZX_RIGHT_WRITE)
        return CHILD_EXE_WRITABLE;
    if (probe_fn() != PROBE_ORIG || rodata_marker != RODATA_ORIG)
        return CHILD_SAW_PATCH;
    return CHILD_OK;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--patch-code") == 0)
        return patch_code_main();
    if (argc >= 2 && strcmp(argv[1], "--patch-rodata") == 0)
        return patch_rodata_main();
    if (argc >= 2 && strcmp(argv[1], "--probe") == 0)
        return probe_main();
    return beryl_test_run_all(argc, argv);
}

/* ---- the parent side ---------------------------------------------------------------- */

static zx_handle_t exe_vmo(void) { return beryl_get_startup_handle(PA_HND(PA_VMO_EXECUTABLE, 0)); }

/* Launches this program with `mode`; go (may be ZX_HANDLE_INVALID) goes as PA_USER0. */
static zx_status_t launch(const char *mode, zx_handle_t go, zx_handle_t *proc) {
    const char *argv[] = {beryl_program_name(), mode};
    return tu_launch_self(CHILD_NAME, 2, argv, go, proc);
}

/* Launches `mode`, waits for it and returns its exit code (a TU_RUN_* value if it did not
 * run to its end). */
static int64_t run_child(const char *mode) {
    const char *argv[] = {beryl_program_name(), mode};
    return tu_run_self(CHILD_NAME, 2, argv, 10 * TU_SEC);
}

/* Minimal ELF64 views, for finding a link address's bytes in the executable VMO. */
typedef struct {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} ehdr_t;
typedef struct {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
} phdr_t;

/* Reads n bytes at link address vaddr from the executable VMO (through its PT_LOADs). */
static zx_status_t exe_read(uintptr_t vaddr, void *out, size_t n) {
    ehdr_t eh;
    zx_status_t st = zx_vmo_read(exe_vmo(), &eh, 0, sizeof(eh));
    for (uint16_t i = 0; st == ZX_OK && i < eh.phnum; i++) {
        phdr_t ph;
        st = zx_vmo_read(exe_vmo(), &ph, eh.phoff + i * sizeof(ph), sizeof(ph));
        if (st == ZX_OK && ph.type == 1 && vaddr >= ph.vaddr &&
            vaddr + n <= ph.vaddr + ph.filesz)
            return zx_vmo_read(exe_vmo(), out, ph.offset + (vaddr - ph.vaddr), n);
    }
    return st == ZX_OK ? ZX_ERR_NOT_FOUND : st;
}

TEST(DebugWrite, ReadOnlyHandleCannotChangeItsVmo) {
    zx_handle_t vmo, ro;
    ASSERT_OK(zx_vmo_create(PAGE, 0, &vmo));
    ASSERT_OK(zx_vmo_write(vmo, &(uint64_t){WORD}, 0, 8));
    ro = tu_dup(vmo, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    ASSERT_NE(ro, ZX_HANDLE_INVALID);
    zx_vaddr_t a;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, ro, 0, PAGE, &a));
    uint64_t v = ~WORD;
    size_t actual = 99;
    EXPECT_STATUS(zx_process_write_memory(zx_process_self(), a, &v, sizeof(v), &actual),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_EQ(actual, 99u);
    uint64_t got = 0;
    EXPECT_OK(zx_vmo_read(vmo, &got, 0, 8));
    EXPECT_EQ(got, WORD);
    EXPECT_EQ(*(volatile uint64_t *)a, WORD);
    /* Reading through it is fine. */
    EXPECT_OK(zx_process_read_memory(zx_process_self(), a, &got, sizeof(got), &actual));
    EXPECT_EQ(got, WORD);
    /* Nor through another process that maps it from the read-only handle. */
    zx_handle_t proc, vmar;
    ASSERT_OK(zx_process_create(zx_job_default(), "ro-holder", 9, 0, &proc, &vmar));
    zx_vaddr_t ca;
    ASSERT_OK(zx_vmar_map(vmar, ZX_VM_PERM_READ, 0, ro, 0, PAGE, &ca));
    EXPECT_STATUS(zx_process_write_memory(proc, ca, &v, sizeof(v), &actual),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_vmo_read(vmo, &got, 0, 8));
    EXPECT_EQ(got, WORD);
    zx_handle_close(vmar);
    zx_handle_close(proc);
    zx_vmar_unmap(zx_vmar_root_self(), a, PAGE);
    zx_handle_close(ro);
    zx_handle_close(vmo);
}

TEST(DebugWrite, VmarWithoutCanMapWriteIsNotWritten) {
    /* The VMO handle has WRITE but the VMAR can never map it writable. */
    zx_handle_t vmo, sub;
    zx_vaddr_t sub_base, a;
    ASSERT_OK(zx_vmo_create(PAGE, 0, &vmo));
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(), ZX_VM_CAN_MAP_READ, 0, 4 * PAGE, &sub,
                               &sub_base));
    ASSERT_OK(zx_vmar_map(sub, ZX_VM_PERM_READ, 0, vmo, 0, PAGE, &a));
    uint64_t v = WORD;
    size_t actual = 0;
    EXPECT_STATUS(zx_process_write_memory(zx_process_self(), a, &v, sizeof(v), &actual),
                  ZX_ERR_ACCESS_DENIED);
    uint64_t got = 1;
    EXPECT_OK(zx_vmo_read(vmo, &got, 0, 8));
    EXPECT_EQ(got, 0u);
    zx_vmar_destroy(sub);
    zx_handle_close(sub);
    zx_handle_close(vmo);
}

TEST(DebugWrite, WriteStopsAtAMappingItMayNotWrite) {
    /* Two adjacent pages: the first from a writable handle (mapped read-only), the second
     * from a read-only one. A write across both changes the first page only. */
    zx_handle_t sub, w, r, r_ro;
    zx_vaddr_t base, got_a;
    ASSERT_OK(zx_vmar_allocate(zx_vmar_root_self(),
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC,
                               0, 2 * PAGE, &sub, &base));
    ASSERT_OK(zx_vmo_create(PAGE, 0, &w));
    ASSERT_OK(zx_vmo_create(PAGE, 0, &r));
    r_ro = tu_dup(r, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP);
    ASSERT_OK(zx_vmar_map(sub, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, 0, w, 0, PAGE, &got_a));
    ASSERT_OK(zx_vmar_map(sub, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, PAGE, r_ro, 0, PAGE, &got_a));
    uint64_t buf[4] = {WORD, WORD, WORD, WORD};
    size_t actual = 0;
    EXPECT_OK(zx_process_write_memory(zx_process_self(), base + PAGE - 16, buf, sizeof(buf),
                                      &actual));
    EXPECT_EQ(actual, 16u);
    uint64_t got[2] = {0, 0};
    EXPECT_OK(zx_vmo_read(w, got, PAGE - 16, 16));
    EXPECT_EQ(got[0], WORD);
    EXPECT_EQ(got[1], WORD);
    EXPECT_OK(zx_vmo_read(r, got, 0, 16));
    EXPECT_EQ(got[0], 0u);
    EXPECT_EQ(got[1], 0u);
    zx_vmar_destroy(sub);
    zx_handle_close(sub);
    zx_handle_close(w);
    zx_handle_close(r);
    zx_handle_close(r_ro);
}

TEST(DebugWrite, SharedWritableMappingIsWrittenForEverySharer) {
    /* The VMO is mapped writable here and read-only in a second process, from a handle
     * that carries WRITE: genuinely shared and writable, so a write through the other
     * process's mapping is seen here too. */
    zx_handle_t vmo;
    zx_vaddr_t mine = tu_map_new(PAGE, RW, &vmo);
    ASSERT_NE(mine, 0u);
    zx_handle_t proc, vmar;
    ASSERT_OK(zx_process_create(zx_job_default(), "sharer", 6, 0, &proc, &vmar));
    zx_vaddr_t theirs;
    ASSERT_OK(zx_vmar_map(vmar, ZX_VM_PERM_READ, 0, vmo, 0, PAGE, &theirs));
    uint64_t v = WORD;
    size_t actual = 0;
    EXPECT_OK(zx_process_write_memory(proc, theirs + 64, &v, sizeof(v), &actual));
    EXPECT_EQ(actual, sizeof(v));
    EXPECT_EQ(*(volatile uint64_t *)(mine + 64), WORD);
    /* And the other way: a write here is what the other process reads. */
    *(volatile uint64_t *)(mine + 128) = ~WORD;
    uint64_t got = 0;
    EXPECT_OK(zx_process_read_memory(proc, theirs + 128, &got, sizeof(got), &actual));
    EXPECT_EQ(got, ~WORD);
    zx_handle_close(vmar);
    zx_handle_close(proc);
    zx_vmar_unmap(zx_vmar_root_self(), mine, PAGE);
    zx_handle_close(vmo);
}

TEST(DebugWrite, ExecutableVmoIsReadOnly) {
    zx_rights_t r = tu_rights(exe_vmo());
    EXPECT_NE(r, 0u);
    EXPECT_EQ(r & ZX_RIGHT_WRITE, 0u);
    EXPECT_EQ(r & ZX_RIGHT_SET_PROPERTY, 0u);
    EXPECT_NE(r & ZX_RIGHT_EXECUTE, 0u);
    /* Writing back the byte that is there: harmless even if the write were allowed. */
    uint8_t b = 0;
    ASSERT_OK(zx_vmo_read(exe_vmo(), &b, 0, 1));
    EXPECT_STATUS(zx_vmo_write(exe_vmo(), &b, 0, 1), ZX_ERR_ACCESS_DENIED);
    /* Mapped straight from that handle, it cannot be patched through write_memory. */
    zx_vaddr_t a;
    ASSERT_OK(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0,
                          exe_vmo(), 0, PAGE, &a));
    size_t actual = 0;
    EXPECT_STATUS(zx_process_write_memory(zx_process_self(), a, &b, 1, &actual),
                  ZX_ERR_ACCESS_DENIED);
    zx_vmar_unmap(zx_vmar_root_self(), a, PAGE);
    /* The loader's own mappings are private copies: readable and patchable here. */
    uint8_t code[sizeof(probe_patch)], file[sizeof(probe_patch)];
    EXPECT_OK(zx_process_read_memory(zx_process_self(), (zx_vaddr_t)(uintptr_t)probe_code,
                                     code, sizeof(code), &actual));
    EXPECT_OK(exe_read((uintptr_t)probe_code, file, sizeof(file)));
    EXPECT_EQ(memcmp(code, file, sizeof(code)), 0);
}

/* The patch child runs while a sibling started before it waits; then the parent, the
 * waiting sibling, a sibling started afterwards and the executable VMO are checked. */
static void patch_and_check_siblings(const char *patch_mode, uintptr_t addr, size_t len) {
    uint8_t before[16], after[16];
    ASSERT_LE(len, sizeof(before));
    ASSERT_OK(exe_read(addr, before, len));
    zx_handle_t go_mine, go_theirs, early;
    ASSERT_OK(zx_channel_create(0, &go_mine, &go_theirs));
    ASSERT_OK(launch("--probe", go_theirs, &early)); /* consumes go_theirs */

    EXPECT_EQ(run_child(patch_mode), CHILD_OK);

    /* The parent: its code and data are untouched. */
    EXPECT_EQ(probe_fn(), PROBE_ORIG);
    EXPECT_EQ(rodata_marker, RODATA_ORIG);
    /* The executable VMO too. */
    ASSERT_OK(exe_read(addr, after, len));
    EXPECT_EQ(memcmp(before, after, len), 0);
    /* The sibling that was already running. */
    EXPECT_OK(zx_channel_write(go_mine, 0, "go", 2, NULL, 0));
    int64_t rc = -1;
    EXPECT_OK(beryl_wait_exit(early, zx_deadline_after(10 * TU_SEC), &rc));
    EXPECT_EQ(rc, CHILD_OK);
    tu_task_kill_wait(early);
    zx_handle_close(early);
    zx_handle_close(go_mine);
    /* A sibling started after the patch. */
    EXPECT_EQ(run_child("--probe"), CHILD_OK);
}

TEST(DebugWrite, ChildPatchingItsCodeChangesOnlyItself) {
    patch_and_check_siblings("--patch-code", (uintptr_t)probe_code, sizeof(probe_patch));
}

TEST(DebugWrite, ChildPatchingItsReadOnlyDataChangesOnlyItself) {
    patch_and_check_siblings("--patch-rodata", (uintptr_t)&rodata_marker, sizeof(uint64_t));
}
