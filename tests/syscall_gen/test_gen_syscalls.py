"""Unit tests of tools/gen_syscalls.py: the parser rejects malformed definitions with a
clear message, and the real syscalls.def produces the expected numbering and code."""

import os
import sys
import unittest

SRC = os.environ.get("BERYL_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tools"))

import gen_syscalls as gen  # noqa: E402

GOOD = """
syscall vmo_create
  arg size: uint64_t
  arg options: uint32_t
  arg out: out_ptr<zx_handle_t>[1]
  | Creates a VMO.
"""


def parse(text):
    return gen.parse(text, "test.def")


class ParserErrors(unittest.TestCase):
    def assert_rejects(self, text, *fragments):
        with self.assertRaises(gen.DefError) as ctx:
            parse(text)
        msg = str(ctx.exception)
        self.assertRegex(msg, r"^test\.def:\d+: ")
        for frag in fragments:
            self.assertIn(frag, msg)

    def test_good_definition_parses(self):
        (sc,) = parse(GOOD)
        self.assertEqual(sc.name, "vmo_create")
        self.assertEqual(sc.ret, "zx_status_t")
        self.assertEqual(sc.args[2].direction, "out")

    def test_duplicate_name(self):
        self.assert_rejects(GOOD + GOOD, "duplicate syscall name 'vmo_create'")

    def test_unknown_type(self):
        self.assert_rejects(GOOD.replace("uint64_t", "u64"), "unknown type 'u64'", "'size'")

    def test_unknown_pointee_type(self):
        self.assert_rejects(GOOD.replace("<zx_handle_t>", "<widget_t>"),
                            "unknown type 'widget_t'")

    def test_pointer_without_size(self):
        self.assert_rejects(GOOD.replace("[1]", ""), "pointer argument 'out' has no size")
        self.assert_rejects(GOOD.replace("[1]", "[]"), "has no size")

    def test_pointer_sized_by_missing_argument(self):
        self.assert_rejects(GOOD.replace("[1]", "[count]"), "'count', which is not an argument")

    def test_pointer_sized_by_non_integer(self):
        self.assert_rejects(GOOD.replace("[1]", "[out]"), "is not an integer")

    def test_unknown_attribute(self):
        self.assert_rejects(GOOD.replace("vmo_create", "vmo_create inline"),
                            "unknown syscall attribute 'inline'")


    def test_too_many_arguments(self):
        args = "".join("  arg a%d: uint32_t\n" % i for i in range(9))
        self.assert_rejects("syscall big\n%s  | Too big.\n" % args,
                            "has 9 arguments; at most 8")

    def test_eight_arguments_allowed(self):
        args = "".join("  arg a%d: uint32_t\n" % i for i in range(8))
        (sc,) = parse("syscall big\n%s  | Just fits.\n" % args)
        self.assertEqual(len(sc.args), 8)

    def test_unknown_right_and_object_type(self):
        self.assert_rejects(GOOD.replace("uint64_t", "handle<VMO>(READZ)"), "unknown right 'READZ'")
        self.assert_rejects(GOOD.replace("uint64_t", "handle<WIDGET>"),
                            "unknown object type 'WIDGET'")

    def test_handle_rights_forms(self):
        (sc,) = parse(GOOD.replace("arg size: uint64_t",
                                   "arg a: handle<VMO>(READ|WRITE)\n  arg b: handle<any>()\n"
                                   "  arg c: handle<PROCESS|THREAD>"))
        self.assertEqual(sc.args[0].rights, ["READ", "WRITE"])
        self.assertEqual(sc.args[1].rights, [])
        self.assertIsNone(sc.args[2].rights)
        self.assertEqual(sc.args[2].handle_types, ["PROCESS", "THREAD"])

    def test_missing_doc(self):
        self.assert_rejects(GOOD.replace("  | Creates a VMO.\n", ""), "no doc string")

    def test_noreturn_must_return_void(self):
        self.assert_rejects("syscall x noreturn\n  returns zx_status_t\n  | X.\n",
                            "must return void")

    def test_duplicate_argument(self):
        self.assert_rejects(GOOD.replace("arg options", "arg size"), "duplicate argument 'size'")


class LibraryCalls(unittest.TestCase):
    """A `vdso` block is declared for user space but takes no number, stub or sys_*."""

    TEXT = GOOD + """
syscall deadline_after vdso
  returns zx_time_t
  arg nanoseconds: zx_duration_t
  | A library call.

syscall vmo_get_size
  arg handle: handle<VMO>()
  arg size: out_ptr<uint64_t>[1]
  | Gets the size.
"""

    def test_numbers_skip_library_calls(self):
        scs = parse(self.TEXT)
        self.assertEqual([(sc.name, sc.number) for sc in scs],
                         [("vmo_create", 0), ("deadline_after", None), ("vmo_get_size", 1)])

    def test_outputs(self):
        out = gen.build_outputs(parse(self.TEXT))
        self.assertIn("zx_time_t zx_deadline_after(zx_duration_t nanoseconds);",
                      out["include/zircon/syscalls.h"])
        self.assertIn("#define ZX_SYS_COUNT 2", out["include/beryl/syscall_numbers.h"])
        for rel in ("include/beryl/syscall_numbers.h", "kernel/include/kernel/syscall_impl.h",
                    "kernel/syscall_table.c", "user/syscall_stubs.S"):
            self.assertNotIn("deadline_after", out[rel], rel)
        self.assertIn("| library | `zx_deadline_after` |", gen.emit_docs_md(parse(self.TEXT), ""))


class RealDefinition(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        path = os.path.join(SRC, "syscall-abi", "syscalls.def")
        with open(path, encoding="utf-8") as f:
            cls.syscalls = gen.parse(f.read(), path)
        cls.by_name = {sc.name: sc for sc in cls.syscalls}
        cls.out = gen.build_outputs(cls.syscalls)

    def test_numbering(self):
        self.assertEqual(len(gen.kernel_syscalls(self.syscalls)), 62)
        for name, num in [("syscall_test_0", 0), ("clock_get_monotonic", 2),
                          ("thread_exit", 15), ("channel_read", 24), ("vmo_create", 25),
                          ("vmar_map", 35), ("vmar_destroy", 39),
                          ("process_create_shared", 40), ("restricted_kick", 44),
                          ("system_get_num_cpus", 45), ("object_set_profile", 47)]:
            self.assertEqual(self.by_name[name].number, num, name)

    def test_prototypes(self):
        h = self.out["include/zircon/syscalls.h"]
        self.assertIn("zx_status_t zx_vmo_create(uint64_t size, uint32_t options, "
                      "zx_handle_t* out);", h)
        self.assertIn("zx_status_t zx_debug_write(const char* buffer, size_t buffer_size);", h)
        self.assertIn("__attribute__((noreturn)) void zx_process_exit(int64_t retcode);", h)
        k = self.out["kernel/include/kernel/syscall_impl.h"]
        self.assertIn("zx_status_t sys_vmo_create(uint64_t size, uint32_t options, "
                      "user_addr_t out);", k)
        self.assertIn("zx_time_t sys_clock_get_monotonic(void);", k)

    def test_dispatch(self):
        c = self.out["kernel/syscall_table.c"]
        self.assertIn("return (int64_t)sys_vmo_create((uint64_t)args[0], (uint32_t)args[1], "
                      "(user_addr_t)args[2]);", c)
        self.assertIn("sys_thread_exit();\n        __builtin_unreachable();", c)
        self.assertIn("return ZX_ERR_BAD_SYSCALL;", c)

    def stub(self, name):
        s = self.out["user/syscall_stubs.S"]
        start = s.index("zx_%s:\n" % name)
        return s[start:s.index(".size", start)]

    def test_stub_six_args(self):
        body = self.stub("object_get_info")
        self.assertIn("movq %rcx, %r10", body)
        self.assertIn("movl $8, %eax", body)
        self.assertNotIn("r12", body)

    def test_stub_eight_args(self):
        body = self.stub("channel_read")
        lines = [l.strip() for l in body.splitlines()[1:]]
        self.assertEqual(lines, [
            "pushq %r12", "pushq %r13", "movq 24(%rsp), %r12", "movq 32(%rsp), %r13",
            "movq %rcx, %r10", "movl $24, %eax", "syscall", "popq %r13", "popq %r12", "ret"])

    def test_stub_seven_args(self):
        body = self.stub("vmar_map")
        self.assertIn("movq 24(%rsp), %r12", body)
        self.assertNotIn("r13", body.replace("pushq %r13", "").replace("popq %r13", ""))


if __name__ == "__main__":
    unittest.main()
