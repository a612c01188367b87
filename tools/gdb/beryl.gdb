# Beryl's gdb setup. `./beryl debug` starts gdb on build/kernel/kernel.elf with this
# script, from the top of the source tree, and then connects to QEMU's stub. It sets hex
# output, turns off paging and confirmation prompts, and loads the helper commands of
# tools/gdb/beryl.py: beryl-ps, beryl-threads, beryl-vmar, beryl-walk, beryl-load-user
# (`help beryl-walk`...). docs/debugging.md, "QEMU + gdb", is the walkthrough.
set confirm off
set pagination off
set output-radix 16
# QEMU holds the CPU at reset, in real mode; the kernel is x86-64 code throughout.
set architecture i386:x86-64
source tools/gdb/beryl.py
