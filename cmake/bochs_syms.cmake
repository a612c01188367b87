# Bochs debugger symbol files (tools/gen_bochs_syms.py; docs/debugging.md, "Bochs"),
# regenerated whenever the kernel or a user program is relinked:
#   bochs-syms/kernel.sym    the kernel's higher-half code symbols
#   bochs-syms/NAME.sym      each user program's, NAME being its boot module name
#                            (bochs-syms/crash/write_ro.sym for crash/write_ro)
# Every user program is linked at the same address, so their files overlap: `./beryl
# bochs` (tools/bochs_debug.py) loads the kernel's and at most one program's.
set(BERYL_BOCHS_SYMS_DIR ${CMAKE_BINARY_DIR}/bochs-syms)
set(BERYL_GEN_BOCHS_SYMS ${CMAKE_SOURCE_DIR}/tools/gen_bochs_syms.py)
set(BERYL_ELF64_PY ${CMAKE_SOURCE_DIR}/tools/elf64.py)
# The kernel's 32-bit boot code runs below this, at physical addresses.
set(BERYL_KERNEL_VMA_BASE 0xffffffff80000000)

add_custom_command(
  OUTPUT ${BERYL_BOCHS_SYMS_DIR}/kernel.sym
  COMMAND ${Python3_EXECUTABLE} ${BERYL_GEN_BOCHS_SYMS} --min-address ${BERYL_KERNEL_VMA_BASE}
          $<TARGET_FILE:kernel> ${BERYL_BOCHS_SYMS_DIR}/kernel.sym
  DEPENDS kernel ${BERYL_GEN_BOCHS_SYMS} ${BERYL_ELF64_PY}
  COMMENT "Bochs symbol file for the kernel"
  VERBATIM)
set(bochs_sym_files ${BERYL_BOCHS_SYMS_DIR}/kernel.sym)

get_property(bochs_sym_programs GLOBAL PROPERTY BERYL_USER_PROGRAMS)
foreach(entry ${bochs_sym_programs})
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 sym_name)
  list(GET parts 1 sym_target)
  add_custom_command(
    OUTPUT ${BERYL_BOCHS_SYMS_DIR}/${sym_name}.sym
    COMMAND ${Python3_EXECUTABLE} ${BERYL_GEN_BOCHS_SYMS}
            $<TARGET_FILE:${sym_target}> ${BERYL_BOCHS_SYMS_DIR}/${sym_name}.sym
    DEPENDS ${sym_target} ${BERYL_GEN_BOCHS_SYMS} ${BERYL_ELF64_PY}
    COMMENT "Bochs symbol file for ${sym_name}"
    VERBATIM)
  list(APPEND bochs_sym_files ${BERYL_BOCHS_SYMS_DIR}/${sym_name}.sym)
endforeach()
add_custom_target(bochs_syms ALL DEPENDS ${bochs_sym_files})

# The generator's format, and the files this build wrote.
add_test(NAME bochs_syms_files
  COMMAND ${Python3_EXECUTABLE} -m unittest -v test_gen_bochs_syms
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/bochs_syms)
set_tests_properties(bochs_syms_files PROPERTIES LABELS host TIMEOUT 60
  ENVIRONMENT "BERYL_SOURCE_DIR=${CMAKE_SOURCE_DIR};BERYL_BUILD_DIR=${CMAKE_BINARY_DIR}")
