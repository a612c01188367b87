#!/usr/bin/env python3
"""Run Beryl's VM benchmark workloads on Linux under the same emulator and method.

  tools/linux_compare/linux_compare.py [--work-dir build/linux-compare] [--memory 512M]
      [--cpu max] [--append "WORDS"] [--kernel-package NAME] [--timeout 600] [--log FILE]

Downloads Debian's kernel package (the one linux-image-amd64 depends on; `apt-get
download`, no install, no kernel build), extracts its vmlinuz, builds
tools/linux_compare/linux_vm_bench.c with `gcc -static -O2` as /init of a gzip'ed newc
initramfs, and boots it in QEMU with Beryl's runner's machine flags and
`-icount shift=0,align=off,sleep=off`, one CPU. Prints the guest's "linux:" lines.
Exits 0 when the program printed "linux: done", 1 otherwise.

Missing Debian packages (qemu-system-x86, gcc, libc6-dev) are installed first, as
`./beryl` does. Everything is cached under the work directory. Not part of the test
suite: docs/benchmarks.md, "Linux under the same emulator", has the figures.
"""

import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PACKAGES = ["qemu-system-x86", "gcc", "libc6-dev"]
META_PACKAGE = "linux-image-amd64"
# Kernel command line: the serial console, no boot chatter, panics power off (with
# -no-reboot), and no address randomisation so that rounds and runs map the same places.
BASE_APPEND = "console=ttyS0 quiet panic=-1 nokaslr norandmaps"
DEFAULT_TIMEOUT = 900


def ensure_packages():
    """Installs the missing PACKAGES with apt-get (as root, or through sudo)."""
    missing = []
    for p in PACKAGES:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                           capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            missing.append(p)
    if not missing:
        return
    print("linux_compare: installing missing Debian packages: " + " ".join(missing))
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-q"], check=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
                   + missing, check=True, env=env)


def kernel_package():
    """Returns the versioned kernel package linux-image-amd64 depends on."""
    for attempt in range(2):
        r = subprocess.run(["apt-cache", "depends", META_PACKAGE],
                           capture_output=True, text=True)
        m = re.search(r"Depends: (linux-image-\S+)", r.stdout)
        if m:
            return m.group(1)
        if attempt == 0:
            sudo = [] if os.geteuid() == 0 else ["sudo"]
            subprocess.run(sudo + ["apt-get", "update", "-q"], check=True)
    sys.exit("linux_compare: apt-cache knows no %s" % META_PACKAGE)


def fetch_kernel(work, package):
    """Downloads and extracts PACKAGE's vmlinuz and config into work; returns the vmlinuz."""
    dest = os.path.join(work, package)
    boot = os.path.join(dest, "boot")
    if not os.path.isdir(boot):
        tmp = tempfile.mkdtemp(dir=work)
        # As root apt would hand the download to its _apt user, which cannot write here.
        subprocess.run(["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download",
                        package], cwd=tmp, check=True)
        debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if len(debs) != 1:
            sys.exit("linux_compare: apt-get download gave %r" % debs)
        os.makedirs(dest + ".part", exist_ok=True)
        fs = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", os.path.join(tmp, debs[0])],
                              stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", dest + ".part", "./boot"], stdin=fs.stdout,
                       check=True)
        if fs.wait() != 0:
            sys.exit("linux_compare: dpkg-deb failed")
        with open(os.path.join(dest + ".part", "deb-name"), "w") as f:
            f.write(debs[0] + "\n")
        shutil.rmtree(tmp)
        os.rename(dest + ".part", dest)
    with open(os.path.join(dest, "deb-name")) as f:
        print("linux_compare: kernel package " + f.read().strip())
    images = [f for f in os.listdir(boot) if f.startswith("vmlinuz-")]
    if len(images) != 1:
        sys.exit("linux_compare: no single vmlinuz in %s" % boot)
    config = os.path.join(boot, images[0].replace("vmlinuz-", "config-"))
    if os.path.exists(config):
        with open(config) as f:
            wanted = ("CONFIG_TRANSPARENT_HUGEPAGE_", "CONFIG_PAGE_TABLE_ISOLATION=",
                      "CONFIG_HZ=", "CONFIG_PREEMPT_VOLUNTARY=", "CONFIG_INIT_ON_ALLOC_")
            for line in f:
                if line.startswith(wanted):
                    print("linux_compare: config " + line.strip())
    return os.path.join(boot, images[0])


def cpio_entry(name, mode, data=b"", rdev=(0, 0)):
    """One newc cpio record (owner root, mtime 0)."""
    fields = [0, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % v for v in fields) + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def build_initramfs(work):
    """Compiles the benchmark and packs it as /init; returns the initramfs path."""
    src = os.path.join(HERE, "linux_vm_bench.c")
    init = os.path.join(work, "linux_vm_bench")
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-o", init, src], check=True)
    with open(init, "rb") as f:
        program = f.read()
    archive = b"".join([
        cpio_entry(".", 0o040755),
        cpio_entry("dev", 0o040755),
        cpio_entry("dev/console", 0o020600, rdev=(5, 1)),
        cpio_entry("proc", 0o040755),
        cpio_entry("sys", 0o040755),
        cpio_entry("init", 0o100755, program),
        cpio_entry("TRAILER!!!", 0),
    ])
    path = os.path.join(work, "initramfs.cpio.gz")
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(archive)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work-dir", default=os.path.join(REPO, "build", "linux-compare"))
    p.add_argument("--memory", default="512M")
    p.add_argument("--cpu", default="max",
                   help="QEMU CPU model, as the runner's --cpu (max,-erms,-fsrm: see "
                        "docs/benchmarks.md)")
    p.add_argument("--append", default="", help="more kernel command-line words")
    p.add_argument("--kernel-package", help="default: what %s depends on" % META_PACKAGE)
    p.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT)
    p.add_argument("--log", help="serial log (default: WORK_DIR/serial.log)")
    args = p.parse_args()

    ensure_packages()
    os.makedirs(args.work_dir, exist_ok=True)
    vmlinuz = fetch_kernel(args.work_dir, args.kernel_package or kernel_package())
    initramfs = build_initramfs(args.work_dir)
    log = args.log or os.path.join(args.work_dir, "serial.log")
    if os.path.exists(log):
        os.remove(log)
    append = (BASE_APPEND + " " + args.append).strip()
    # Beryl's runner's machine (tests/runner/beryl_run.py, run_qemu) with -kernel instead
    # of its ISO, and the icount setting of docs/benchmarks.md's Method.
    cmd = ["qemu-system-x86_64", "-M", "pc", "-cpu", args.cpu, "-m", args.memory,
           "-display", "none", "-monitor", "none", "-no-reboot", "-serial", "file:" + log,
           "-kernel", vmlinuz, "-initrd", initramfs, "-append", append,
           "-icount", "shift=0,align=off,sleep=off"]
    print("linux_compare: " + " ".join(cmd), flush=True)
    try:
        subprocess.run(cmd, timeout=args.timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        print("linux_compare: timed out after %d s" % args.timeout)
    text = ""
    if os.path.exists(log):
        with open(log, errors="replace") as f:
            text = f.read()
    for line in text.splitlines():
        if line.startswith("linux:"):
            print(line)
    if "linux: done" not in text or "linux: FAILED" in text:
        print("linux_compare: the benchmark did not finish; serial log: " + log)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
