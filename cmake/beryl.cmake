# Helpers shared by the kernel, user programs and tests.

# -Wthread-safety and -Wthread-safety-beta (errors, with -Werror) check the lock
# annotations of <kernel/compiler.h> in every file that uses them.
set(BERYL_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter
    -Wthread-safety -Wthread-safety-beta
    -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers)

# Freestanding flags common to kernel and user code. User code may use SSE (each user
# thread has its own extended state, kernel/arch/x86/fpu.c); the kernel may not: it never
# saves the user's registers around its own code.
set(BERYL_CROSS_CFLAGS --target=${BERYL_CROSS_TRIPLE} -std=gnu11 -ffreestanding -nostdlibinc
    -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables
    -mno-red-zone -O2 -g)
set(BERYL_KERNEL_ONLY_CFLAGS -mgeneral-regs-only)

# Files generated from syscall-abi/syscalls.def by tools/gen_syscalls.py (target
# syscall_gen, defined in syscall-abi/CMakeLists.txt). Never checked in.
set(BERYL_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
set(BERYL_GEN_INCLUDE_DIR ${BERYL_GEN_DIR}/include)                # <zircon/syscalls.h>: user + kernel
set(BERYL_GEN_KERNEL_INCLUDE_DIR ${BERYL_GEN_DIR}/kernel/include)  # <kernel/syscall_impl.h>: kernel
set(BERYL_SYSCALL_TABLE_C ${BERYL_GEN_DIR}/kernel/syscall_table.c) # syscall_dispatch()
set(BERYL_SYSCALL_PLACEHOLDERS_C ${BERYL_GEN_DIR}/host/sys_placeholders.c) # weak sys_*
set(BERYL_SYSCALL_STUBS_S ${BERYL_GEN_DIR}/user/syscall_stubs.S)   # zx_* user stubs

# Freestanding code shared by the kernel, the user programs and the host tests, outside
# both trees: lib/fmt, the printf engine (<fmt/fmt.h>), and lib/bench/median.h. It
# includes no kernel or user header.
set(BERYL_SHARED_INCLUDE_DIR ${CMAKE_SOURCE_DIR}/lib)
set(BERYL_FMT_SOURCES ${CMAKE_SOURCE_DIR}/lib/fmt/fmt.c)

set(BERYL_KERNEL_INCLUDES
    ${BERYL_SHARED_INCLUDE_DIR}
    ${CMAKE_SOURCE_DIR}/kernel/include
    ${CMAKE_SOURCE_DIR}/kernel/phys/include
    ${CMAKE_SOURCE_DIR}/kernel/vm/include
    ${CMAKE_SOURCE_DIR}/kernel/arch/x86/include
    ${CMAKE_SOURCE_DIR}/syscall-abi/include
    ${BERYL_GEN_INCLUDE_DIR}
    ${BERYL_GEN_KERNEL_INCLUDE_DIR})

option(BERYL_DEBUG "Compile DEBUG_ASSERTs into the kernel" ON)
if(BERYL_DEBUG)
  set(BERYL_DEBUG_VALUE 1)
else()
  set(BERYL_DEBUG_VALUE 0)
endif()

# beryl_host_test(NAME <name> SOURCES <files...>)
# Builds a host executable from kernel sources + the host harness, under ASan + UBSan,
# and registers it with ctest (label "host").
function(beryl_host_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES} ${CMAKE_SOURCE_DIR}/tests/host/htest.c)
  target_include_directories(${T_NAME} PRIVATE ${BERYL_KERNEL_INCLUDES} ${CMAKE_SOURCE_DIR}/tests/host)
  target_compile_definitions(${T_NAME} PRIVATE BERYL_HOST=1 BERYL_DEBUG=1)
  target_compile_options(${T_NAME} PRIVATE -std=gnu11 -g -O1 ${BERYL_WARNINGS}
      -Wno-missing-prototypes -fsanitize=address,undefined -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
  target_link_options(${T_NAME} PRIVATE -fsanitize=address,undefined)
  add_test(NAME host.${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(host.${T_NAME} PROPERTIES LABELS host TIMEOUT 300)
endfunction()

# beryl_user_program(NAME <module name, e.g. test/hello> TARGET <cmake target> SOURCES ...)
# Builds a freestanding static user ELF and registers it as a GRUB module2 whose command
# line is NAME. The ISO step (top-level CMakeLists.txt) collects every registered program.
function(beryl_user_program)
  cmake_parse_arguments(U "" "NAME;TARGET" "SOURCES" ${ARGN})
  add_executable(${U_TARGET} ${U_SOURCES})
  set_target_properties(${U_TARGET} PROPERTIES SUFFIX ".elf" LINKER_LANGUAGE C)
  target_include_directories(${U_TARGET} PRIVATE ${CMAKE_SOURCE_DIR}/syscall-abi/include
      ${BERYL_GEN_INCLUDE_DIR} ${CMAKE_SOURCE_DIR}/user/include ${BERYL_SHARED_INCLUDE_DIR})
  target_link_libraries(${U_TARGET} PRIVATE beryl_syscalls)
  add_dependencies(${U_TARGET} syscall_gen)
  target_compile_options(${U_TARGET} PRIVATE ${BERYL_CROSS_CFLAGS} ${BERYL_WARNINGS})
  target_link_options(${U_TARGET} PRIVATE --target=${BERYL_CROSS_TRIPLE} -nostdlib -static
      -fuse-ld=lld -Wl,-T,${CMAKE_SOURCE_DIR}/user/user.ld -Wl,--build-id=none
      -Wl,-z,max-page-size=4096)
  # The user runtime (user/CMakeLists.txt): _start, libc, launcher, test framework.
  target_link_libraries(${U_TARGET} PRIVATE beryl_runtime)
  set_property(TARGET ${U_TARGET} APPEND PROPERTY LINK_DEPENDS ${CMAKE_SOURCE_DIR}/user/user.ld
      ${CMAKE_SOURCE_DIR}/tools/gen_lines.py ${CMAKE_SOURCE_DIR}/tools/elf64.py)
  # The line table the kernel's user fault report prints file:line from: a .beryl_lines
  # section appended to the linked ELF (tools/gen_lines.py, docs/debugging.md).
  add_custom_command(TARGET ${U_TARGET} POST_BUILD
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/gen_lines.py
              --source-root ${CMAKE_SOURCE_DIR} $<TARGET_FILE:${U_TARGET}>
      VERBATIM)
  set_property(GLOBAL APPEND PROPERTY BERYL_USER_PROGRAMS "${U_NAME}|${U_TARGET}")
endfunction()
