#!/usr/bin/env python3
"""Beryl's layering check (docs/architecture.md, "Layers").

Fails (exit 1, one line per finding) when:
  * a generic kernel file (anything in kernel/ outside the arch tree and outside the
    arch interface headers kernel/include/arch/) includes an arch-private header
    (<arch/x86/...>), names an x86_ / X86_ identifier, holds inline assembly or MSR
    access, or is an assembly (.S) file;
  * a file under user/ includes a header that only the kernel provides;
  * a document (README.md, docs/, syscall-abi/*.md) or a source comment names a file
    that does not exist in the repository;
  * with --objects: two kernel files call each other, directly or around a longer cycle
    (an import loop), other than the cycles kernel/layers.conf allows; or a file calls
    into a layer that kernel/layers.conf places above its own.

The import graph comes from the kernel's object files: file A imports file B when one of
A's undefined symbols is defined by B (`nm`). Static inline functions in headers are
invisible to it; the include and identifier rules cover those.

Usage:
  layering.py --source-dir DIR [--objects-from kstack_inputs.txt] [--conf layers.conf]
              [--print-graph]
"""

import argparse
import collections
import os
import re
import subprocess
import sys

import graphs

ARCH_DIRS = ("kernel/arch/",)
ARCH_INTERFACE_DIRS = ("kernel/include/arch/",)
SOURCE_EXTS = (".c", ".h", ".S")
DOC_GLOBS = ("README.md", "docs", "syscall-abi")
# Extensions a path-like word must end with to count as a file reference.
FILE_EXTS = ("c", "h", "S", "py", "md", "cmake", "ld", "conf", "cfg", "def", "in", "txt", "sh")
FILE_REF = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w-]+(?:\.[\w-]+)*\.(?:%s))(?![\w/])"
                      % "|".join(FILE_EXTS))
# Stems that stand for "any name" in prose ("every NAME.c becomes a program").
PLACEHOLDERS = {"NAME", "PREFIX", "DIR", "FILE", "X", "N", "F"}
# Words that look like files but name things outside the tree on purpose.
GENERATED_OR_EXTERNAL = re.compile(
    r"^(build/|/|\.\./|~)|\*|\$|<|CMakeFiles|\.su$|kernel_stack\.txt$|kernel\.syms$")


def rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


def walk(root, top, exts):
    base = os.path.join(root, top)
    if os.path.isfile(base):
        yield top
        return
    for d, dirs, files in os.walk(base):
        dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x != "build")
        for f in sorted(files):
            if f.endswith(exts):
                yield rel(root, os.path.join(d, f))


def strip_comments(text):
    """Return (code, comments): C source with comments blanked, and the comments' text."""
    code, comments = [], []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            comments.append(text[i:j])
            code.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            comments.append(text[i:j])
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            code.append(text[i:j + 1])
            i = j + 1
        else:
            code.append(c)
            i += 1
    return "".join(code), "\n".join(comments)


def is_generic_kernel(path):
    return (path.startswith("kernel/") and not path.startswith(ARCH_DIRS)
            and not path.startswith(ARCH_INTERFACE_DIRS))


INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
X86_NAME = re.compile(r"\b[xX]86_\w+")
# An empty asm statement is a compiler barrier, not x86 code.
ASM = re.compile(r"\b(?:__asm__|asm)\b(?:\s+(?:volatile|__volatile__))?\s*\(\s*(\"[^\"]*\")?")
MSR = re.compile(r"\b(?:rdmsr|wrmsr)\b")


def check_generic_kernel(root, findings):
    for path in walk(root, "kernel", SOURCE_EXTS):
        if not is_generic_kernel(path):
            continue
        if path.endswith(".S"):
            findings.append(f"{path}: assembly outside kernel/arch/")
            continue
        with open(os.path.join(root, path), encoding="utf-8") as f:
            text = f.read()
        code, _ = strip_comments(text)
        for m in INCLUDE.finditer(code):
            if m.group(1).startswith("arch/") and not os.path.exists(
                    os.path.join(root, "kernel/include", m.group(1))):
                line = code.count("\n", 0, m.start()) + 1
                findings.append(f"{path}:{line}: includes arch-private header <{m.group(1)}>")
        for m in X86_NAME.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            findings.append(f"{path}:{line}: names x86 symbol {m.group(0)}")
        for m in ASM.finditer(code):
            if m.group(1) == '""':
                continue
            line = code.count("\n", 0, m.start()) + 1
            findings.append(f"{path}:{line}: inline assembly outside kernel/arch/")
        for m in MSR.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            findings.append(f"{path}:{line}: MSR access outside kernel/arch/")


def kernel_header_names(root):
    """Include names (as written after #include) that resolve only inside kernel/."""
    names = set()
    for d, dirs, _ in os.walk(os.path.join(root, "kernel")):
        for inc in dirs:
            if inc != "include":
                continue
            top = os.path.join(d, inc)
            for dd, _, files in os.walk(top):
                for f in files:
                    names.add(rel(top, os.path.join(dd, f)))
    return names


def user_include_dirs(root):
    dirs = [os.path.join(root, "syscall-abi/include")]
    for d, sub, _ in os.walk(os.path.join(root, "user")):
        dirs.append(d)
    return dirs


def check_user_includes(root, findings):
    kernel_names = kernel_header_names(root)
    udirs = user_include_dirs(root)
    for path in walk(root, "user", (".c", ".h", ".S")):
        with open(os.path.join(root, path), encoding="utf-8") as f:
            code, _ = strip_comments(f.read())
        here = os.path.dirname(os.path.join(root, path))
        for m in INCLUDE.finditer(code):
            name = m.group(1)
            if name not in kernel_names:
                continue
            if any(os.path.exists(os.path.join(d, name)) for d in [here] + udirs):
                continue
            line = code.count("\n", 0, m.start()) + 1
            findings.append(f"{path}:{line}: user code includes kernel header <{name}>")


def repo_files(root):
    out = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, text=True)
    files = set(out.stdout.split()) if out.returncode == 0 else set()
    if not files:
        for d, dirs, fs in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith(".") and x != "build"]
            for f in fs:
                files.add(rel(root, os.path.join(d, f)))
    return files


def build_script_text(root, files):
    """The build's scripts: a name they spell is a file the build generates."""
    parts = []
    for f in sorted(files):
        if (f.startswith("tools/") and f.endswith(".py")) or f.endswith(
                ("CMakeLists.txt", ".cmake")):
            with open(os.path.join(root, f), encoding="utf-8") as fh:
                parts.append(fh.read())
    return "\n".join(parts)


def file_ref_ok(ref, here, files, basenames, generated):
    ref = ref.rstrip(".")
    if GENERATED_OR_EXTERNAL.search(ref):
        return True
    stem = ref.rsplit("/", 1)[-1]
    # Placeholders ("NAME.c", "PREFIX/NAME.c") and suffix patterns ("_ktest.c").
    if stem.startswith("_") or stem.split(".", 1)[0] in PLACEHOLDERS:
        return True
    if stem in generated:
        return True
    if "/" not in ref:
        return ref in basenames
    if ref in files:
        return True
    joined = os.path.normpath(os.path.join(here, ref)).replace(os.sep, "/")
    if joined in files:
        return True
    # A path given relative to a well-known folder (e.g. "x86/mmu/map.c" or
    # "vm/pmm.h" as written after #include): some file in the tree ends with it.
    return any(f.endswith("/" + ref) for f in files)


def check_file_references(root, findings):
    files = repo_files(root)
    basenames = {f.rsplit("/", 1)[-1] for f in files}
    scripts = build_script_text(root, files)
    generated = set(re.findall(r"[\w.-]+\.(?:%s)\b" % "|".join(FILE_EXTS), scripts)) - basenames
    docs = []
    for top in DOC_GLOBS:
        docs.extend(p for p in walk(root, top, (".md",)))
    for path in docs:
        with open(os.path.join(root, path), encoding="utf-8") as f:
            text = f.read()
        here = os.path.dirname(path)
        for m in FILE_REF.finditer(text):
            if not file_ref_ok(m.group(1), here, files, basenames, generated):
                line = text.count("\n", 0, m.start()) + 1
                findings.append(f"{path}:{line}: names missing file {m.group(1)}")
    # Source comments must not send the reader to documents outside the repository.
    for top in ("kernel", "user", "syscall-abi", "tests", "tools", "lib"):
        for path in walk(root, top, (".c", ".h", ".S", ".py", ".def")):
            with open(os.path.join(root, path), encoding="utf-8") as f:
                text = f.read()
            if path.endswith(".py"):
                comments = "\n".join(re.findall(r"#.*", text))
            else:
                _, comments = strip_comments(text)
            for m in re.finditer(r"[\w./-]+\.md\b", comments):
                ref = m.group(0)
                if not file_ref_ok(ref, os.path.dirname(path), files, basenames, generated):
                    findings.append(f"{path}: comment cites missing document {ref}")


# ----------------------------------------------------------------------------------
# Import graph from object files
# ----------------------------------------------------------------------------------

def read_conf(path):
    """kernel/layers.conf: 'layer RANK PREFIX...', 'allow-cycle FILE FILE...' and
    'not-an-import SYMBOL...' (symbols whose callers do not depend on their file: the
    boot code's jump to kmain, every assertion's call to panic)."""
    layers, cycles, entries = [], [], set()
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].split()
            if not line:
                continue
            if line[0] == "layer":
                rank = int(line[1])
                for prefix in line[2:]:
                    layers.append((prefix, rank))
            elif line[0] == "allow-cycle":
                cycles.append(frozenset(line[1:]))
            elif line[0] == "not-an-import":
                entries.update(line[1:])
            else:
                raise SystemExit(f"{path}: unknown line: {raw.strip()}")
    # The longest matching prefix decides a file's layer.
    layers.sort(key=lambda x: -len(x[0]))
    return layers, cycles, entries


def layer_of(layers, path):
    for prefix, rank in layers:
        if path == prefix or path.startswith(prefix):
            return rank
    return None


def object_source(obj):
    """kernel object path -> source path relative to the repository."""
    marker = "/kernel.dir/"
    i = obj.find(marker)
    if i < 0:
        return None
    src = obj[i + len(marker):]
    if src.endswith(".o"):
        src = src[:-2]
    src = os.path.normpath("kernel/" + src.replace("__/", "../")).replace(os.sep, "/")
    # Sources shared with user space (lib/) sit beside kernel/; generated ones (the
    # syscall table) live in the build tree.
    if src.startswith(("kernel/", "lib/")):
        return src
    return "generated/" + os.path.basename(src)


def import_graph(objects, ignored):
    defs, undef = {}, collections.defaultdict(set)
    for obj in objects:
        src = object_source(obj)
        if not src:
            continue
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRV":
                defs[parts[2]] = src
            elif len(parts) == 2 and parts[0] == "U":
                undef[src].add(parts[1])
    graph = collections.defaultdict(dict)
    for src, names in undef.items():
        for name in sorted(names):
            dst = defs.get(name)
            if dst and dst != src and name not in ignored:
                graph[src].setdefault(dst, name)
    return graph


def import_cycles(graph):
    """The strongly connected components of the import graph with more than one file."""
    nodes = sorted(set(graph) | {d for s in graph for d in graph[s]})
    comps = graphs.strongly_connected(nodes, lambda n: graph.get(n, ()))
    return [c for c in comps if len(c) > 1]


def is_test_only(path):
    base = os.path.basename(path)
    return "ktest" in base or "_bench" in base or base.startswith("bench")


def check_imports(objects, conf, findings, print_graph):
    layers, allowed, entries = read_conf(conf)
    graph = import_graph(objects, entries)
    # In-kernel tests and benchmarks sit above everything they exercise.
    graph = {s: {d: n for d, n in ds.items() if not is_test_only(d)}
             for s, ds in graph.items() if not is_test_only(s)}
    if print_graph:
        for s in sorted(graph):
            for d, name in sorted(graph[s].items()):
                print(f"{s} -> {d} ({name})")
    for comp in import_cycles(graph):
        if frozenset(comp) in allowed:
            continue
        edges = [f"{s} -> {d} ({graph[s][d]})" for s in comp for d in sorted(graph.get(s, {}))
                 if d in comp]
        findings.append("import loop: " + ", ".join(comp) + "\n    " + "\n    ".join(edges))
    for s in sorted(graph):
        rs = layer_of(layers, s)
        for d, name in sorted(graph[s].items()):
            rd = layer_of(layers, d)
            if rs is None or rd is None:
                missing = s if rs is None else d
                findings.append(f"{missing}: no layer in {os.path.basename(conf)}")
                continue
            if rd > rs:
                findings.append(f"{s} (layer {rs}) calls up into {d} (layer {rd}): {name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--objects-from", help="kstack_inputs.txt: its 'object PATH' lines")
    ap.add_argument("--conf", help="layers.conf (default: SOURCE/kernel/layers.conf)")
    ap.add_argument("--print-graph", action="store_true")
    args = ap.parse_args()
    root = os.path.abspath(args.source_dir)
    findings = []
    check_generic_kernel(root, findings)
    check_user_includes(root, findings)
    check_file_references(root, findings)
    if args.objects_from:
        with open(args.objects_from, encoding="utf-8") as f:
            objects = [l.split(None, 1)[1].strip() for l in f if l.startswith("object ")]
        conf = args.conf or os.path.join(root, "kernel/layers.conf")
        check_imports(objects, conf, findings, args.print_graph)
    findings = list(dict.fromkeys(findings))
    for f in findings:
        print(f)
    print(f"layering: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
