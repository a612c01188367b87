# The gdb commands of docs/debugging.md's "QEMU + gdb" walkthrough, in its order, run by
# the ctest qemu.gdb_debug_session (tests/runner/gdb_session_test.py checks the output)
# against a boot of crash/write_ro:
#   tools/gdb/debug_session.py --port 0 --batch tests/runner/gdb_session.gdb \
#       userboot.prefix=crash/write_ro
# The `echo` lines mark each step for the checker.
break sys_vmo_create
continue
echo ==== bt syscall\n
bt
delete
break trap_page_fault if (flags & 4) == 0
continue
echo ==== bt copy fault\n
bt
delete
break trap_user_exception
continue
echo ==== bt fault\n
bt
echo ==== frame\n
print f->vector
print/x *f
echo ==== ps\n
beryl-ps
echo ==== threads\n
beryl-threads
echo ==== vmar\n
beryl-vmar crash/write_ro
echo ==== walk cr2\n
beryl-walk f->cr2
echo ==== walk rip\n
beryl-walk f->rip crash/write_ro
echo ==== qemu walk rip\n
eval "monitor gva2gpa 0x%lx", f->rip
echo ==== qemu info mem\n
monitor info mem
echo ==== qemu info tlb\n
monitor info tlb
echo ==== load user\n
beryl-load-user crash/write_ro
echo ==== user symbol\n
info symbol f->rip
info line *f->rip
echo ==== help\n
help beryl-walk
echo ==== end\n
kill
quit
