#!/usr/bin/env python3
"""Boot Beryl in QEMU stopped at reset and debug it with gdb (`./beryl debug`).

  debug_session.py [--port N] [--batch FILE] [--timeout SECONDS] [--serial FILE]
                   [--build-dir DIR] [--memory SIZE] [kernel command line words...]

The built ISO tree (BUILD/isoroot) is repacked with the given command line
(tools/mkiso.py --repack, as tests/runner/beryl_run.py does; with no words the built
BUILD/beryl.iso boots with its default command line), QEMU starts with its gdb stub on
127.0.0.1:PORT and the CPU held at reset (-S), the kernel's serial console goes to a
file whose path is printed, and gdb starts with BUILD/kernel/kernel.elf and the
checked-in script tools/gdb/beryl.gdb (which loads the helpers in tools/gdb/beryl.py),
connected to the stub. QEMU is killed when gdb exits.

--port 0 picks a free port (printed). --batch FILE runs gdb non-interactively
(gdb -batch) with FILE's commands after the connection, the way the ctest
qemu.gdb_debug_session does; gdb and QEMU are killed after --timeout seconds (batch
mode only). --memory is QEMU's -m (default 256M, as `./beryl run`). The exit status is
gdb's (124 at the timeout).
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
MKISO = os.path.join(SRC, "tools", "mkiso.py")
GDB_SCRIPT = os.path.join(HERE, "beryl.gdb")
DEFAULT_PORT = 1234
# How long QEMU may take to open its gdb port.
LISTEN_WAIT_SECONDS = 20
TIMEOUT_STATUS = 124
TCP_LISTEN = "0A"  # the state column of /proc/net/tcp for a listening socket


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True if some socket listens on TCP `port` (read from /proc/net/tcp, so no
    connection is made: a connection to QEMU's stub would be taken for gdb's)."""
    try:
        with open("/proc/net/tcp") as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        return True  # cannot tell: let gdb try
    for row in rows:
        cols = row.split()
        if len(cols) > 3 and cols[3] == TCP_LISTEN and int(cols[1].split(":")[1], 16) == port:
            return True
    return False


def stop(proc):
    """Ends a child process: SIGTERM, then SIGKILL if it is still there after a while."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--batch", metavar="FILE")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--serial", metavar="FILE")
    p.add_argument("--build-dir", default=os.environ.get("BERYL_BUILD_DIR", "build"))
    p.add_argument("--memory", default="256M")
    p.add_argument("cmdline", nargs="*")
    args = p.parse_args()

    build = os.path.abspath(os.path.join(SRC, args.build_dir))
    kernel = os.path.join(build, "kernel", "kernel.elf")
    workdir = tempfile.mkdtemp(prefix="beryl-debug-")
    if args.cmdline:
        iso = os.path.join(workdir, "beryl.iso")
        subprocess.run([sys.executable, MKISO, "--repack", os.path.join(build, "isoroot"),
                        "--cmdline", " ".join(args.cmdline), "--output", iso], check=True)
    else:
        iso = os.path.join(build, "beryl.iso")
    serial = os.path.abspath(args.serial or os.path.join(workdir, "serial.log"))
    port = args.port or free_port()

    qemu_cmd = ["qemu-system-x86_64", "-M", "pc", "-cpu", "max", "-m", args.memory,
                "-display", "none", "-monitor", "none", "-no-reboot",
                "-serial", "file:" + serial,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-cdrom", iso, "-boot", "d", "-gdb", "tcp:127.0.0.1:%d" % port, "-S"]
    print("beryl debug: QEMU's gdb stub on 127.0.0.1:%d; kernel command line %r" %
          (port, " ".join(args.cmdline) or "(the build's default)"), flush=True)
    print("beryl debug: serial console in %s (tail -f it in another terminal)" % serial,
          flush=True)
    # Its own session: a Ctrl-C typed to gdb (which interrupts the guest) must not
    # reach QEMU. So that QEMU never outlives this script, a hang-up or termination of
    # the script unwinds through the `finally` below, which stops it.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    qemu = subprocess.Popen(qemu_cmd, start_new_session=True)
    status = 1
    try:
        deadline = time.monotonic() + LISTEN_WAIT_SECONDS
        while not listening(port):
            if qemu.poll() is not None:
                print("beryl debug: QEMU exited (status %d) before opening port %d" %
                      (qemu.returncode, port), file=sys.stderr)
                return 1
            if time.monotonic() > deadline:
                print("beryl debug: QEMU did not open port %d" % port, file=sys.stderr)
                return 1
            time.sleep(0.05)
        gdb_cmd = ["gdb", "-q", "-nx"]
        if args.batch:
            gdb_cmd.append("-batch")
        gdb_cmd += [kernel, "-x", GDB_SCRIPT, "-ex", "target remote 127.0.0.1:%d" % port]
        if args.batch:
            gdb_cmd += ["-x", args.batch]
            try:
                status = subprocess.run(gdb_cmd, timeout=args.timeout, cwd=SRC).returncode
            except subprocess.TimeoutExpired:
                print("beryl debug: gdb timed out after %s s" % args.timeout, file=sys.stderr)
                status = TIMEOUT_STATUS
        else:
            # gdb owns the terminal; the Ctrl-C it gets is meant for it alone.
            old = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                status = subprocess.call(gdb_cmd, cwd=SRC)
            finally:
                signal.signal(signal.SIGINT, old)
    finally:
        stop(qemu)
        if args.cmdline:
            os.remove(iso)
        if args.serial:
            shutil.rmtree(workdir, ignore_errors=True)  # nothing of ours is left in it
        print("beryl debug: QEMU stopped; serial log %s" % serial, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
