"""gdb helpers for Beryl's kernel (loaded by tools/gdb/beryl.gdb; docs/debugging.md).

Every command reads the kernel's own data structures out of guest memory, through the
kernel's symbols and DWARF types (build/kernel/kernel.elf, built -O2 -g): globals by name,
struct fields by name, so they survive code generation changes. They need a kernel that
has got past its early boot (the scheduler started); before that the memory they read
is not there yet.

  beryl-ps                    processes: koid, state, threads, name
  beryl-threads               threads: koid, state, process, name
  beryl-vmar KOID|NAME        a process's VMAR tree and mappings
  beryl-walk VA [KOID|NAME]   the page-table walk for VA, from CR3 or a process's tables
  beryl-load-user NAME        symbols of user program NAME (e.g. crash/write_ro)

How processes and threads are found: the kernel keeps no list of every process or thread,
so the helpers walk what it does keep, from the scheduler's globals (the running thread,
the run queue, the sleepers' tree, the idle, reaper and bootstrap threads, the reap list):
a user thread leads to its process; a process leads to its thread list and to every
object in its handle table (processes, threads, and the threads blocked on any of those
objects); a blocked thread leads to the object it waits on. That reaches every process
that has a thread or is held by a handle of a process reached; a process with no thread
that only a channel message holds is missed.

It also adds an unwinder (KernelInterruptUnwinder, at the end) so that `bt` from a handler
of an exception or interrupt taken in kernel mode continues into the interrupted code.
"""
import os
import re

import gdb
from gdb.unwinder import Unwinder, register_unwinder

PHYSMAP_BASE = 0xffff800000000000  # kernel/phys/include/phys/physmap.h
HT_CHUNK_SLOTS = 64  # kernel/object/handle_table.c: chunks[i] holds slots [i*64, i*64+64)
ZX_OBJ_TYPE_PROCESS = 1  # zircon/types.h
ZX_OBJ_TYPE_THREAD = 2
ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, ZX_VM_PERM_EXECUTE = 1, 2, 4
X86_CR4_LA57 = 1 << 12
PTE_ADDR_MASK = 0x000ffffffffff000
# The kernel's kobject_ops tables (file-static), by which the walk recognizes an object.
KOBJECT_OPS = (("process_ops", "process.c"), ("uthread_ops", "uthread.c"),
               ("job_ops", "job.c"), ("resource_ops", "job.c"),
               ("channel_ops", "channel.c"), ("vmo_dispatcher_ops", "vmo_dispatcher.c"),
               ("vmar_dispatcher_ops", "vmar_dispatcher.c"))
# Bounds on every walk: a corrupt list or tree ends the walk instead of looping.
MAX_ITEMS = 100000
MAX_VMAR_DEPTH = 64


_kernel_block = []


def _type(name):
    """A type of the kernel's DWARF: looked up from a kernel block first, so that a user
    program's symbols (beryl-load-user) never shadow a kernel struct of the same name."""
    if not _kernel_block:
        try:
            _kernel_block.append(gdb.lookup_global_symbol("kmain").symtab.global_block())
        except (AttributeError, gdb.error):
            _kernel_block.append(None)
    if _kernel_block[0] is not None:
        try:
            return gdb.lookup_type(name, _kernel_block[0])
        except gdb.error:
            pass
    return gdb.lookup_type(name)


def _offset(struct, field):
    """Byte offset of `field` (a dotted path) inside struct type `struct`."""
    off = 0
    t = _type(struct) if isinstance(struct, str) else struct
    for part in field.split("."):
        t = t.strip_typedefs()
        f = next(f for f in t.fields() if f.name == part)
        off += f.bitpos // 8
        t = f.type
    return off


def _ptr(addr, type_name):
    return gdb.Value(addr).cast(_type(type_name).pointer())


def _addr(v):
    return int(v.cast(_type("unsigned long")))


def _static(filename, name):
    """A file-static global (`'sched.c'::current`): unique even where names repeat."""
    return gdb.parse_and_eval("'%s'::%s" % (filename, name))


def _sched_cpus():
    """The scheduler's per-CPU records (`cpus[]` in sched.c) of the CPUs that run threads."""
    cpus = _static("sched.c", "cpus")
    n = int(_static("sched.c", "online_count"))
    return [cpus[i] for i in range(n)]


def _current_thread():
    """The thread running on the CPU gdb has selected (QEMU shows CPU n as thread n + 1)."""
    cpus = _sched_cpus()
    sel = gdb.selected_thread()
    i = sel.num - 1 if sel is not None else 0
    return _addr(cpus[i]["current"]) if 0 <= i < len(cpus) else 0


def _name(v):
    """A char array field as text (up to its first NUL)."""
    raw = bytes(int(v[i]) & 0xff for i in range(v.type.sizeof))
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _enum(v, prefix):
    s = str(v)
    return s[len(prefix):] if s.startswith(prefix) else s


def _list(head_addr, entry_type, field):
    """Entries of a kernel list (struct list_node at head_addr), as gdb.Values of
    `entry_type *`, following next pointers; `field` is the node's path in the entry."""
    off = _offset(entry_type, field)
    node_t = _type("struct list_node").pointer()
    node = gdb.Value(head_addr).cast(node_t)["next"]
    for _ in range(MAX_ITEMS):
        a = _addr(node)
        if a == head_addr or a == 0:
            return
        yield _ptr(a - off, entry_type)
        node = node["next"]


def _avl(root):
    """struct avl_node addresses of a tree, in key order."""
    out, stack, node = [], [], _addr(root)
    node_t = "struct avl_node"
    while (stack or node) and len(out) < MAX_ITEMS:
        while node:
            stack.append(node)
            node = _addr(_ptr(node, node_t)["left"])
        node = stack.pop()
        out.append(node)
        node = _addr(_ptr(node, node_t)["right"])
    return out


def _kernel_memory(invoke):
    """Wraps a command's invoke: a read of kernel memory that fails (before the kernel has
    set up its page tables and scheduler, e.g. at the reset vector) becomes a plain error
    message."""
    def wrapped(self, arg, from_tty):
        try:
            return invoke(self, arg, from_tty)
        except gdb.MemoryError as e:
            raise gdb.GdbError("%s: cannot read kernel memory (%s); stop the guest where "
                               "the kernel runs threads first (e.g. `break sys_vmo_create`, "
                               "`continue`)" % (self._command, e))
    return wrapped


class Tasks:
    """One snapshot of the processes and threads reachable from the kernel's globals."""

    def __init__(self):
        self.threads = {}    # thread_t address -> gdb.Value (thread_t *)
        self.processes = {}  # process address -> gdb.Value (struct process *)
        self.ops = {}
        for name, f in KOBJECT_OPS:
            try:
                self.ops[name] = _addr(_static(f, name).address)
            except gdb.error:
                pass
        self.off_uthread_thread = _offset("struct uthread", "thread")
        self.off_kobject_waiters = _offset("struct kobject", "waiters")
        self._todo_threads, self._todo_objects = [], []
        self._seen_objects = set()
        self._add_thread(_addr(_static("sched.c", "reaper")))
        self._add_thread(_addr(_static("sched.c", "bootstrap_thread").address))
        queues = [_addr(_static("sched.c", "reap_list").address)]
        for c in _sched_cpus():
            for ptr in ("current", "idle", "dead"):
                self._add_thread(_addr(c[ptr]))
            queues.append(_addr(c["run_queue"].address))
        for q in queues:
            for t in _list(q, "struct thread", "queue_node"):
                self._add_thread(_addr(t))
        off_timer = _offset("struct thread", "timer_node")
        for n in _avl(_static("sched.c", "sleepers")["root"]):
            owner = n - off_timer
            self._add_thread(owner)
            for t in _list(owner + _offset("struct thread", "timer_chain"), "struct thread",
                           "timer_chain"):
                self._add_thread(_addr(t))
        self._drain()

    def _add_thread(self, a):
        if a and a not in self.threads:
            self.threads[a] = _ptr(a, "struct thread")
            self._todo_threads.append(a)

    def _add_object(self, a):
        if not a or a in self._seen_objects:
            return
        self._seen_objects.add(a)
        self._todo_objects.append(a)

    def _object_type(self, a):
        """ZX_OBJ_TYPE_* of the kobject at a, or None if a holds no kobject (checked
        against the ops tables of the kernel, when their symbols are there)."""
        try:
            ops = _addr(_ptr(a, "struct kobject")["ops"])
            if not ops:
                return None
            if self.ops and ops not in self.ops.values():
                return 0  # a kobject of a type the walk does not follow
            return int(_ptr(ops, "struct kobject_ops")["type"])
        except gdb.MemoryError:
            return None

    def _drain(self):
        while (self._todo_threads or self._todo_objects) and len(self.threads) < MAX_ITEMS:
            while self._todo_threads:
                t = self.threads[self._todo_threads.pop()]
                uctx = _addr(t["user_ctx"])
                if uctx:
                    self._add_object(uctx)
                wq = _addr(t["blocked_on"])
                if wq and self._object_type(wq - self.off_kobject_waiters) is not None:
                    self._add_object(wq - self.off_kobject_waiters)
            while self._todo_objects:
                self._visit_object(self._todo_objects.pop())

    def _visit_object(self, a):
        kind = self._object_type(a)
        if kind is None:
            return
        for t in _list(a + self.off_kobject_waiters, "struct thread", "queue_node"):
            self._add_thread(_addr(t))
        if kind == ZX_OBJ_TYPE_THREAD:
            ut = _ptr(a, "struct uthread")
            self._add_thread(a + self.off_uthread_thread)
            self._add_object(_addr(ut["proc"]))
        elif kind == ZX_OBJ_TYPE_PROCESS:
            p = _ptr(a, "struct process")
            self.processes[a] = p
            for ut in _list(a + _offset("struct process", "threads"), "struct uthread",
                            "proc_node"):
                self._add_object(_addr(ut))
            ht = _addr(p["handles"])
            if ht:
                self._visit_handles(_ptr(ht, "struct handle_table"))

    def _visit_handles(self, ht):
        chunks = ht["chunks"]
        for c in range(min(int(ht["nchunks"]), MAX_ITEMS // HT_CHUNK_SLOTS)):
            chunk = chunks[c]
            if not _addr(chunk):
                continue
            for i in range(HT_CHUNK_SLOTS):
                self._add_object(_addr(chunk[i]["obj"]))

    def uthread(self, t):
        """The struct uthread * of a user thread's thread_t, or None for a kernel thread."""
        uctx = _addr(t["user_ctx"])
        return _ptr(uctx, "struct uthread") if uctx else None

    def find_process(self, key):
        """The process with koid `key` (decimal or 0x hex) or name `key`; raises
        gdb.GdbError when none or several match."""
        found = []
        koid = None
        if re.fullmatch(r"(0x[0-9a-fA-F]+|[0-9]+)", key):
            koid = int(key, 0)
        for p in self.processes.values():
            if (koid is not None and int(p["obj"]["koid"]) == koid) or _name(p["name"]) == key:
                found.append(p)
        if not found:
            raise gdb.GdbError("no process has koid or name %r (see beryl-ps)" % key)
        if len(found) > 1:
            raise gdb.GdbError("%d processes are named %r: give a koid (beryl-ps)" %
                               (len(found), key))
        return found[0]


def _process_line(p):
    """One beryl-ps row for a struct process *."""
    threads = len(list(_list(_addr(p) + _offset("struct process", "threads"),
                             "struct uthread", "proc_node")))
    return "%6d  %-8s %7d  %s" % (int(p["obj"]["koid"]),
                                  _enum(p["state"], "PROCESS_"), threads, _name(p["name"]))


class BerylPs(gdb.Command):
    """List the kernel's processes: koid, state, number of threads, name.

Usage: beryl-ps
Processes are found by walking the scheduler's threads and the handle tables (see
tools/gdb/beryl.py); the running one is marked with *."""

    def __init__(self):
        super().__init__("beryl-ps", gdb.COMMAND_DATA)
        self._command = "beryl-ps"

    @_kernel_memory
    def invoke(self, arg, from_tty):
        tasks = Tasks()
        cur = _current_thread()
        running = None
        if cur and cur in tasks.threads and tasks.uthread(tasks.threads[cur]) is not None:
            running = _addr(tasks.uthread(tasks.threads[cur])["proc"])
        gdb.write("  koid  state    threads  name\n")
        for a, p in sorted(tasks.processes.items(), key=lambda kv: int(kv[1]["obj"]["koid"])):
            gdb.write("%s%s\n" % ("*" if a == running else " ", _process_line(p)[1:]))


class BerylThreads(gdb.Command):
    """List the kernel's threads: koid (- for kernel threads), state, process, name.

Usage: beryl-threads
The state is the scheduler's (INITIAL READY RUNNING BLOCKED DEAD); the running thread is
marked with *, and a thread blocked waiting on a kernel object (zx_object_wait_one, a
channel read...) shows it: "(waits on process 1027)"."""

    def __init__(self):
        super().__init__("beryl-threads", gdb.COMMAND_DATA)
        self._command = "beryl-threads"

    @_kernel_memory
    def invoke(self, arg, from_tty):
        tasks = Tasks()
        cur = _current_thread()
        rows = []
        for a, t in tasks.threads.items():
            ut = tasks.uthread(t)
            if ut is not None:
                proc = ut["proc"]
                koid = int(ut["obj"]["koid"])
                pname = "%s (%d)" % (_name(proc["name"]), int(proc["obj"]["koid"]))
                name = _name(ut["name"]) or _name(t["name"])
            else:
                koid, pname, name = None, "kernel", _name(t["name"])
            wq = _addr(t["blocked_on"])
            if wq and str(t["state"]) == "THREAD_BLOCKED":
                obj = wq - tasks.off_kobject_waiters
                if tasks._object_type(obj):
                    k = _ptr(obj, "struct kobject")
                    name += "  (waits on %s %d)" % (k["ops"]["type_name"].string(),
                                                    int(k["koid"]))
            rows.append((koid if koid is not None else -1, a, t, koid, pname, name))
        gdb.write("  koid  state     thread_t            process                    name\n")
        for _, a, t, koid, pname, name in sorted(rows, key=lambda r: (r[0], r[1])):
            gdb.write("%s%5s  %-8s  0x%016x  %-25s  %s\n" % (
                "*" if a == cur else " ", "-" if koid is None else str(koid),
                _enum(t["state"], "THREAD_"), a, pname, name))


def _perms(p):
    return "%s%s%s" % ("r" if p & ZX_VM_PERM_READ else "-", "w" if p & ZX_VM_PERM_WRITE else "-",
                       "x" if p & ZX_VM_PERM_EXECUTE else "-")


def _print_vmar(vmar, depth):
    """Writes one VMAR (struct vmar *) and, indented, its children in address order."""
    reg = vmar["r"]
    base, size = int(reg["ext"]["node"]["key"]), int(reg["ext"]["size"])
    gdb.write("%svmar    [0x%016x, 0x%016x)%s\n" % ("  " * depth, base, base + size,
                                                      " dead" if bool(vmar["dead"]) else ""))
    if depth >= MAX_VMAR_DEPTH:
        return
    off_node = _offset("struct vm_region", "ext.node")
    for n in _avl(vmar["children"]["root"]):
        r = _ptr(n - off_node, "struct vm_region")
        if str(r["type"]) == "VM_REGION_VMAR":
            _print_vmar(_ptr(_addr(r) - _offset("struct vmar", "r"), "struct vmar"), depth + 1)
        else:
            _print_mapping(_ptr(_addr(r), "struct vm_mapping"), depth + 1)


def _print_mapping(m, depth):
    reg = m["r"]
    base, size = int(reg["ext"]["node"]["key"]), int(reg["ext"]["size"])
    vmo = m["vmo"]
    if _addr(vmo):
        what = "VMO '%s' koid %d offset 0x%x" % (_name(vmo["name"]), int(vmo["koid"]),
                                                  int(m["vmo_offset"]))
    else:
        what = "no VMO"
    runs = [(int(m["runs"][i]["offset"]), int(m["runs"][i]["perms"]))
            for i in range(min(int(m["nruns"]), m["runs"].type.range()[1] + 1))]
    if len(runs) <= 1:
        perms = _perms(runs[0][1]) if runs else "---"
        gdb.write("%smapping [0x%016x, 0x%016x) %s %s (max %s)\n" % (
            "  " * depth, base, base + size, perms, what, _perms(int(m["max_perms"]))))
        return
    gdb.write("%smapping [0x%016x, 0x%016x) %s (max %s), %d protection runs:\n" % (
        "  " * depth, base, base + size, what, _perms(int(m["max_perms"])), len(runs)))
    for i, (off, perms) in enumerate(runs):
        end = runs[i + 1][0] if i + 1 < len(runs) else size
        gdb.write("%s  [0x%016x, 0x%016x) %s\n" % ("  " * depth, base + off, base + end,
                                                  _perms(perms)))


def _print_aspace(label, aspace, depth=0):
    """Writes an aspace (vm_aspace_t *) and its VMAR tree, or a unified aspace's two
    parts, indented by depth."""
    a = _addr(aspace)
    if not a:
        gdb.write("%sno aspace (the process has finished)\n" % label)
        return
    arch = aspace["arch"]
    gdb.write("%saspace '%s' [0x%016x, 0x%016x), page tables root 0x%x%s\n" % (
        label, _name(aspace["name"]), int(aspace["base"]),
        int(aspace["base"]) + int(aspace["size"]), int(arch["root_pa"]) if _addr(arch) else 0,
        " destroyed" if bool(aspace["destroyed"]) else ""))
    if _addr(aspace["root"]):
        _print_vmar(aspace["root"], depth + 1)
        return
    for part in ("restricted", "shared"):
        if _addr(aspace[part]):
            _print_aspace("  " * (depth + 1) + "unified aspace, %s part: " % part,
                          aspace[part], depth + 1)


class BerylVmar(gdb.Command):
    """Print a process's VMAR tree and mappings.

Usage: beryl-vmar KOID|NAME
Each line is a VMAR or a mapping with its range [base, end), permissions (one line per
protection run when they differ inside a mapping), and the VMO mapped there: name, koid,
offset of the mapping's base. A shared process (unified aspace) shows its restricted and
shared parts."""

    def __init__(self):
        super().__init__("beryl-vmar", gdb.COMMAND_DATA)
        self._command = "beryl-vmar"

    @_kernel_memory
    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError("usage: beryl-vmar KOID|NAME")
        p = Tasks().find_process(arg.strip())
        gdb.write("process %d '%s'\n" % (int(p["obj"]["koid"]), _name(p["name"])))
        _print_aspace("", p["aspace"])


def _cr3():
    try:
        return int(gdb.parse_and_eval("$cr3")) & PTE_ADDR_MASK
    except gdb.error:
        out = gdb.execute("monitor info registers", to_string=True)
        m = re.search(r"CR3=([0-9a-fA-F]+)", out)
        if not m:
            raise gdb.GdbError("cannot read CR3 (neither $cr3 nor `monitor info registers`)")
        return int(m.group(1), 16) & PTE_ADDR_MASK


def _read_phys_u64(pa):
    mem = gdb.selected_inferior().read_memory(PHYSMAP_BASE + pa, 8)
    return int.from_bytes(bytes(mem), "little")


def _decode(e):
    bits = [("P", 0), ("W", 1), ("U", 2), ("PWT", 3), ("PCD", 4), ("A", 5), ("D", 6),
            ("PS", 7), ("G", 8)]
    flags = [n for n, b in bits if e & (1 << b)]
    if e & (1 << 63):
        flags.append("NX")
    return " ".join(flags)


class BerylWalk(gdb.Command):
    """Walk the page tables for a virtual address, reading them from kernel memory.

Usage: beryl-walk VA [KOID|NAME]
Without a process the tables are the loaded ones (CR3); with one, that process's (its
aspace's root). Each level prints the entry's index, raw value and decoded bits (P W U
PWT PCD A D PS G NX) and where it leads; the last line is the physical address. Compare
with QEMU's own walk of the loaded tables: `monitor gva2gpa VA`, `monitor info mem`
(ranges and permissions) and `monitor info tlb` (every page)."""

    def __init__(self):
        super().__init__("beryl-walk", gdb.COMMAND_DATA)
        self._command = "beryl-walk"

    @_kernel_memory
    def invoke(self, arg, from_tty):
        words = arg.split()
        if not words or len(words) > 2:
            raise gdb.GdbError("usage: beryl-walk VA [KOID|NAME]")
        v = gdb.parse_and_eval(words[0])
        if v.type.strip_typedefs().code in (gdb.TYPE_CODE_FUNC, gdb.TYPE_CODE_ARRAY):
            v = v.address  # a function or array names its address, as in C
        va = int(v) & 0xffffffffffffffff
        if len(words) == 2:
            p = Tasks().find_process(words[1])
            aspace = p["aspace"]
            if not _addr(aspace):
                raise gdb.GdbError("process %s has no aspace (finished)" % words[1])
            root = int(aspace["arch"]["root_pa"])
            src = "process %d '%s'" % (int(p["obj"]["koid"]), _name(p["name"]))
        else:
            root, src = _cr3(), "CR3"
        try:
            if int(gdb.parse_and_eval("$cr4")) & X86_CR4_LA57:
                raise gdb.GdbError("CR4.LA57 is set: 5-level paging, which beryl-walk does "
                                   "not read (the kernel uses 4 levels)")
        except gdb.error:
            pass  # no $cr4 from this stub: the kernel's 4 levels
        gdb.write("walk 0x%016x from root 0x%x (%s)\n" % (va, root, src))
        table = root
        names = ("PML4", "PDPT", "PD", "PT")
        sizes = (None, 1 << 30, 1 << 21, 1 << 12)
        for level in range(4):
            shift = 39 - 9 * level
            idx = (va >> shift) & 0x1ff
            e = _read_phys_u64(table + idx * 8)
            gdb.write("  L%d %s[%3d] @0x%x = 0x%016x %s\n" % (
                3 - level, names[level], idx, table + idx * 8, e, _decode(e)))
            if not e & 1:
                gdb.write("  not present: no translation\n")
                return
            addr = e & PTE_ADDR_MASK
            if level == 3 or (level in (1, 2) and e & (1 << 7)):
                size = sizes[level]
                pa = (addr & ~(size - 1)) + (va & (size - 1))
                gdb.write("  0x%016x -> physical 0x%x (%s page)\n" % (
                    va, pa, {1 << 30: "1G", 1 << 21: "2M", 1 << 12: "4K"}[size]))
                return
            table = addr


def _user_elf(name):
    """build/user/<...>.elf for the user program NAME (crash/write_ro ->
    user_crash_write_ro.elf; userboot -> userboot.elf)."""
    kernel = gdb.objfiles()[0].filename if gdb.objfiles() else ""
    build = os.path.dirname(os.path.dirname(os.path.abspath(kernel)))
    base = name if name == "userboot" else "user_" + name.replace("/", "_")
    return os.path.join(build, "user", base + ".elf")


class BerylLoadUser(gdb.Command):
    """Load a user program's symbols (file, functions, lines) beside the kernel's.

Usage: beryl-load-user NAME      e.g. beryl-load-user crash/write_ro
NAME is the program's boot module name (the name its process gets); its ELF is
build/user/user_<NAME with / as _>.elf (userboot: build/user/userboot.elf). User
programs are static executables linked at 0x1000000, so the symbols need no offset.
Every process shares the user address range, so the symbols describe whichever process
is running there: check with beryl-ps."""

    def __init__(self):
        super().__init__("beryl-load-user", gdb.COMMAND_FILES)

    def invoke(self, arg, from_tty):
        name = arg.strip()
        if not name:
            raise gdb.GdbError("usage: beryl-load-user NAME (e.g. crash/write_ro)")
        path = _user_elf(name)
        if not os.path.exists(path):
            raise gdb.GdbError("no ELF for user program %r at %s" % (name, path))
        gdb.execute("add-symbol-file %s" % path, from_tty=False)
        gdb.write("loaded symbols of %s from %s\n" % (name, path))


# ---- backtraces through interrupts of kernel code ----
#
# The entry assembly marks x86_exception_common as the outermost frame (CFI
# `.cfi_undefined rip`), so gdb's backtrace from a handler stops there. That is right for
# an exception or interrupt from user mode. For one that interrupted kernel code (a
# timer tick, a page fault in a user copy), this unwinder continues into the interrupted
# code with the registers the entry saved in its frame (struct x86_iframe).

IFRAME_SIZE = 192  # sizeof(struct x86_iframe): checked against DWARF when first used
X86_CS_RPL_MASK = 3
# struct x86_iframe fields the unwound frame gets its registers from: all of them, since
# an interrupted function may have live values in any register.
IFRAME_REGS = ("r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8", "rbp", "rdi", "rsi",
               "rdx", "rcx", "rbx", "rax", "rip", "rsp")


class _FrameId:
    """A frame's identity for gdb: its CFA and function start (gdb wants gdb.Values)."""

    def __init__(self, sp, pc):
        self.sp = gdb.Value(sp).cast(_type("unsigned long"))
        self.pc = gdb.Value(pc).cast(_type("unsigned long"))


class KernelInterruptUnwinder(Unwinder):
    """Unwinds x86_exception_common, at its call of x86_exception_handler, into the
    kernel code it interrupted (user-mode entries are left to the CFI: outermost)."""

    def __init__(self):
        super().__init__("beryl-kernel-interrupt")
        self._ret = None  # the return address of that call, found on first use

    def _return_address(self, arch):
        if self._ret is None:
            start = int(gdb.parse_and_eval("(unsigned long)&x86_exception_common"))
            handler = int(gdb.parse_and_eval("(unsigned long)&x86_exception_handler"))
            self._ret = 0
            for insn in arch.disassemble(start, count=64):
                if insn["asm"].startswith("call") and ("%x" % handler) in insn["asm"]:
                    self._ret = insn["addr"] + insn["length"]
                    break
            t = _type("struct x86_iframe")
            if t.sizeof != IFRAME_SIZE:
                self._ret = 0
        return self._ret

    def __call__(self, pending_frame):
        try:
            pc = int(pending_frame.read_register("rip"))
            if pc < PHYSMAP_BASE or pc != self._return_address(pending_frame.architecture()):
                return None
            frame = int(pending_frame.read_register("rsp"))  # the frame the entry built
            f = _ptr(frame, "struct x86_iframe").dereference()
            if int(f["cs"]) & X86_CS_RPL_MASK:
                return None  # from user mode: the CFI makes this the outermost frame
            start = int(gdb.parse_and_eval("(unsigned long)&x86_exception_common"))
            info = pending_frame.create_unwind_info(_FrameId(frame + IFRAME_SIZE, start))
            for reg in IFRAME_REGS:
                info.add_saved_register(reg, f[reg])
            return info
        except (gdb.error, gdb.MemoryError):
            return None


register_unwinder(None, KernelInterruptUnwinder(), replace=True)
BerylPs()
BerylThreads()
BerylVmar()
BerylWalk()
BerylLoadUser()
