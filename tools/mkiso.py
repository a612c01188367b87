#!/usr/bin/env python3
"""Stage Beryl's ISO tree and pack it with grub-mkrescue.

Two modes:
  build:   mkiso.py --root DIR --kernel kernel.elf --ksyms kernel.syms --grub-cfg grub.cfg
                    --modules-cfg modules.cfg --cmdline-cfg cmdline.cfg
                    --module-list list.txt --output beryl.iso
  repack:  mkiso.py --repack DIR --cmdline "test=all" --output variant.iso
           copies a staged tree, replaces boot/grub/cmdline.cfg, and packs it (used by the
           test runner to boot the same kernel with another command line).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile


def grub_quote(s):
    # GRUB's double-quoted strings treat \ " $ specially.
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")


def pack(root, output):
    tmp = output + ".tmp"
    result = subprocess.run(["grub-mkrescue", "-o", tmp, root],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout)
        raise SystemExit(f"grub-mkrescue failed ({result.returncode})")
    os.replace(tmp, output)


def stage(args):
    boot = os.path.join(args.root, "boot")
    if os.path.isdir(args.root):
        shutil.rmtree(args.root)
    os.makedirs(os.path.join(boot, "grub"))
    os.makedirs(os.path.join(boot, "modules"))
    shutil.copy(args.kernel, os.path.join(boot, "kernel.elf"))
    shutil.copy(args.ksyms, os.path.join(boot, "kernel.syms"))
    shutil.copy(args.grub_cfg, os.path.join(boot, "grub", "grub.cfg"))
    shutil.copy(args.modules_cfg, os.path.join(boot, "grub", "modules.cfg"))
    shutil.copy(args.cmdline_cfg, os.path.join(boot, "grub", "cmdline.cfg"))
    with open(args.module_list) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            src, name = line.split("|")
            shutil.copy(src, os.path.join(boot, "modules", name))
    pack(args.root, args.output)


def repack(args):
    with tempfile.TemporaryDirectory(prefix="beryl-iso-") as tmp:
        root = os.path.join(tmp, "root")
        shutil.copytree(args.repack, root)
        with open(os.path.join(root, "boot", "grub", "cmdline.cfg"), "w") as f:
            f.write('set beryl_cmdline="%s"\n' % grub_quote(args.cmdline))
        pack(root, args.output)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root")
    p.add_argument("--kernel")
    p.add_argument("--ksyms")
    p.add_argument("--grub-cfg")
    p.add_argument("--modules-cfg")
    p.add_argument("--cmdline-cfg")
    p.add_argument("--module-list")
    p.add_argument("--repack")
    p.add_argument("--cmdline", default="")
    p.add_argument("--output", required=True)
    args = p.parse_args()
    if args.repack:
        repack(args)
    else:
        stage(args)


if __name__ == "__main__":
    main()
