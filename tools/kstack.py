#!/usr/bin/env python3
"""Kernel call graph: recursion check and worst-case stack depth per syscall.

Inputs (--inputs FILE, one per line, written by kernel/CMakeLists.txt):
    ir PATH       a kernel C source compiled to LLVM IR text with the kernel's flags
    object PATH   a kernel object; clang's -fstack-usage left PATH minus ".o" plus ".su"
    asm PATH      a kernel assembly source (checked against the `asm` lines of the conf)
and --conf kernel/kstack.conf (format at the top of that file).

What it does (docs/kernel-stack.md):
 1. Builds the call graph of every kernel function from the IR. A direct call is an edge;
    an indirect call is an edge to every function whose address is taken anywhere in the
    kernel and whose IR type equals the call's (struct names compared without clang's
    numeric suffixes, a function cast to another type counted under both types).
    llvm.memcpy/memset/memmove count as calls to the kernel's memcpy/memset/memmove.
    Calls into assembly follow the conf's `asm` lines.
 2. Recursion: every call cycle must pass through a function the conf bounds (`bound F N`:
    F is active at most N times on one stack). Any other cycle is an error, printed as a
    path. A `bound` on a function that is in no cycle is an error too (stale entry).
 3. Stack: each function costs its .su frame plus 8 bytes of return address; the depth
    of an entry is its deepest path, each bounded function entered at most N times.
    Every `root` and every syscall (the sys_* callees of the dispatcher) must stay within
    the kernel stack minus the margin, with a nested interrupt (the `interrupt` node)
    counted on top where the conf says interrupts may be on.

Exit status: 0 when every rule holds, 1 when one is broken (or with --no-fail, 0 as long
as the inputs could be read), 2 for unusable inputs. --report writes the full report.

Python 3 standard library only.
"""

import argparse
import os
import re
import sys

import graphs

# ---------------------------------------------------------------------------------------
# LLVM IR (clang 14 text, typed pointers) reading
# ---------------------------------------------------------------------------------------

# Tokens allowed between `call` and the callee's type (fast-math flags, calling
# conventions, return attributes). Attributes with an argument are handled separately.
CALL_PREFIX_WORDS = {
    "nnan", "ninf", "nsz", "arcp", "contract", "afn", "reassoc", "fast",
    "ccc", "fastcc", "coldcc", "cc", "x86_64_sysvcc", "preserve_mostcc", "preserve_allcc",
    "zeroext", "signext", "inreg", "noalias", "nonnull", "noundef", "nocapture",
}
PARAM_ATTRS_WITH_ARG = ("align", "dereferenceable", "dereferenceable_or_null", "addrspace")
SIMPLE_TYPES = ("void", "half", "bfloat", "float", "double", "x86_fp80", "fp128",
                "ppc_fp128", "x86_mmx", "x86_amx", "ptr", "label", "token", "metadata",
                "opaque")
# Intrinsics that the backend may lower to a call of the C library routine.
INTRINSIC_CALLS = {"llvm.memcpy": "memcpy", "llvm.memset": "memset",
                   "llvm.memmove": "memmove"}

IDENT = r'(?:[-a-zA-Z$._][-a-zA-Z$._0-9]*|"[^"]*"|[0-9]+)'
GLOBAL_REF_RE = re.compile(r"@(" + IDENT + r")")
DEFINE_RE = re.compile(r"^define\s")
DECLARE_RE = re.compile(r"^declare\s")
CALL_RE = re.compile(r"(?:^|[\s=])(?:tail |musttail |notail )?call\s")
STRUCT_SUFFIX_RE = re.compile(r"(%(?:struct|union)\.[A-Za-z_][A-Za-z0-9_]*)(?:\.[0-9]+)+")


class IRError(Exception):
    """Text the parser does not understand (names the file and line)."""


def strip_name(tok):
    return tok[1:-1] if tok.startswith('"') else tok


class Parser:
    """A cursor over one line of IR with just enough grammar for types and calls."""

    def __init__(self, text, where):
        self.s = text
        self.i = 0
        self.where = where

    def fail(self, what):
        raise IRError("%s: cannot parse %s at column %d: %s" %
                      (self.where, what, self.i, self.s.strip()[:200]))

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def peek(self, text):
        self.ws()
        return self.s.startswith(text, self.i)

    def eat(self, text):
        if self.peek(text):
            self.i += len(text)
            return True
        return False

    def word(self):
        self.ws()
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*").match(self.s, self.i)
        return m.group(0) if m else None

    def skip_balanced(self):
        """Skips one parenthesised / bracketed / braced group or quoted string."""
        self.ws()
        pairs = {"(": ")", "[": "]", "{": "}", "<": ">"}
        c = self.s[self.i]
        if c == '"':
            j = self.s.index('"', self.i + 1)
            self.i = j + 1
            return
        if c not in pairs:
            self.fail("group")
        depth = 0
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == '"':
                self.i = self.s.index('"', self.i + 1)
            elif c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
                if depth == 0:
                    self.i += 1
                    return
            self.i += 1
        self.fail("unbalanced group")

    def type(self):
        """Parses one type and returns its normalised text."""
        self.ws()
        s, i = self.s, self.i
        if s.startswith("<{", i):
            self.i += 2
            inner = self.type_list("}>")
            t = "<{" + ", ".join(inner) + "}>"
        elif s.startswith("{", i):
            self.i += 1
            inner = self.type_list("}")
            t = "{" + ", ".join(inner) + "}"
        elif s[i] in "[<":
            close = "]" if s[i] == "[" else ">"
            self.i += 1
            self.ws()
            m = re.compile(r"[0-9]+").match(s, self.i)
            if not m:
                self.fail("array length")
            self.i = m.end()
            if not self.eat("x"):
                self.fail("array 'x'")
            elem = self.type()
            if not self.eat(close):
                self.fail("array end")
            t = "%s%s x %s%s" % (s[i], m.group(0), elem, close)
        elif s[i] == "%":
            m = re.compile(r"%" + IDENT).match(s, i)
            if not m:
                self.fail("named type")
            self.i = m.end()
            t = STRUCT_SUFFIX_RE.sub(r"\1", m.group(0))
        else:
            m = re.compile(r"i[0-9]+\b").match(s, i)
            if m:
                self.i = m.end()
                t = m.group(0)
            else:
                w = self.word()
                if w not in SIMPLE_TYPES:
                    self.fail("type")
                self.i += len(w)
                t = w
        while True:
            if self.eat("*"):
                t += "*"
            elif self.peek("addrspace("):
                self.i += len("addrspace")
                self.skip_balanced()
                if not self.eat("*"):
                    self.fail("addrspace pointer")
                t += "*"
            elif self.peek("("):
                self.i += 1
                params = self.type_list(")", allow_varargs=True)
                t = "%s (%s)" % (t, ", ".join(params))
            else:
                return t

    def type_list(self, close, allow_varargs=False):
        out = []
        if self.eat(close):
            return out
        while True:
            if allow_varargs and self.eat("..."):
                out.append("...")
            else:
                out.append(self.type())
            if self.eat(close):
                return out
            if not self.eat(","):
                self.fail("type list")

    def skip_to_comma_or(self, close):
        """Skips an attribute list and value up to a top-level ',' or `close`."""
        while True:
            self.ws()
            if self.i >= len(self.s):
                self.fail("argument")
            c = self.s[self.i]
            if c == "," or self.s.startswith(close, self.i):
                return
            if c in "([{<\"":
                self.skip_balanced()
            else:
                self.i += 1

    def arg_types(self, close=")"):
        """Parses `(ty attrs value, ...)`-style lists; returns the types (and '...')."""
        out = []
        if self.eat(close):
            return out
        while True:
            if self.eat("..."):
                out.append("...")
            else:
                out.append(self.type())
                self.skip_to_comma_or(close)
            if self.eat(close):
                return out
            if not self.eat(","):
                self.fail("argument list")

    def skip_call_prefix(self):
        while True:
            w = self.word()
            if w in CALL_PREFIX_WORDS:
                self.i += len(w)
                if w == "cc":
                    self.word_or_number()
            elif w in PARAM_ATTRS_WITH_ARG:
                self.skip_attr_with_arg(w)
            else:
                return

    def skip_attr_with_arg(self, w):
        """Skips the attribute word w (at the cursor) and its argument: `(...)` or a word."""
        self.i += len(w)
        if self.peek("("):
            self.skip_balanced()
        else:
            self.word_or_number()

    def word_or_number(self):
        self.ws()
        m = re.compile(r"[A-Za-z0-9_]+").match(self.s, self.i)
        if m:
            self.i = m.end()


def signature(ret, params):
    return "%s (%s)" % (ret, ", ".join(params))


class Function:
    """One kernel function (from IR), assembly routine (from the conf) or pseudo node."""

    def __init__(self, key, name, tu, sig):
        self.key = key
        self.name = name
        self.tu = tu
        self.sig = sig
        self.direct = set()     # callee names, resolved later
        self.indirect = []      # (signature, field or None) of indirect calls
        self.callees = set()    # resolved Function keys
        self.frame = None       # bytes: .su frame + return address
        self.line = None
        self.weak = False


class Module:
    def __init__(self, path):
        self.path = path
        self.source = None
        self.defined = {}       # name -> Function
        self.internal = set()   # names with internal/private linkage
        self.declared = {}      # name -> signature (declare lines)
        self.refs = {}          # name -> set of signatures it is cast to ("" = own type)
        self.called = set()     # names called directly
        # Field sensitivity (see resolve_field): a field is (struct name, index).
        self.structs = {}       # struct name -> [field types]
        self.escapes = {}       # name -> mentions that are not direct calls
        self.field_refs = {}    # name -> [fields it is stored or initialised into]
        self.open_fields = set()    # fields something other than a function is stored in
        self.field_copies = []      # (from, to): a value loaded from one stored in the other


def parse_function_header(line, where):
    """Returns (name, signature, internal) of a define/declare line."""
    m = GLOBAL_REF_RE.search(line)
    if not m:
        raise IRError("%s: no function name: %s" % (where, line[:200]))
    name = strip_name(m.group(1))
    head = line[:m.start()]
    words = head.split()
    internal = "internal" in words or "private" in words
    weak = "weak" in words or "linkonce" in words or "linkonce_odr" in words or "weak_odr" in words
    # The return type is what precedes the name after linkage/attribute words; parse it
    # from the first token that can start a type.
    p = Parser(head, where)
    p.i = len(words[0])  # define / declare
    while True:
        w = p.word()
        if w is None or w in SIMPLE_TYPES or re.match(r"i[0-9]+$", w or ""):
            break
        if w in PARAM_ATTRS_WITH_ARG:
            p.skip_attr_with_arg(w)
            continue
        p.i += len(w)
    ret = p.type()
    q = Parser(line, where)
    q.i = m.end()
    if not q.eat("("):
        raise IRError("%s: no parameter list: %s" % (where, line[:200]))
    params = q.arg_types(")")
    return name, signature(ret, params), internal, weak


def parse_call(line, where):
    """Returns ("direct", name) / ("indirect", sig) / None (inline asm, intrinsic)."""
    m = CALL_RE.search(line)
    p = Parser(line, where)
    p.i = m.end()
    p.skip_call_prefix()
    ty = p.type()
    p.ws()
    explicit_fn_type = ty.endswith(")")
    if p.peek("asm"):
        return None
    if p.peek("@"):
        mm = GLOBAL_REF_RE.match(p.s, p.i)
        name = strip_name(mm.group(1))
        for prefix, target in INTRINSIC_CALLS.items():
            if name.startswith(prefix + "."):
                return ("direct", target)
        if name.startswith("llvm."):
            return None
        return ("direct", name)
    if p.peek("bitcast") or p.peek("inttoptr") or p.peek("getelementptr"):
        # A constant expression as callee: a cast of a known function is a direct call.
        start = p.i
        p.i += len(p.word())
        p.skip_balanced()
        mm = GLOBAL_REF_RE.search(p.s, start, p.i)
        if mm and p.s[start:].startswith("bitcast"):
            return ("direct", strip_name(mm.group(1)))
    callee = None  # an SSA value, or None for a constant expression
    if p.peek("%"):
        mm = re.compile(r"%" + IDENT).match(p.s, p.i)
        p.i = mm.end()
        callee = mm.group(0)
    elif not p.peek("("):
        p.fail("callee")
    if explicit_fn_type:
        return ("indirect", ty, callee)
    if not p.eat("("):
        p.fail("call arguments")
    return ("indirect", signature(ty, p.arg_types(")")), callee)


def cast_targets(line, where):
    """(function name, type it is cast to) for every `bitcast (T* @f to U*)` on a line."""
    out = []
    for m in re.finditer(r"bitcast \(", line):
        p = Parser(line, where)
        p.i = m.end()
        try:
            p.type()
            ref = GLOBAL_REF_RE.match(line, p.i + (1 if line[p.i] == " " else 0))
            if not ref:
                continue
            p.i = ref.end()
            if not p.eat("to"):
                continue
            to = p.type()
        except IRError:
            continue
        if to.endswith("*"):
            out.append((strip_name(ref.group(1)), to[:-1]))
    return out


CONST_EXPRS = ("getelementptr", "bitcast", "ptrtoint", "inttoptr", "addrspacecast")


def parse_value(p):
    """The text of one operand value at p (a name, a constant or a constant expression)."""
    p.ws()
    start = p.i
    w = p.word()
    if w in CONST_EXPRS:
        p.i += len(w)
        if p.peek("inbounds"):
            p.i += len("inbounds")
        p.skip_balanced()
    elif p.s[p.i:p.i + 1] in "{[<\"":
        p.skip_balanced()
    else:
        m = re.compile(r"[%@]?" + IDENT + r"|-?[0-9.e+]+|[A-Za-z_]+").match(p.s, p.i)
        if not m:
            p.fail("value")
        p.i = m.end()
    return p.s[start:p.i].strip()


def function_of(value):
    """The function a value names: @f, or a cast of @f; else None."""
    m = re.match(r"^(?:@(" + IDENT + r")|(?:bitcast|addrspacecast) \(.* @(" + IDENT +
                 r") to .*\))$", value)
    if not m:
        return None
    return strip_name(m.group(1) or m.group(2))


def parse_gep(text, where):
    """(base type, indices) of a getelementptr instruction or constant expression body:
    `[inbounds] T, T* ptr, idx...` (an index is an int, or None when not constant)."""
    p = Parser(text, where)
    p.eat("inbounds")
    base = p.type()
    if not p.eat(","):
        p.fail("getelementptr")
    p.type()
    parse_value(p)
    idx = []
    while p.eat(","):
        if p.peek("inrange"):
            p.i += len("inrange")
        p.type()
        v = parse_value(p)
        idx.append(int(v) if re.match(r"^-?[0-9]+$", v) else None)
    return base, idx


def field_of_gep(structs, base, idx):
    """The innermost (struct, field index) a getelementptr selects, or None."""
    cur, field = base, None
    for k in idx[1:]:
        if cur in structs:
            if k is None or k >= len(structs[cur]):
                return None
            field = (cur, k)
            cur = structs[cur][k]
        elif cur.startswith("["):
            cur = re.match(r"^\[[0-9]+ x (.*)\]$", cur).group(1)
        else:
            return None
    return field


def first_field(structs, struct):
    """The field at offset 0 of struct (descending into nested first fields)."""
    field = None
    while struct in structs and structs[struct]:
        field = (struct, 0)
        struct = structs[struct][0]
    return field


def pointer_field(structs, defs, operand, where):
    """The struct field a pointer operand points at (an SSA name or a constant
    expression), or None when it is not one."""
    if operand.startswith("%"):
        d = defs.get(operand)
        if d is None:
            return None
        kind, a, b = d
        if kind == "gep":
            return field_of_gep(structs, a, b)
        if kind == "bitcast" and a.endswith("*") and a[:-1] in structs:
            return first_field(structs, a[:-1])
        return None
    m = re.match(r"^getelementptr(?: inbounds)? \((.*)\)$", operand)
    if m:
        base, idx = parse_gep(m.group(1), where)
        return field_of_gep(structs, base, idx)
    m = re.match(r"^bitcast \((%[^ ]+)\* .* to .*\)$", operand)
    if m and m.group(1) in structs:
        return first_field(structs, m.group(1))
    return None


DEF_RE = re.compile(r"^\s*(%" + IDENT + r") = (.*)$")


def body_defs(lines, where):
    """SSA definitions a field lookup needs: getelementptr, bitcast and load."""
    defs = {}
    for line in lines:
        m = DEF_RE.match(line)
        if not m:
            continue
        name, rhs = m.group(1), m.group(2)
        try:
            if rhs.startswith("getelementptr "):
                defs[name] = ("gep",) + parse_gep(rhs[len("getelementptr "):], where)
            elif rhs.startswith("bitcast "):
                p = Parser(rhs, where)
                p.i = len("bitcast")
                frm = p.type()
                parse_value(p)
                p.eat("to")
                defs[name] = ("bitcast", frm, p.type())
            elif rhs.startswith("load "):
                p = Parser(rhs, where)
                p.i = len("load")
                p.eat("volatile")
                p.type()
                p.eat(",")
                p.type()
                defs[name] = ("load", parse_value(p), None)
        except IRError:
            continue
    return defs


def const_fields(p, ty, field, structs, out, where):
    """Walks a constant of type ty at p; appends (function, field) for every function
    stored directly into a field of a named struct (field: the one this constant fills,
    or None)."""
    p.ws()
    if ty in structs and (p.peek("{") or p.peek("<{")):
        p.eat("<")
        p.eat("{")
        k = 0
        while not p.eat("}"):
            et = p.type()
            const_fields(p, et, (ty, k), structs, out, where)
            k += 1
            p.eat(",")
        p.eat(">")
        return
    if ty.startswith("[") and p.peek("["):
        et = re.match(r"^\[[0-9]+ x (.*)\]$", ty).group(1)
        p.eat("[")
        while not p.eat("]"):
            p.type()
            const_fields(p, et, field, structs, out, where)
            p.eat(",")
        return
    v = parse_value(p)
    f = function_of(v)
    if f is not None and field is not None:
        out.append((f, field))


def global_fields(line, structs, where):
    """(function, field) pairs of a global variable's initializer."""
    m = re.match(r"^@" + IDENT + r" = [^=]*?\b(global|constant) ", line)
    if not m:
        return []
    p = Parser(line, where)
    p.i = m.end()
    out = []
    try:
        ty = p.type()
        const_fields(p, ty, None, structs, out, where)
    except (IRError, ValueError, IndexError):
        return []
    return out


def store_parts(line, where):
    """(value, pointer operand) of a store instruction, or None."""
    m = re.match(r"^\s*store (?:atomic )?(?:volatile )?", line)
    if not m:
        return None
    p = Parser(line, where)
    p.i = m.end()
    p.type()
    value = parse_value(p)
    if not p.eat(","):
        return None
    p.type()
    return value, parse_value(p)


def parse_module(path):
    mod = Module(path)
    with open(path) as f:
        lines = f.read().split("\n")
    # Named struct types first: field lookups need them wherever they are used.
    for n, line in enumerate(lines, 1):
        m = re.match(r"^(%" + IDENT + r") = type (.*)$", line)
        if m and not m.group(2).startswith("opaque"):
            p = Parser(m.group(2), "%s:%d" % (path, n))
            try:
                body = p.type()
            except IRError:
                continue
            name = STRUCT_SUFFIX_RE.sub(r"\1", m.group(1))
            fields = re.match(r"^<?\{(.*)\}>?$", body)
            if fields:
                q = Parser("{" + fields.group(1) + "}", "%s:%d" % (path, n))
                q.eat("{")
                mod.structs.setdefault(name, q.type_list("}"))
    cur = None
    body = []
    for n, line in enumerate(lines, 1):
        where = "%s:%d" % (path, n)
        if line.startswith("source_filename"):
            mod.source = line.split('"')[1]
            continue
        if DEFINE_RE.match(line):
            name, sig, internal, weak = parse_function_header(line, where)
            cur = Function(None, name, path, sig)
            cur.line = n
            cur.weak = weak
            mod.defined[name] = cur
            if internal:
                mod.internal.add(name)
            header_refs = GLOBAL_REF_RE.findall(line)[1:]  # personality etc.
            for r in header_refs:
                mod.refs.setdefault(strip_name(r), set()).add("")
                mod.escapes[strip_name(r)] = mod.escapes.get(strip_name(r), 0) + 1
            body = []
            continue
        if DECLARE_RE.match(line):
            name, sig, _, _ = parse_function_header(line, where)
            mod.declared[name] = sig
            continue
        if cur is not None and line == "}":
            parse_body(mod, cur, body)
            cur = None
            continue
        if line.startswith(";") or line.startswith("!") or line.startswith("attributes"):
            continue
        if cur is not None:
            body.append((n, line))
            continue
        # A global: every function it mentions escapes; those sitting in a field of a
        # named struct constant are recorded with that field.
        for name, field in global_fields(line, mod.structs, where):
            mod.field_refs.setdefault(name, []).append(field)
        note_refs(mod, line, None, where)
    if mod.source is None:
        raise IRError("%s: no source_filename (not LLVM IR?)" % path)
    return mod


def note_refs(mod, line, callee, where):
    """Every mention of a global on a line other than a direct callee may take a
    function's address (with the types it is cast to)."""
    refs = [strip_name(r) for r in GLOBAL_REF_RE.findall(line)]
    if callee is not None and callee in refs:
        refs.remove(callee)
    for r in refs:
        mod.refs.setdefault(r, set()).add("")
        mod.escapes[r] = mod.escapes.get(r, 0) + 1
    for name, to in cast_targets(line, where):
        mod.refs.setdefault(name, set()).add(to)


def parse_body(mod, fn, body):
    """Calls, stores into struct fields and address-taking in one function's body."""
    where0 = "%s:%d" % (mod.path, fn.line)
    defs = body_defs([l for _, l in body], where0)
    for n, line in body:
        where = "%s:%d" % (mod.path, n)
        callee_tok = None
        if CALL_RE.search(line):
            call = parse_call(line, where)
            if call is not None:
                if call[0] == "direct":
                    fn.direct.add(call[1])
                    mod.called.add(call[1])
                    callee_tok = call[1]
                else:
                    _, sig, operand = call
                    field = None
                    d = defs.get(operand) if operand else None
                    if d is not None and d[0] == "load":
                        field = pointer_field(mod.structs, defs, d[1], where)
                    fn.indirect.append((sig, field))
        st = store_parts(line, where)
        if st is not None:
            value, ptr = st
            field = pointer_field(mod.structs, defs, ptr, where)
            if field is not None:
                f = function_of(value)
                d = defs.get(value)
                if f is not None:
                    mod.field_refs.setdefault(f, []).append(field)
                elif d is not None and d[0] == "load" and \
                        pointer_field(mod.structs, defs, d[1], where) is not None:
                    mod.field_copies.append(
                        (pointer_field(mod.structs, defs, d[1], where), field))
                elif value not in ("null", "undef", "poison", "zeroinitializer"):
                    mod.open_fields.add(field)
        note_refs(mod, line, callee_tok, where)


# ---------------------------------------------------------------------------------------
# Stack usage files
# ---------------------------------------------------------------------------------------

def read_su(path):
    """{(source file, function name): (bytes, qualifiers)} from one .su file."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            loc, size, qual = line.split("\t")
            # loc is FILE:LINE:NAME (clang 14) or FILE:LINE:COL:NAME
            parts = loc.rsplit(":", 2)
            name = parts[-1]
            src = parts[0]
            if re.match(r".*:[0-9]+$", src):
                src = src.rsplit(":", 1)[0]
            out[(os.path.normpath(src), name)] = (int(size), qual)
    return out


# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------

class Conf:
    def __init__(self):
        self.stack_size = None
        self.margin = None
        self.bounds = {}         # function -> (n, why)
        self.asm = {}            # function -> dict(frame, calls, faults)
        self.fault_node = None   # what a fault in an asm routine nests (an asm name)
        self.interrupt = None    # the node a nested interrupt runs
        self.roots = []          # (name, nested interrupt?)
        self.syscalls = None     # (dispatcher, [chain above it], nested?)
        self.dynamic = {}        # function -> (bytes, why)
        self.traps = {}          # pseudo node -> (frame bytes, [through chain], [calls])
        self.testonly = []       # regexes of source paths whose code runs only in tests
        self.terminal = {}       # function -> why: ends the machine; only its frame counts


def read_conf(path):
    conf = Conf()
    with open(path) as f:
        lines = f.read().split("\n")
    entries = []
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if raw[:1] in " \t":
            if not entries:
                raise IRError("%s:%d: continuation line without an entry" % (path, n))
            entries[-1][1].append(line.strip())
        else:
            entries.append((n, [line.strip()]))
    for n, parts in entries:
        words = parts[0].split()
        why = " ".join(parts[1:])
        if words[0] not in ("bound", "dynamic", "terminal"):
            words += why.split()  # continued on the next lines
            why = ""
        where = "%s:%d" % (path, n)
        kind = words[0]
        try:
            if kind == "stack":
                conf.stack_size = int(words[1], 0)
                if words[2] != "margin":
                    raise ValueError
                conf.margin = int(words[3], 0)
            elif kind == "bound":
                if not why:
                    raise IRError("%s: bound %s needs its reason on the lines below" %
                                  (where, words[1]))
                conf.bounds[words[1]] = (int(words[2]), why)
            elif kind == "dynamic":
                if not why:
                    raise IRError("%s: dynamic %s needs its reason" % (where, words[1]))
                conf.dynamic[words[1]] = (int(words[2], 0), why)
            elif kind == "asm":
                a = {"frame": None, "calls": [], "faults": False}
                i = 2
                while i < len(words):
                    if words[i] == "frame":
                        a["frame"] = int(words[i + 1], 0)
                        i += 2
                    elif words[i] == "calls":
                        a["calls"] = words[i + 1:]
                        break
                    elif words[i] == "faults":
                        a["faults"] = True
                        i += 1
                    else:
                        raise ValueError
                if a["frame"] is None:
                    raise ValueError
                conf.asm[words[1]] = a
            elif kind == "trap":
                if words[2] != "frame" or words[4] != "through" or "calls" not in words:
                    raise ValueError
                k = words.index("calls")
                if k == 5:
                    raise ValueError
                conf.traps[words[1]] = (int(words[3], 0), words[5:k], words[k + 1:])
            elif kind == "terminal":
                if not why:
                    raise IRError("%s: terminal %s needs its reason" % (where, words[1]))
                conf.terminal[words[1]] = why
            elif kind == "testonly":
                conf.testonly.append(re.compile(words[1]))
            elif kind == "fault":
                conf.fault_node = words[1]
            elif kind == "interrupt":
                conf.interrupt = words[1]
            elif kind == "root":
                conf.roots.append((words[1], "+interrupt" in words[2:]))
            elif kind == "syscalls":
                nested = "+interrupt" in words
                chain = [w for w in words[1:] if w != "+interrupt"]
                conf.syscalls = (chain[-1], chain[:-1], nested)
            else:
                raise ValueError
        except (ValueError, IndexError):
            raise IRError("%s: cannot read: %s" % (where, parts[0]))
    if conf.stack_size is None:
        raise IRError("%s: no `stack SIZE margin BYTES` line" % path)
    return conf


# ---------------------------------------------------------------------------------------
# The graph
# ---------------------------------------------------------------------------------------

class Graph:
    def __init__(self):
        self.funcs = {}          # key -> Function
        self.errors = []
        self.notes = []

    def add(self, fn):
        self.funcs[fn.key] = fn


def build_graph(modules, su, conf):
    g = Graph()
    globals_ = {}
    for mod in modules:
        for name, fn in mod.defined.items():
            internal = name in mod.internal
            fn.key = "%s:%s" % (os.path.basename(mod.source), name) if internal else name
            fn.tu = mod.source
            if not internal:
                other = globals_.get(name)
                if other is not None and not (other.weak or fn.weak):
                    g.errors.append("%s is defined in %s and %s" %
                                    (name, other.tu, mod.source))
                if other is None or other.weak:
                    globals_[name] = fn
                    if other is not None:
                        del g.funcs[other.key]  # a weak definition the linker drops
                elif fn.weak:
                    continue
            g.add(fn)
            entry = su.get((os.path.normpath(mod.source), name))
            if entry is None:
                g.errors.append("%s (%s): no -fstack-usage entry" % (name, mod.source))
                fn.frame = 0
                continue
            size, qual = entry
            if qual != "static":
                if name in conf.dynamic:
                    size = conf.dynamic[name][0]
                else:
                    g.errors.append("%s (%s): %s stack frame (%d bytes known); bound it with "
                                    "a `dynamic` line or make it static" %
                                    (name, mod.source, qual, size))
            fn.frame = size + 8  # the return address pushed by the call
    for name, a in conf.asm.items():
        if name in globals_:
            g.errors.append("asm %s is also defined in C" % name)
            continue
        fn = Function(name, name, "(assembly)", None)
        fn.frame = a["frame"]
        fn.testonly = False
        fn.direct = set(a["calls"])
        if a["faults"]:
            if conf.fault_node is None:
                g.errors.append("asm %s faults but the conf has no `fault` line" % name)
            else:
                fn.direct.add(conf.fault_node)
        g.add(fn)
        globals_[name] = fn

    def resolve(mod, name):
        if mod is not None and name in mod.defined:
            return mod.defined[name]
        return globals_.get(name)

    for fn in g.funcs.values():
        fn.testonly = any(r.search(fn.tu) for r in conf.testonly)

    # Address-taken functions by signature.
    targets = {}
    for mod in modules:
        for name, casts in mod.refs.items():
            sig = mod.declared.get(name)
            fn = resolve(mod, name)
            if name in mod.defined:
                sig = mod.defined[name].sig
            if fn is None or sig is None:
                continue  # a variable, or a function no kernel code defines
            for to in casts:
                targets.setdefault(sig if to == "" else to, set()).add(fn.key)
    g.targets = targets

    # Struct fields (resolve_indirect): which functions are stored into each, and which
    # functions also escape some other way (an argument, a literal-typed constant, ...).
    members, escapes, attributed = {}, {}, {}
    open_fields, copies_into = set(), {}
    for mod in modules:
        for name, count in mod.escapes.items():
            fn = resolve(mod, name)
            if fn is not None:
                escapes[fn.key] = escapes.get(fn.key, 0) + count
        for name, fields in mod.field_refs.items():
            fn = resolve(mod, name)
            if fn is None:
                continue
            attributed[fn.key] = attributed.get(fn.key, 0) + len(fields)
            for fld in fields:
                members.setdefault(fld, set()).add(fn.key)
        open_fields |= mod.open_fields
        for src, dst in mod.field_copies:
            copies_into.setdefault(dst, set()).add(src)
    loose = {k for k, c in escapes.items() if c > attributed.get(k, 0)}

    def resolve_indirect(sig, fld):
        """Targets of an indirect call of type sig through field fld (None: unknown)."""
        everything = targets.get(sig, set())
        if fld is None:
            return everything
        closure, todo = set(), [fld]
        while todo:
            f = todo.pop()
            if f in closure:
                continue
            if f in open_fields:
                return everything  # something other than a function went in: no narrowing
            closure.add(f)
            todo.extend(copies_into.get(f, ()))
        hits = set()
        for f in closure:
            hits |= members.get(f, set())
        return hits | (everything & loose)

    mod_of = {}
    for mod in modules:
        for fn in mod.defined.values():
            mod_of[fn.key] = mod
    # A trap: the frames of the `through` chain (each calling the next), then only the
    # listed calls, each made by some function of the chain.
    for name, (frame, through, calls) in conf.traps.items():
        chain = []
        for i, t in enumerate(through):
            via = resolve(mod_of.get(chain[-1].key) if chain else None, t)
            if via is None:
                g.errors.append("trap %s: no function %s (kernel/kstack.conf follows the "
                                "handler's code: update the trap line)" % (name, t))
                break
            if chain and t not in chain[-1].direct:
                g.errors.append("trap %s: %s does not call %s" % (name, chain[-1].name, t))
            chain.append(via)
        if len(chain) != len(through):
            continue
        fn = Function(name, name, "(trap)", None)
        fn.frame = frame + sum(v.frame for v in chain)
        fn.testonly = False
        g.add(fn)
        globals_[name] = fn
        for c in calls:
            caller = next((v for v in chain if c in v.direct), None)
            if caller is None:
                g.errors.append("trap %s: no function of %s calls %s" %
                                (name, " > ".join(through), c))
                continue
            callee = resolve(mod_of.get(caller.key), c)
            if callee is not None:
                fn.callees.add(callee.key)
    for fn in list(g.funcs.values()):
        mod = mod_of.get(fn.key)
        for name in sorted(fn.direct):
            callee = resolve(mod, name)
            if callee is None:
                g.errors.append("%s calls %s, which no kernel C file defines and no `asm` "
                                "line describes" % (fn.key, name))
                continue
            fn.callees.add(callee.key)
        for sig, fld in fn.indirect:
            fn.callees.update(resolve_indirect(sig, fld))
    return g


def check_asm_sources(asm_paths, conf, g):
    """Every `call SYMBOL` in the kernel's .S files must be an edge of some `asm` line."""
    described = set()
    for a in conf.asm.values():
        described.update(a["calls"])
    for path in asm_paths:
        with open(path) as f:
            text = f.read()
        # Blank out comments, keeping line numbers.
        text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text,
                      flags=re.S)
        for n, line in enumerate(text.split("\n"), 1):
            code = line.split("//")[0]
            m = re.match(r"\s*(?:[A-Za-z_0-9]+:\s*)*call\s+([A-Za-z_][A-Za-z0-9_]*)\b", code)
            if m and m.group(1) not in described:
                g.errors.append("%s:%d: assembly calls %s, which no `asm ... calls` "
                                "line of the conf lists" % (path, n, m.group(1)))


def sccs(g, skip):
    """Strongly connected components of the graph without `skip` that hold a cycle (more
    than one function, or one that calls itself)."""
    nodes = [f for f in sorted(g.funcs) if f not in skip]
    comps = graphs.strongly_connected(nodes, lambda f: g.funcs[f].callees)
    return [c for c in comps if len(c) > 1 or c[0] in g.funcs[c[0]].callees]


def cycle_in(g, comp):
    """One concrete cycle inside a strongly connected component, as a list of keys."""
    members = set(comp)
    start = comp[0]
    # BFS from start's callees back to start, inside the component.
    prev = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(g.funcs[v].callees):
                if w not in members:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    path.reverse()
                    return path + [start]
                if w not in seen:
                    seen.add(w)
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return comp


def check_recursion(g, conf):
    # A bound names a function; static functions of that name in several files all get it.
    bounded = {k for k, f in g.funcs.items() if f.name in conf.bounds}
    for name in conf.bounds:
        if not any(f.name == name for f in g.funcs.values()):
            g.errors.append("bound %s: no such function" % name)
    bad = sccs(g, bounded)
    for comp in bad:
        cyc = cycle_in(g, comp)
        msg = "recursion not through a bounded function: %s" % " -> ".join(cyc)
        if len(comp) > len(cyc) - 1:
            msg += " (the component has %d functions: %s)" % (
                len(comp), " ".join(g.funcs[k].name for k in comp))
        g.errors.append(msg)
    # Cycles through bounded functions: the components of the whole graph.
    allc = sccs(g, set())
    g.cycles = []
    for comp in allc:
        through = sorted(k for k in comp if k in bounded)
        g.cycles.append((comp, through))
    in_cycle = set(k for comp in allc for k in comp)
    for name in sorted(conf.bounds):
        keys = [k for k in bounded if g.funcs[k].name == name]
        if keys and not any(k in in_cycle for k in keys):
            g.errors.append("bound %s: it is in no call cycle (remove the entry)" % name)
    g.bounded = {k for k in bounded if k in in_cycle}
    return not bad


class DepthCalc:
    """Deepest stack path from a function, each bounded function entered at most N times."""

    def __init__(self, g, conf):
        self.g = g
        self.order = sorted(g.bounded)
        self.pos = {k: i for i, k in enumerate(self.order)}
        self.full = tuple(conf.bounds[g.funcs[k].name][0] for k in self.order)
        self.terminal = conf.terminal
        self.memo = {}

    def start_budget(self, key):
        b = list(self.full)
        if key in self.pos:
            b[self.pos[key]] -= 1
        return tuple(b)

    def depth(self, key, budget=None):
        """(bytes, path of keys) for the deepest stack below and including key."""
        if budget is None:
            budget = self.start_budget(key)
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 100000))
        return self._depth(key, budget)

    def _depth(self, key, budget):
        mk = (key, budget)
        if mk in self.memo:
            return self.memo[mk]
        self.memo[mk] = None  # in progress: reaching it again would be an unbounded cycle
        fn = self.g.funcs[key]
        best, best_path = 0, []
        if fn.name in self.terminal:
            res = (fn.frame, [key])
            self.memo[mk] = res
            return res
        for c in sorted(fn.callees):
            if self.g.funcs[c].testonly and not fn.testonly:
                continue  # a test's callback: reached only while tests run
            b = budget
            if c in self.pos:
                i = self.pos[c]
                if b[i] == 0:
                    continue
                b = b[:i] + (b[i] - 1,) + b[i + 1:]
            sub = self._depth(c, b)
            if sub is None:
                raise IRError("unbounded recursion through %s -> %s" % (key, c))
            if sub[0] > best:
                best, best_path = sub
        res = (fn.frame + best, [key] + best_path)
        self.memo[mk] = res
        return res


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

def short_path(path, g):
    """Names along a path; a run of the same function is written once, with its count."""
    out = []
    for k in path:
        name = g.funcs[k].name
        if out and out[-1][0] == name:
            out[-1][1] += 1
        else:
            out.append([name, 1])
    return " > ".join(n if c == 1 else "%s x%d" % (n, c) for n, c in out)


def analyse(conf, modules, su, asm_paths):
    g = build_graph(modules, su, conf)
    check_asm_sources(asm_paths, conf, g)
    for name in list(conf.terminal):
        if not any(f.name == name for f in g.funcs.values()):
            g.errors.append("terminal %s: no such function" % name)
    for name in [r for r, _ in conf.roots] + ([conf.interrupt] if conf.interrupt else []):
        if name not in g.funcs:
            g.errors.append("root %s: no such function" % name)
    if conf.syscalls:
        for name in conf.syscalls[1] + [conf.syscalls[0]]:
            if name not in g.funcs:
                g.errors.append("syscalls: no function %s" % name)
    recursion_ok = check_recursion(g, conf)
    limit = conf.stack_size - conf.margin
    lines = []
    rows = []
    if recursion_ok and not g.errors:
        calc = DepthCalc(g, conf)
        irq = calc.depth(conf.interrupt) if conf.interrupt else (0, [])
        for name, nested in conf.roots:
            d, path = calc.depth(name)
            total = d + (irq[0] if nested else 0)
            rows.append(("entry", name, d, total, path, nested))
        if conf.syscalls:
            disp, chain, nested = conf.syscalls
            above = sum(g.funcs[k].frame for k in chain + [disp])
            for c in sorted(g.funcs[disp].callees):
                if not g.funcs[c].name.startswith("sys_"):
                    continue
                d, path = calc.depth(c)
                total = above + d + (irq[0] if nested else 0)
                rows.append(("syscall", "zx_" + g.funcs[c].name[4:], above + d, total,
                             chain + [disp] + path, nested))
        for kind, name, d, total, path, nested in rows:
            if total > limit:
                g.errors.append("%s %s: worst case %d bytes > %d (stack %d - margin %d)" %
                                (kind, name, total, limit, conf.stack_size, conf.margin))
        g.irq = irq
    else:
        g.irq = None
    return g, rows, limit


def format_report(conf, g, rows, limit):
    out = []
    w = out.append
    w("Kernel call graph and stack check (tools/kstack.py, docs/kernel-stack.md)")
    w("")
    w("kernel stack %d bytes, margin %d: every entry must stay within %d bytes" %
      (conf.stack_size, conf.margin, limit))
    nfun = sum(1 for f in g.funcs.values() if f.tu != "(assembly)")
    nedge = sum(len(f.callees) for f in g.funcs.values())
    w("%d C functions, %d assembly routines, %d call edges (%d indirect call sites)" %
      (nfun, len(conf.asm), nedge, sum(len(f.indirect) for f in g.funcs.values())))
    nfield = sum(1 for f in g.funcs.values() for _, fld in f.indirect if fld is not None)
    w("%d of the indirect call sites load the function from a struct field" % nfield)
    w("")
    if g.errors:
        w("ERRORS")
        for e in g.errors:
            w("  " + e)
        w("")
    w("Recursion: call cycles and the bounded functions they pass through")
    cycles = getattr(g, "cycles", [])
    if not cycles:
        w("  (none)")
    for comp, through in cycles:
        names = ", ".join(g.funcs[k].name for k in through) or "NOTHING BOUNDED"
        w("  %d functions, through %s:" % (len(comp), names))
        w("    " + " ".join(g.funcs[k].name for k in comp))
    w("")
    w("Bounds (kernel/kstack.conf)")
    for name, (n, why) in sorted(conf.bounds.items()):
        w("  %s: at most %d active on one stack. %s" % (name, n, why))
    w("")
    if g.irq:
        w("Nested interrupt (%s): %d bytes: %s" % (conf.interrupt, g.irq[0],
                                                   short_path(g.irq[1], g)))
        w("")
    if rows:
        w("%-8s %-32s %8s %8s  deepest path" % ("kind", "name", "path", "+irq"))
        for kind, name, d, total, path, nested in sorted(rows, key=lambda r: (r[0], -r[3])):
            w("%-8s %-32s %8d %8d  %s" % (kind, name, d, total, short_path(path, g)))
    return "\n".join(out) + "\n"


DOC_BEGIN = "<!-- kstack table: generated by tools/kstack.py --write-doc; do not edit -->"
DOC_END = "<!-- kstack table end -->"
# A figure in the doc may drift this far from the build's before the doc counts as stale.
DOC_TOLERANCE = 256


def doc_table(conf, rows, limit):
    """The generated part of docs/kernel-stack.md: one line per entry and syscall."""
    out = [DOC_BEGIN, "",
           "Kernel stack %d bytes, margin %d: the check fails above %d bytes." %
           (conf.stack_size, conf.margin, limit), "",
           "| entry | deepest path (bytes) | with a nested interrupt (bytes) |",
           "|---|---:|---:|"]
    for kind, name, d, total, path, nested in sorted(rows, key=lambda r: (r[0], r[1])):
        label = name if kind == "syscall" else "%s (%s)" % (name, kind)
        out.append("| `%s` | %d | %s |" % (label, d, total if nested else "-"))
    out += ["", DOC_END]
    return "\n".join(out) + "\n"


def doc_figures(text):
    """{entry label: (path bytes, total or None)} from a doc's generated table."""
    figs = {}
    for m in re.finditer(r"^\| `([^`]+)` \| ([0-9]+) \| ([0-9]+|-) \|$", text, re.M):
        figs[m.group(1)] = (int(m.group(2)), None if m.group(3) == "-" else int(m.group(3)))
    return figs


def write_doc(path, table):
    with open(path) as f:
        text = f.read()
    if DOC_BEGIN not in text or DOC_END not in text:
        raise IRError("%s: no generated table markers" % path)
    head = text[:text.index(DOC_BEGIN)]
    tail = text[text.index(DOC_END) + len(DOC_END) + 1:]
    with open(path, "w") as f:
        f.write(head + table + tail)


def check_doc(path, table):
    """Problems with the doc's table against the build's (empty: fresh enough)."""
    with open(path) as f:
        have = doc_figures(f.read())
    want = doc_figures(table)
    problems = []
    for label in sorted(set(have) | set(want)):
        if label not in have:
            problems.append("%s: missing from the doc" % label)
        elif label not in want:
            problems.append("%s: in the doc but not in the kernel" % label)
        else:
            for what, a, b in (("path", have[label][0], want[label][0]),
                               ("with interrupt", have[label][1], want[label][1])):
                if (a is None) != (b is None) or (a is not None and abs(a - b) > DOC_TOLERANCE):
                    problems.append("%s: %s %s in the doc, %s now" % (label, what, a, b))
    return problems


def read_inputs(path):
    irs, objs, asms = [], [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            kind, p = line.split(" ", 1)
            {"ir": irs, "object": objs, "asm": asms}[kind].append(p)
    return irs, objs, asms


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conf", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--report")
    ap.add_argument("--no-fail", action="store_true",
                    help="exit 0 even when a rule is broken or an input unreadable (the "
                         "report says so): the build writes the report, ctest fails")
    ap.add_argument("--write-doc", metavar="MD",
                    help="rewrite the generated table in MD (docs/kernel-stack.md)")
    ap.add_argument("--check-doc", metavar="MD",
                    help="fail if a figure in MD's table is off by more than %d bytes" %
                         DOC_TOLERANCE)
    args = ap.parse_args(argv)
    try:
        conf = read_conf(args.conf)
        irs, objs, asms = read_inputs(args.inputs)
        modules = [parse_module(p) for p in irs]
        su = {}
        for o in objs:
            if o.endswith(".S.o"):
                continue
            # clang writes no .su for an object that defines no function (sched/lockdep.c
            # outside the validator's kernel); a function whose entry is then missing is
            # still reported ("no -fstack-usage entry").
            if os.path.exists(o[:-2] + ".su"):
                su.update(read_su(o[:-2] + ".su"))
        g, rows, limit = analyse(conf, modules, su, asms)
    except (IRError, OSError) as e:
        print("kstack: %s" % e, file=sys.stderr)
        if args.report:
            with open(args.report, "w") as f:
                f.write("ERROR: kstack: %s\n" % e)
        return 0 if args.no_fail else 2
    report = format_report(conf, g, rows, limit)
    if args.report:
        with open(args.report, "w") as f:
            f.write(report)
    if g.errors:
        sys.stdout.write(report)
        print("kstack: %d problem(s)" % len(g.errors), file=sys.stderr)
        return 0 if args.no_fail else 1
    table = doc_table(conf, rows, limit)
    if args.write_doc:
        write_doc(args.write_doc, table)
    if args.check_doc:
        problems = check_doc(args.check_doc, table)
        for p in problems:
            print("kstack: %s: %s" % (args.check_doc, p), file=sys.stderr)
        if problems:
            print("kstack: the table is stale; regenerate it with "
                  "`cmake --build build --target kernel_stack_doc`", file=sys.stderr)
            return 0 if args.no_fail else 1
        print("kstack: %s matches the build (within %d bytes)" %
              (args.check_doc, DOC_TOLERANCE))
        return 0
    worst = max(rows, key=lambda r: r[3]) if rows else None
    if worst:
        print("kstack: no unbounded recursion; deepest: %s %s %d bytes of %d allowed" %
              (worst[0], worst[1], worst[3], limit))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
