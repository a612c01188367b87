# Clang + LLVM lld toolchain.
#
# One clang serves both worlds: host unit tests are compiled for the host (clang's default
# target), while the kernel and user programs add BERYL_CROSS_TRIPLE (x86_64-unknown-elf)
# through the beryl_* helpers in cmake/beryl.cmake and link with ld.lld.
set(CMAKE_C_COMPILER clang)
set(CMAKE_ASM_COMPILER clang)
set(BERYL_CROSS_TRIPLE x86_64-unknown-elf CACHE STRING "Target triple for kernel and user code")
find_program(BERYL_LLD ld.lld REQUIRED)
