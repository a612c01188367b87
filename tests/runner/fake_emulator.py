#!/usr/bin/env python3
"""A stand-in for qemu-system-x86_64 and bochs in the runner's own tests (test_beryl_run.py).

beryl_run.py --emulator-binary runs this script with the arguments it would give the real
emulator. It acts like a boot of Beryl without booting anything: it writes a short serial
log where the emulator would (QEMU: `-serial file:PATH`; Bochs: the `com1:` line of the
`-f` configuration), numbered lines of "its own" output to stdout and stderr, and ends
the way the emulator would. FAKE_EMULATOR_LINES (default 250) says how many own lines;
FAKE_EMULATOR_END says how the run ends:
  success / failure  the kernel reports it (QEMU: isa-debug-exit status 33 / 35; Bochs:
                     the "BERYL: exit status=" line, exit status 1 as Bochs does)
  crash              no exit line, exit status 3 (an emulator that died)
  hang               never ends (the runner's timeout kills it)
As Bochs it also answers each debugger command of the `-rc` file with
"<bochs:N> COMMAND" and "fake answer to COMMAND", and, like the real term display,
refuses to start without TERM.
As QEMU with `-serial stdio` (the runner's --send) it is a small serial console instead:
it writes "Beryl kernel booting (fake)", "fake koid 42" and a "fake> " prompt to stdout,
and for each line it reads from stdin (ended by a carriage return) echoes it, answers
"fake got: LINE" and prompts again; the line "exit" ends the run as FAKE_EMULATOR_END
says. Its own numbered lines then all go to stderr.
"""
import os
import sys
import time

QEMU_SUCCESS = 33
QEMU_FAILURE = 35


def argument_after(flag):
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else None


def serial_log_path(bochs):
    if not bochs:
        serial = argument_after("-serial")
        return serial[len("file:"):] if serial and serial.startswith("file:") else None
    with open(argument_after("-f")) as f:
        for line in f:
            if line.startswith("com1:") and 'dev="' in line:
                return line.split('dev="', 1)[1].split('"', 1)[0]
    return None


def serial_console(end):
    """The -serial stdio mode (see the module's comment); returns the exit status."""
    out = sys.stdout
    out.write("Beryl kernel booting (fake)\nfake koid 42\nfake> ")
    out.flush()
    line = b""
    while True:
        c = os.read(0, 1)
        if not c:
            return 3  # the input closed before "exit"
        if c != b"\r":
            line += c
            continue
        text = line.decode()
        line = b""
        out.write("%s\nfake got: %s\n" % (text, text))
        if text == "exit":
            break
        out.write("fake> ")
        out.flush()
    if end in ("success", "failure"):
        out.write("BERYL: exit status=%d\n" % (0 if end == "success" else 1))
    out.flush()
    if end == "hang":
        time.sleep(3600)
    return QEMU_SUCCESS if end == "success" else QEMU_FAILURE if end == "failure" else 3


def main():
    bochs = "-f" in sys.argv
    end = os.environ.get("FAKE_EMULATOR_END", "success")
    if bochs and not os.environ.get("TERM"):
        print("Error opening terminal: unknown.", flush=True)
        return 1
    lines = int(os.environ.get("FAKE_EMULATOR_LINES", "250"))
    stdio = not bochs and argument_after("-serial") == "stdio"
    for i in range(1, lines + 1):
        stream = sys.stderr if i % 2 or stdio else sys.stdout
        print("fake emulator line %d" % i, file=stream, flush=True)
    if stdio:
        return serial_console(end)
    if bochs:
        with open(argument_after("-rc")) as f:
            for n, command in enumerate(f.read().splitlines(), start=1):
                print("<bochs:%d> %s" % (n, command))
                if command != "c":
                    print("fake answer to %s" % command)
        sys.stdout.flush()
    log = serial_log_path(bochs)
    with open(log, "w") as f:
        f.write("Beryl kernel booting (fake)\n")
        if end in ("success", "failure"):
            f.write("BERYL: exit status=%d\n" % (0 if end == "success" else 1))
    if end == "hang":
        print("fake emulator: hanging", flush=True)
        time.sleep(3600)
    if end == "crash":
        print("fake emulator: crashed", file=sys.stderr, flush=True)
        return 3
    if bochs:
        return 1
    return QEMU_SUCCESS if end == "success" else QEMU_FAILURE


if __name__ == "__main__":
    sys.exit(main())
