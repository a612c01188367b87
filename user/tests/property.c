/*
 * zx_object_get_property / zx_object_set_property status codes: unknown properties,
 * properties of another object type, ZX_PROP_VMO_CONTENT_SIZE (found by the fuzzer:
 * all of these used to return ZX_ERR_NOT_SUPPORTED, outside the documented set).
 */
#include <beryl/test.h>
#include <stdint.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

TEST(Property, UnknownPropertyIsInvalidArgs) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(4096, 0, &vmo));
    char buf[64];
    EXPECT_STATUS(zx_object_get_property(vmo, 0x7777, buf, sizeof(buf)), ZX_ERR_INVALID_ARGS);
    EXPECT_STATUS(zx_object_set_property(vmo, 0x7777, buf, sizeof(buf)), ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_handle_close(vmo));
}

TEST(Property, RightCheckedBeforeProperty) {
    zx_handle_t c0, c1;
    ASSERT_OK(zx_channel_create(0, &c0, &c1));
    char name[ZX_MAX_NAME_LEN];
    /* Channels have no GET_PROPERTY right: the handle's right is checked before the
     * property (ACCESS_DENIED, not INVALID_ARGS or WRONG_TYPE). */
    EXPECT_STATUS(zx_object_get_property(c0, ZX_PROP_NAME, name, sizeof(name)),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_STATUS(zx_object_get_property(c0, 0x7777, name, sizeof(name)),
                  ZX_ERR_ACCESS_DENIED);
    EXPECT_OK(zx_handle_close(c0));
    EXPECT_OK(zx_handle_close(c1));
}

TEST(Property, ContentSizeOfNonVmoIsWrongType) {
    uint64_t size = 0;
    EXPECT_STATUS(zx_object_get_property(zx_process_self(), ZX_PROP_VMO_CONTENT_SIZE, &size,
                                         sizeof(size)),
                  ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(zx_object_set_property(zx_process_self(), ZX_PROP_VMO_CONTENT_SIZE, &size,
                                         sizeof(size)),
                  ZX_ERR_WRONG_TYPE);
}

TEST(Property, ContentSizeGetSet) {
    zx_handle_t vmo;
    ASSERT_OK(zx_vmo_create(5000, 0, &vmo));
    uint64_t size = 0;
    ASSERT_OK(zx_object_get_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &size, sizeof(size)));
    EXPECT_EQ(size, 5000u);
    size = 8192;
    EXPECT_OK(zx_object_set_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &size, sizeof(size)));
    size = 0;
    ASSERT_OK(zx_object_get_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &size, sizeof(size)));
    EXPECT_EQ(size, 8192u);
    size = 8193;
    EXPECT_STATUS(zx_object_set_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &size, sizeof(size)),
                  ZX_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(zx_object_get_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &size, 4),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_STATUS(zx_object_set_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, &size, 4),
                  ZX_ERR_BUFFER_TOO_SMALL);
    EXPECT_STATUS(zx_object_get_property(vmo, ZX_PROP_VMO_CONTENT_SIZE, NULL, 8),
                  ZX_ERR_INVALID_ARGS);
    EXPECT_OK(zx_handle_close(vmo));
}
