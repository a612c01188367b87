# The gdb helpers on a shared process (unified aspace), run by the ctest
# qemu.gdb_helpers_shared_process (tests/runner/gdb_session_test.py --scenario shared)
# against a boot of test/restricted: stop in the restricted-mode sharer "rsharer".
break sys_restricted_enter
continue
echo ==== ps\n
beryl-ps
echo ==== threads\n
beryl-threads
echo ==== vmar\n
beryl-vmar rsharer
echo ==== walk\n
beryl-walk vector_table_ptr rsharer
echo ==== qemu walk\n
eval "monitor gva2gpa 0x%lx", vector_table_ptr
echo ==== end\n
kill
