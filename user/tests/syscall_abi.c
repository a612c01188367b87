/* The syscall ABI: unknown numbers and the kernel's checking of user pointers. */
#include <beryl/test.h>
#include <beryl/test_util.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define PAGE 4096u

static const uintptr_t bad_ptrs[] = {
    0x1000,                  /* unmapped, below the root VMAR */
    0xffffffff80000000ull,   /* kernel half */
    0x0000900000000000ull,   /* non-canonical */
    0xfffffffffffffff0ull,   /* wraps around */
};
#define NBAD (sizeof(bad_ptrs) / sizeof(bad_ptrs[0]))

static int64_t raw_syscall0(uint64_t num) {
    int64_t ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(num)
                     : "rcx", "r11", "rdi", "rsi", "rdx", "r8", "r9", "r10", "memory");
    return ret;
}

TEST(SyscallAbi, UnknownNumber) {
    EXPECT_EQ(raw_syscall0(1000), ZX_ERR_BAD_SYSCALL);
    EXPECT_EQ(raw_syscall0(0xffffffffu), ZX_ERR_BAD_SYSCALL);
    EXPECT_EQ(raw_syscall0((1ull << 32) + 1), ZX_ERR_BAD_SYSCALL);
    EXPECT_EQ(raw_syscall0(~0ull), ZX_ERR_BAD_SYSCALL);
}

static void unmap_page(zx_vaddr_t a) { zx_vmar_unmap(zx_vmar_root_self(), a, PAGE); }

TEST(SyscallAbi, VmoCreateBadOut) {
    EXPECT_STATUS(zx_vmo_create(PAGE, 0, NULL), ZX_ERR_INVALID_ARGS);
    for (size_t i = 0; i < NBAD; i++)
        EXPECT_STATUS(zx_vmo_create(PAGE, 0, (zx_handle_t *)bad_ptrs[i]), ZX_ERR_INVALID_ARGS);
}

TEST(SyscallAbi, ChannelCreateBadOut) {
    zx_handle_t a;
    EXPECT_STATUS(zx_channel_create(0, NULL, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_channel_create(0, &a, NULL), ZX_ERR_INVALID_ARGS);
    for (size_t i = 0; i < NBAD; i++) {
        EXPECT_STATUS(zx_channel_create(0, (zx_handle_t *)bad_ptrs[i], &a), ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(zx_channel_create(0, &a, (zx_handle_t *)bad_ptrs[i]), ZX_ERR_INVALID_ARGS);
    }
}

TEST(SyscallAbi, HandleDuplicateBadOut) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(PAGE, 0, &vmo));
    EXPECT_STATUS(zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, NULL), ZX_ERR_INVALID_ARGS);
    for (size_t i = 0; i < NBAD; i++)
        EXPECT_STATUS(zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, (zx_handle_t *)bad_ptrs[i]),
                      ZX_ERR_INVALID_ARGS);
    /* The original handle is unaffected. */
    zx_info_handle_basic_t b;
    EXPECT_OK(zx_object_get_info(vmo, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL));
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(SyscallAbi, GetInfoBadBuffer) {
    zx_info_handle_basic_t b;
    size_t actual, avail;
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, NULL, sizeof(b),
                                     NULL, NULL),
                  ZX_ERR_INVALID_ARGS);
    for (size_t i = 0; i < NBAD; i++) {
        EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC,
                                         (void *)bad_ptrs[i], sizeof(b), NULL, NULL),
                      ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, &b, sizeof(b),
                                         (size_t *)bad_ptrs[i], &avail),
                      ZX_ERR_INVALID_ARGS);
        EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, &b, sizeof(b),
                                         &actual, (size_t *)bad_ptrs[i]),
                      ZX_ERR_INVALID_ARGS);
    }
}

TEST(SyscallAbi, OutPointerStraddlesMappingEnd) {
    zx_vaddr_t page = tu_map_new(PAGE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, NULL);
    ASSERT_NE(page, 0u);
    zx_vaddr_t edge = page + PAGE - 2;
    EXPECT_STATUS(zx_vmo_create(PAGE, 0, (zx_handle_t *)edge), ZX_ERR_INVALID_ARGS);
    zx_handle_t a;
    EXPECT_STATUS(zx_channel_create(0, &a, (zx_handle_t *)edge), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_handle_duplicate(zx_process_self(), ZX_RIGHT_SAME_RIGHTS,
                                      (zx_handle_t *)edge),
                  ZX_ERR_INVALID_ARGS);
    zx_info_handle_basic_t b;
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, &b, sizeof(b),
                                     (size_t *)(page + PAGE - 4), NULL),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC,
                                     (void *)(page + PAGE - 8), sizeof(b), NULL, NULL),
                  ZX_ERR_INVALID_ARGS);
    unmap_page(page);
}

TEST(SyscallAbi, OutPointerReadOnly) {
    zx_vaddr_t page = tu_map_new(PAGE, ZX_VM_PERM_READ, NULL);
    ASSERT_NE(page, 0u);
    EXPECT_STATUS(zx_vmo_create(PAGE, 0, (zx_handle_t *)page), ZX_ERR_INVALID_ARGS);
    zx_handle_t a;
    EXPECT_STATUS(zx_channel_create(0, (zx_handle_t *)page, &a), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_handle_duplicate(zx_process_self(), ZX_RIGHT_SAME_RIGHTS,
                                      (zx_handle_t *)page),
                  ZX_ERR_INVALID_ARGS);
    zx_info_handle_basic_t b;
    EXPECT_STATUS(zx_object_get_info(zx_process_self(), ZX_INFO_HANDLE_BASIC, (void *)page,
                                     sizeof(b), NULL, NULL),
                  ZX_ERR_INVALID_ARGS);
    /* The page still reads as zero. */
    EXPECT_EQ(*(volatile uint32_t *)page, 0u);
    unmap_page(page);
}

TEST(SyscallAbi, OutPointerUnmappedAfterUnmap) {
    zx_vaddr_t page = tu_map_new(PAGE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, NULL);
    ASSERT_NE(page, 0u);
    unmap_page(page);
    EXPECT_STATUS(zx_vmo_create(PAGE, 0, (zx_handle_t *)page), ZX_ERR_INVALID_ARGS);
}

TEST(SyscallAbi, DebugWriteBadBuffer) {
    EXPECT_OK(zx_debug_write("", 0));
    for (size_t i = 0; i < NBAD; i++)
        EXPECT_STATUS(zx_debug_write((const char *)bad_ptrs[i], 8), ZX_ERR_INVALID_ARGS);
    zx_vaddr_t page = tu_map_new(PAGE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, NULL);
    ASSERT_NE(page, 0u);
    memset((void *)page, 'x', PAGE);
    EXPECT_STATUS(zx_debug_write((const char *)(page + PAGE - 4), 8), ZX_ERR_INVALID_ARGS);
    unmap_page(page);
}

TEST(SyscallAbi, HugeSizes) {
    char buf[8] = "abcdefg";
    EXPECT_NE(zx_debug_write(buf, SIZE_MAX), ZX_OK);
    EXPECT_NE(zx_debug_write(buf, (size_t)1 << 47), ZX_OK);
    zx_handle_t h;
    EXPECT_NE(zx_vmo_create(UINT64_MAX, 0, &h), ZX_OK);
    EXPECT_NE(zx_vmo_create(UINT64_MAX - PAGE + 2, 0, &h), ZX_OK);
}

TEST(SyscallAbi, GoodPointersStillWork) {
    zx_vaddr_t page = tu_map_new(PAGE, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, NULL);
    ASSERT_NE(page, 0u);
    zx_handle_t *slot = (zx_handle_t *)(page + PAGE - sizeof(zx_handle_t));
    EXPECT_OK(zx_vmo_create(PAGE, 0, slot));
    EXPECT_NE(*slot, ZX_HANDLE_INVALID);
    EXPECT_OK(zx_handle_close(*slot));
    unmap_page(page);
}
