"""Unit tests of tools/kstack.py on small hand-written IR modules (clang 14 text, typed
pointers): recursion through direct and indirect calls is found, bounds and their
staleness, the budgeted depth, assembly and frame-size rules, the doc table check."""

import io
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

SRC = os.environ.get("BERYL_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tools"))

import kstack  # noqa: E402

HEADER = """; ModuleID = '{src}'
source_filename = "{src}"
target triple = "x86_64-unknown-unknown-elf"

%struct.obj = type { %struct.ops* }
%struct.ops = type { void (%struct.obj*)* }
"""

# obj_unref calls obj->ops->destroy(obj); obj_destroy (in the ops table) unrefs again.
OBJ = HEADER + """
@obj_ops = dso_local constant %struct.ops { void (%struct.obj*)* @obj_destroy }, align 8

define dso_local void @obj_unref(%struct.obj* noundef %0) local_unnamed_addr #0 {
  %2 = getelementptr inbounds %struct.obj, %struct.obj* %0, i64 0, i32 0
  %3 = load %struct.ops*, %struct.ops** %2, align 8
  %4 = getelementptr inbounds %struct.ops, %struct.ops* %3, i64 0, i32 0
  %5 = load void (%struct.obj*)*, void (%struct.obj*)** %4, align 8
  tail call void %5(%struct.obj* noundef %0) #2
  ret void
}

define internal void @obj_destroy(%struct.obj* noundef %0) unnamed_addr #0 {
  tail call void @obj_unref(%struct.obj* noundef %0) #2
  tail call void @llvm.memset.p0i8.i64(i8* align 8 null, i8 0, i64 16, i1 false)
  ret void
}

define dso_local i64 @sys_a(i64 noundef %0) local_unnamed_addr #0 {
  tail call void @obj_unref(%struct.obj* noundef null) #2
  ret i64 0
}

define dso_local i64 @sys_b() local_unnamed_addr #0 {
  %1 = tail call i32 (i8*, ...) @log(i8* noundef null, i32 noundef 1) #2
  ret i64 0
}

define dso_local i64 @syscall_dispatch(i64 noundef %0) local_unnamed_addr #0 {
  %2 = tail call i64 @sys_a(i64 noundef %0) #2
  %3 = tail call i64 @sys_b() #2
  ret i64 %3
}

declare void @llvm.memset.p0i8.i64(i8* nocapture writeonly, i8, i64, i1 immarg)
"""

LIB = HEADER + """
define dso_local i32 @log(i8* noundef %0, ...) local_unnamed_addr #0 {
  ret i32 0
}

define dso_local void @memset(i8* noundef %0, i32 noundef %1, i64 noundef %2) #0 {
  ret void
}

define weak dso_local void @hook() #0 {
  ret void
}
"""

CONF = """stack 4096 margin 1024
asm entry frame 100 calls handler
syscalls entry handler syscall_dispatch
"""

HANDLER = HEADER + """
define dso_local void @handler() #0 {
  %1 = tail call i64 @syscall_dispatch(i64 noundef 0) #2
  tail call void @hook() #2
  ret void
}

declare i64 @syscall_dispatch(i64 noundef)
declare void @hook()
"""


class Tree:
    """A temporary set of modules, .su files, conf and inputs list."""

    def __init__(self, modules, conf, su=None, asm=None):
        self.dir = tempfile.mkdtemp(prefix="kstack-test-")
        lines = []
        for name, text in modules.items():
            src = os.path.join(self.dir, name + ".c")
            ll = os.path.join(self.dir, name + ".c.ll")
            with open(ll, "w") as f:
                f.write(text.replace("{src}", src))
            obj = os.path.join(self.dir, name + ".c.o")
            frames = (su or {}).get(name)
            with open(os.path.join(self.dir, name + ".c.su"), "w") as f:
                for fn in defined(text):
                    size, qual = (frames or {}).get(fn, (16, "static"))
                    f.write("%s:1:%s\t%d\t%s\n" % (src, fn, size, qual))
            lines += ["ir " + ll, "object " + obj]
        for name, text in (asm or {}).items():
            path = os.path.join(self.dir, name + ".S")
            with open(path, "w") as f:
                f.write(text)
            lines.append("asm " + path)
        self.inputs = os.path.join(self.dir, "inputs.txt")
        with open(self.inputs, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.conf = os.path.join(self.dir, "kstack.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.report = os.path.join(self.dir, "report.txt")

    def run(self, *extra):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            rc = kstack.main(["--conf", self.conf, "--inputs", self.inputs,
                              "--report", self.report] + list(extra))
        with open(self.report) as f:
            return rc, f.read()


def defined(text):
    import re
    return re.findall(r"^define [^@]*@([A-Za-z_0-9.]+)\(", text, re.M)


def tree(conf_extra="", su=None, asm=None, modules=None):
    mods = modules or {"obj": OBJ, "lib": LIB, "handler": HANDLER}
    return Tree(mods, CONF + conf_extra, su=su, asm=asm)


class Types(unittest.TestCase):
    def parse(self, text):
        return kstack.Parser(text, "t").type()

    def test_function_pointer_and_struct_suffix(self):
        self.assertEqual(self.parse("void (%struct.obj.12*, ...)*"), "void (%struct.obj*, ...)*")
        self.assertEqual(self.parse("{ i64, [4 x i8] }"), "{i64, [4 x i8]}")
        self.assertEqual(self.parse("<{ i32, i8 }>*"), "<{i32, i8}>*")

    def test_call_forms(self):
        direct = "  %3 = tail call fastcc i64 @f(i64 noundef %1) #4"
        self.assertEqual(kstack.parse_call(direct, "t"), ("direct", "f"))
        varargs = "  call void (i8*, ...) @panic(i8* noundef null)"
        self.assertEqual(kstack.parse_call(varargs, "t"), ("direct", "panic"))
        ind = "  %7 = call zeroext i1 %6(i8* noundef %2, %struct.obj* noundef nonnull %x)"
        self.assertEqual(kstack.parse_call(ind, "t"),
                         ("indirect", "i1 (i8*, %struct.obj*)", "%6"))
        self.assertIsNone(kstack.parse_call('  call void asm sideeffect "cli", ""()', "t"))
        self.assertEqual(kstack.parse_call(
            "  call void @llvm.memcpy.p0i8.p0i8.i64(i8* %a, i8* %b, i64 8, i1 false)", "t"),
            ("direct", "memcpy"))


class Recursion(unittest.TestCase):
    def test_cycle_through_an_ops_table_is_found(self):
        rc, report = tree().run()
        self.assertEqual(rc, 1)
        self.assertIn("recursion not through a bounded function", report)
        self.assertRegex(report, r"obj_(unref|destroy) -> .*obj_(unref|destroy) -> ")

    def test_a_bound_allows_it_and_limits_the_depth(self):
        t = tree("bound obj_unref 2\n    its guard lets it nest once\n",
                 su={"obj": {"obj_unref": (24, "static"), "obj_destroy": (8, "static"),
                             "sys_a": (40, "static"), "syscall_dispatch": (8, "static")},
                     "handler": {"handler": (8, "static")}})
        rc, report = t.run()
        self.assertEqual(rc, 0, report)
        # entry 100 + handler 16 + dispatch 16, then sys_a 48 > (unref 32 > destroy 16) x2,
        # the last destroy's memset 24 (a nested third unref is over the bound).
        row = [l for l in report.splitlines() if l.startswith("syscall  zx_a")][0]
        self.assertEqual(int(row.split()[2]), 100 + 16 + 16 + 48 + 2 * (32 + 16) + 24)
        self.assertIn("sys_a > obj_unref > obj_destroy > obj_unref > obj_destroy > memset",
                      row)

    def test_stale_and_unknown_bounds_fail(self):
        rc, report = tree("bound obj_unref 2\n    guard\nbound sys_b 1\n    none\n"
                          "bound nothing 3\n    none\n").run()
        self.assertEqual(rc, 1)
        self.assertIn("bound sys_b: it is in no call cycle", report)
        self.assertIn("bound nothing: no such function", report)

    def test_an_indirect_call_of_another_type_is_not_an_edge(self):
        # obj_destroy calls through a parameter of another type instead of unreffing.
        other = OBJ.replace(
            "  tail call void @obj_unref(%struct.obj* noundef %0) #2\n",
            "  %x = tail call i32 @call_it(i32 (i8*)* noundef null) #2\n") + """
define dso_local i32 @call_it(i32 (i8*)* noundef %0) #0 {
  %2 = tail call i32 %0(i8* noundef null) #2
  ret i32 %2
}
"""
        rc, report = tree(modules={"obj": other, "lib": LIB, "handler": HANDLER}).run()
        self.assertEqual(rc, 0, report)

    def test_a_function_cast_to_the_called_type_is_a_target(self):
        cast = OBJ.replace(
            "tail call void %5(%struct.obj* noundef %0)",
            "tail call void %5(i8* noundef null)").replace(
            "@obj_ops = dso_local constant %struct.ops { void (%struct.obj*)* @obj_destroy }",
            "@obj_ops = dso_local constant %struct.ops { void (%struct.obj*)* @obj_destroy }\n"
            "@any = dso_local global void (i8*)* bitcast (void (%struct.obj*)* @obj_destroy "
            "to void (i8*)*)")
        rc, report = tree(modules={"obj": cast, "lib": LIB, "handler": HANDLER}).run()
        self.assertEqual(rc, 1)
        self.assertIn("recursion not through a bounded function", report)

    def test_static_functions_of_the_same_name_are_distinct(self):
        a = HEADER + """
define internal void @walk(i32 noundef %0) #0 {
  tail call void @walk(i32 noundef %0)
  ret void
}
define dso_local void @a() #0 {
  tail call void @walk(i32 noundef 1)
  ret void
}
"""
        b = HEADER + """
define internal void @walk(i32 noundef %0) #0 {
  ret void
}
define dso_local void @b() #0 {
  tail call void @walk(i32 noundef 1)
  ret void
}
"""
        t = Tree({"a": a, "b": b}, "stack 4096 margin 0\nbound walk 4\n    levels\n")
        rc, report = t.run()
        self.assertEqual(rc, 0, report)
        self.assertIn("1 functions, through walk", report)


# Two ops of one type in one table: suspect() calls ops->hold only, and close (the other
# op) calls suspect. Matched by type alone this is a cycle; by field it is not.
FIELDS = HEADER.replace("%struct.ops = type { void (%struct.obj*)* }",
                        "%struct.ops = type { void (%struct.obj*)*, void (%struct.obj*)* }") + """
@two_ops = dso_local constant %struct.ops { void (%struct.obj*)* @hold, void (%struct.obj*)* @close }, align 8

define dso_local void @suspect(%struct.obj* noundef %0) #0 {
  %2 = getelementptr inbounds %struct.obj, %struct.obj* %0, i64 0, i32 0
  %3 = load %struct.ops*, %struct.ops** %2, align 8
  %4 = getelementptr inbounds %struct.ops, %struct.ops* %3, i64 0, i32 0
  %5 = load void (%struct.obj*)*, void (%struct.obj*)** %4, align 8
  tail call void %5(%struct.obj* noundef %0) #2
  ret void
}

define internal void @hold(%struct.obj* noundef %0) #0 {
  ret void
}

define internal void @close(%struct.obj* noundef %0) #0 {
  tail call void @suspect(%struct.obj* noundef %0) #2
  ret void
}
"""


class Fields(unittest.TestCase):
    def run_fields(self, text):
        return Tree({"f": text}, "stack 4096 margin 0\n").run()

    def assert_unbounded_recursion(self, text):
        """The run over `text` fails: it finds a recursion that no bound covers."""
        rc, report = self.run_fields(text)
        self.assertEqual(rc, 1)
        self.assertIn("recursion not through a bounded function", report)

    def test_a_call_through_a_field_reaches_only_what_is_stored_there(self):
        rc, report = self.run_fields(FIELDS)
        self.assertEqual(rc, 0, report)
        self.assertIn("1 of the indirect call sites load the function from a struct field",
                      report)

    def test_a_function_that_also_escapes_elsewhere_is_a_target_too(self):
        escaped = FIELDS + """
define dso_local void @register(void (%struct.obj*)* noundef %0) #0 {
  ret void
}
define dso_local void @setup() #0 {
  tail call void @register(void (%struct.obj*)* noundef @close) #2
  ret void
}
"""
        self.assert_unbounded_recursion(escaped)

    def test_a_field_something_else_is_stored_in_is_not_narrowed(self):
        stored = FIELDS + """
define dso_local void @set_hold(%struct.ops* noundef %0, void (%struct.obj*)* noundef %1) #0 {
  %3 = getelementptr inbounds %struct.ops, %struct.ops* %0, i64 0, i32 0
  store void (%struct.obj*)* %1, void (%struct.obj*)** %3, align 8
  ret void
}
"""
        self.assert_unbounded_recursion(stored)

    def test_a_constant_stored_into_the_field_joins_it(self):
        stored = FIELDS + """
define dso_local void @set_hold(%struct.ops* noundef %0) #0 {
  %2 = getelementptr inbounds %struct.ops, %struct.ops* %0, i64 0, i32 0
  store void (%struct.obj*)* @close, void (%struct.obj*)** %2, align 8
  ret void
}
"""
        self.assert_unbounded_recursion(stored)


class Rules(unittest.TestCase):
    def test_unknown_external_call_fails(self):
        lib = LIB.replace("define dso_local i32 @log", "define dso_local i32 @log_renamed")
        rc, report = tree("bound obj_unref 2\n    g\n",
                          modules={"obj": OBJ, "lib": lib, "handler": HANDLER}).run()
        self.assertEqual(rc, 1)
        self.assertIn("calls log, which no kernel C file defines", report)

    def test_dynamic_frames_need_a_bound(self):
        su = {"lib": {"log": (32, "dynamic")}}
        rc, report = tree("bound obj_unref 2\n    g\n", su=su).run()
        self.assertEqual(rc, 1)
        self.assertIn("log", report)
        self.assertIn("dynamic stack frame", report)
        rc, report = tree("bound obj_unref 2\n    g\ndynamic log 64\n    at most 64\n",
                          su=su).run()
        self.assertEqual(rc, 0, report)

    def test_assembly_calls_must_be_described(self):
        asm = {"entry": "/* call nothing here */\n1:  call handler\n    call undescribed\n"}
        rc, report = tree("bound obj_unref 2\n    g\n", asm=asm).run()
        self.assertEqual(rc, 1)
        self.assertIn("entry.S:3: assembly calls undescribed", report)
        self.assertNotIn("assembly calls nothing", report)

    def test_a_weak_definition_gives_way(self):
        strong = HEADER + """
define dso_local void @hook() #0 {
  tail call void @hook_impl()
  ret void
}
define dso_local void @hook_impl() #0 {
  ret void
}
"""
        mods = {"obj": OBJ, "lib": LIB, "handler": HANDLER, "strong": strong}
        rc, report = Tree(mods, CONF + "bound obj_unref 2\n    g\n").run()
        self.assertEqual(rc, 0, report)
        self.assertNotIn("is defined in", report)

    def test_over_the_limit_fails(self):
        su = {"lib": {"log": (4000, "static")}}
        rc, report = tree("bound obj_unref 2\n    g\n", su=su).run()
        self.assertEqual(rc, 1)
        self.assertIn("syscall zx_b: worst case", report)


class Traps(unittest.TestCase):
    TRAP = ("trap nested frame 50 through handler\n    calls syscall_dispatch\n"
            "interrupt nested\nroot entry +interrupt\nbound obj_unref 2\n    g\n")

    def test_a_trap_follows_only_its_calls(self):
        t = tree(self.TRAP, su={"handler": {"handler": (8, "static")}})
        rc, report = t.run()
        self.assertEqual(rc, 0, report)
        # The trap: 50 + handler's frame 16, then dispatch (not hook).
        self.assertRegex(report, r"Nested interrupt \(nested\): \d+ bytes: nested > "
                                 r"syscall_dispatch > ")
        self.assertNotIn("nested > hook", report)

    def test_a_trap_call_the_chain_does_not_make_fails(self):
        t = tree(self.TRAP.replace("calls syscall_dispatch", "calls sys_a"))
        rc, report = t.run()
        self.assertEqual(rc, 1)
        self.assertIn("trap nested: no function of handler calls sys_a", report)


class Doc(unittest.TestCase):
    def test_doc_table_round_trip_and_tolerance(self):
        t = tree("bound obj_unref 2\n    g\n")
        doc = os.path.join(t.dir, "doc.md")
        with open(doc, "w") as f:
            f.write("# x\n\n%s\n%s\ntail\n" % (kstack.DOC_BEGIN, kstack.DOC_END))
        rc, _ = t.run("--write-doc", doc)
        self.assertEqual(rc, 0)
        rc, _ = t.run("--check-doc", doc)
        self.assertEqual(rc, 0)
        with open(doc) as f:
            text = f.read()
        self.assertTrue(text.endswith("tail\n"))
        self.assertIn("| `zx_a` |", text)
        # Off by more than the tolerance: stale.
        row = [l for l in text.splitlines() if l.startswith("| `zx_a`")][0]
        n = int(row.split("|")[2])
        with open(doc, "w") as f:
            f.write(text.replace(row, row.replace("| %d |" % n,
                                                  "| %d |" % (n + kstack.DOC_TOLERANCE + 1))))
        rc, _ = t.run("--check-doc", doc)
        self.assertEqual(rc, 1)


if __name__ == "__main__":
    unittest.main()
