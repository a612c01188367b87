"""tools/layering.py on small synthetic trees: each rule fires on a violation and stays
quiet on a clean tree, so the CI check (kernel.layering) cannot pass by accident."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

SOURCE = os.environ.get("BERYL_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(SOURCE, "tools", "layering.py")
CC = shutil.which("clang") or shutil.which("cc")

CONF = """
layer 0 lib/ kernel/lib/
layer 1 kernel/arch/x86/
layer 2 kernel/vm/
layer 3 kernel/proc/
allow-cycle kernel/proc/process.c kernel/proc/thread.c
not-an-import panic
"""


class Tree:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="layering-")
        self.objects = []
        self.write("kernel/layers.conf", CONF)
        self.write("kernel/include/arch/irq.h", "void arch_irq_enable(void);\n")
        self.write("kernel/arch/x86/include/arch/x86/cpu.h", "void x86_cli(void);\n")
        self.write("kernel/include/kernel/spin.h", "void spin(void);\n")
        self.write("syscall-abi/include/zircon/types.h", "typedef int zx_status_t;\n")
        self.write("docs/a.md", "See `kernel/lib/a.c` and `a.c`.\n")

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(textwrap.dedent(text))

    def source(self, path, text):
        """Write a kernel C file and compile it into the fake build tree."""
        self.write(path, text)
        obj = os.path.join(self.root, "build/kernel/CMakeFiles/kernel.dir",
                           path[len("kernel/"):] + ".o")
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        subprocess.run([CC, "-c", "-ffreestanding", "-w", "-o", obj,
                        os.path.join(self.root, path)], check=True)
        self.objects.append(obj)

    def run(self):
        inputs = os.path.join(self.root, "inputs.txt")
        with open(inputs, "w") as f:
            f.writelines(f"object {o}\n" for o in self.objects)
        p = subprocess.run([sys.executable, TOOL, "--source-dir", self.root,
                            "--objects-from", inputs], capture_output=True, text=True)
        return p.returncode, p.stdout

    def clean(self):
        self.source("kernel/lib/a.c", "int lib_a(void) { return 1; }\n")
        self.source("kernel/arch/x86/cpu.c",
                    "int lib_a(void);\nint arch_cpu(void) { return lib_a(); }\n")
        self.source("kernel/vm/vm.c", "int arch_cpu(void);\nint vm_x(void) { return arch_cpu(); }\n")
        self.source("kernel/proc/process.c",
                    "int thread_y(void);\nint vm_x(void);\n"
                    "int process_x(void) { return thread_y() + vm_x(); }\n")
        self.source("kernel/proc/thread.c",
                    "int process_x(void);\nint thread_y(void) { return 0; }\n"
                    "int thread_z(void) { return process_x(); }\n")
        self.write("user/prog.c", "#include <zircon/types.h>\n")


class LayeringTest(unittest.TestCase):
    def setUp(self):
        self.t = Tree()
        self.t.clean()

    def tearDown(self):
        shutil.rmtree(self.t.root)

    def assert_finding(self, needle):
        rc, out = self.t.run()
        self.assertEqual(rc, 1, out)
        self.assertIn(needle, out)

    def test_clean_tree_passes(self):
        rc, out = self.t.run()
        self.assertEqual(rc, 0, out)
        self.assertIn("layering: 0 finding(s)", out)

    def test_generic_file_includes_arch_private_header(self):
        self.t.write("kernel/vm/bad.c", "#include <arch/x86/cpu.h>\n")
        self.assert_finding("kernel/vm/bad.c:1: includes arch-private header <arch/x86/cpu.h>")

    def test_arch_interface_header_is_allowed(self):
        self.t.write("kernel/vm/ok.c", "#include <arch/irq.h>\n// x86_cli is named only here\n")
        rc, out = self.t.run()
        self.assertEqual(rc, 0, out)

    def test_generic_file_calls_x86_symbol(self):
        self.t.write("kernel/proc/bad.c", "void f(void) {\n  x86_cli();\n}\n")
        self.assert_finding("kernel/proc/bad.c:2: names x86 symbol x86_cli")

    def test_generic_inline_assembly_and_msr(self):
        self.t.write("kernel/vm/asm.c", 'void f(void) { __asm__ volatile("cli"); }\n')
        self.assert_finding("kernel/vm/asm.c:1: inline assembly outside kernel/arch/")
        self.t.write("kernel/vm/asm.c", 'void f(void) { __asm__ volatile("" ::: "memory"); }\n')
        rc, out = self.t.run()
        self.assertEqual(rc, 0, out)

    def test_generic_assembly_file(self):
        self.t.write("kernel/proc/entry.S", "ret\n")
        self.assert_finding("kernel/proc/entry.S: assembly outside kernel/arch/")

    def test_user_includes_kernel_header(self):
        self.t.write("user/bad.c", "#include <kernel/spin.h>\n")
        self.assert_finding("user/bad.c:1: user code includes kernel header <kernel/spin.h>")

    def test_doc_names_missing_file(self):
        self.t.write("docs/b.md", "Read `kernel/vm/gone.c`.\n")
        self.assert_finding("docs/b.md:1: names missing file kernel/vm/gone.c")

    def test_comment_cites_missing_document(self):
        self.t.write("kernel/vm/c.c", "/* see OUTSIDE.md */\n")
        self.assert_finding("kernel/vm/c.c: comment cites missing document OUTSIDE.md")

    def test_import_loop(self):
        self.t.source("kernel/vm/vm2.c", "int vm_x(void);\nint vm2(void) { return vm_x(); }\n")
        self.t.source("kernel/vm/vm.c", "int arch_cpu(void);\nint vm2(void);\n"
                                        "int vm_x(void) { return arch_cpu(); }\n"
                                        "int vm_y(void) { return vm2(); }\n")
        self.assert_finding("import loop: kernel/vm/vm.c, kernel/vm/vm2.c")

    def test_longer_loop_is_one_finding(self):
        self.t.source("kernel/vm/p.c", "int q(void);\nint p(void) { return q(); }\n")
        self.t.source("kernel/vm/q.c", "int r(void);\nint q(void) { return r(); }\n")
        self.t.source("kernel/vm/r.c", "int p(void);\nint r(void) { return p(); }\n")
        self.assert_finding("import loop: kernel/vm/p.c, kernel/vm/q.c, kernel/vm/r.c")

    def test_call_up_a_layer(self):
        self.t.source("kernel/arch/x86/up.c", "int vm_x(void);\nint up(void) { return vm_x(); }\n")
        self.assert_finding("kernel/arch/x86/up.c (layer 1) calls up into kernel/vm/vm.c (layer 2): vm_x")

    def test_not_an_import(self):
        self.t.source("kernel/arch/x86/panic.c", "void panic(void) {}\n")
        self.t.source("kernel/lib/b.c", "void panic(void);\nvoid lib_b(void) { panic(); }\n")
        rc, out = self.t.run()
        self.assertEqual(rc, 0, out)

    def test_shared_library_outside_kernel(self):
        obj_dir = os.path.join(self.t.root, "build/kernel/CMakeFiles/kernel.dir/__/lib/fmt")
        os.makedirs(obj_dir)
        self.t.write("lib/fmt/fmt.c", "int vm_x(void);\nint fmt(void) { return vm_x(); }\n")
        obj = os.path.join(obj_dir, "fmt.c.o")
        subprocess.run([CC, "-c", "-w", "-o", obj, os.path.join(self.t.root, "lib/fmt/fmt.c")],
                       check=True)
        self.t.objects.append(obj)
        self.assert_finding("lib/fmt/fmt.c (layer 0) calls up into kernel/vm/vm.c (layer 2): vm_x")

    def test_file_without_layer(self):
        self.t.source("kernel/new/n.c", "int lib_a(void);\nint n(void) { return lib_a(); }\n")
        self.assert_finding("kernel/new/n.c: no layer in layers.conf")


if __name__ == "__main__":
    unittest.main()
