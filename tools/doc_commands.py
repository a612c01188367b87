#!/usr/bin/env python3
"""Run the shell commands a document shows, so a walkthrough stays true.

Every ```sh block in a checked document is one of two kinds, told by an HTML comment on
the line just above its opening fence (invisible when the Markdown is rendered):

    <!-- doc-test NAME
    expect: REGEX
    reject: REGEX
    -->
    ```sh
    commands...
    ```

  a block CI runs verbatim (`run DOC NAME`): bash -e -o pipefail, from the top of the
  source tree; it passes when bash exits 0, every `expect:` regex (Python `re`, MULTILINE)
  matches its combined output and no `reject:` regex does;

    <!-- doc-covered-by CTEST -->

  a block a person runs interactively (a debugger session), whose non-interactive form is
  the ctest CTEST.

`check DOC --ctests FILE` fails when a block has neither marker, when two tests share a
name, or when a covering ctest is not in FILE (the output of `ctest -N`). `list DOC` prints
the doc-test names (CMake registers one ctest per name).

Commands refer to the build directory as `build/`; when the tests run from another build
directory, `--build-dir DIR` replaces a leading `build/` path component with DIR and says
so before running.
"""

import argparse
import os
import re
import subprocess
import sys

FENCE_RE = re.compile(r"^```(\w*)\s*$")
TEST_RE = re.compile(r"^<!-- doc-test ([A-Za-z0-9_.-]+)\s*$")
COVERED_RE = re.compile(r"^<!-- doc-covered-by ([A-Za-z0-9_.-]+) -->\s*$")
COMMENT_END = "-->"


class DocError(Exception):
    pass


class Block:
    """One ```sh block: its marker's kind and name, its checks, its text, its line."""

    def __init__(self, line, text, kind=None, name=None, expect=(), reject=()):
        self.line = line
        self.text = text
        self.kind = kind          # "test", "covered" or None (no marker)
        self.name = name
        self.expect = list(expect)
        self.reject = list(reject)


def parse(text):
    """Returns the document's ```sh blocks in order; raises DocError on a malformed marker
    or an unterminated fence."""
    lines = text.split("\n")
    blocks = []
    pending = None  # the marker just read, waiting for its fence
    i = 0
    while i < len(lines):
        line = lines[i]
        m_test = TEST_RE.match(line)
        m_cov = COVERED_RE.match(line)
        if m_test:
            marker = {"kind": "test", "name": m_test.group(1), "expect": [], "reject": [],
                      "line": i + 1}
            i += 1
            while True:
                if i >= len(lines):
                    raise DocError("line %d: doc-test marker not closed with -->" %
                                   marker["line"])
                body = lines[i]
                i += 1
                if body.strip() == COMMENT_END:
                    break
                key, sep, value = body.partition(":")
                if not sep or key.strip() not in ("expect", "reject"):
                    raise DocError("line %d: expected 'expect: REGEX' or 'reject: REGEX', "
                                   "got %r" % (i, body))
                try:
                    re.compile(value.strip())
                except re.error as e:
                    raise DocError("line %d: bad regex %r: %s" % (i, value.strip(), e))
                marker[key.strip()].append(value.strip())
            pending = marker
            continue
        if m_cov:
            pending = {"kind": "covered", "name": m_cov.group(1), "expect": [], "reject": [],
                       "line": i + 1}
            i += 1
            continue
        m_fence = FENCE_RE.match(line)
        if m_fence:
            start = i + 1
            lang = m_fence.group(1)
            i += 1
            body = []
            while i < len(lines) and not FENCE_RE.match(lines[i]):
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise DocError("line %d: code block never closed" % start)
            i += 1
            if lang == "sh":
                b = Block(start, "\n".join(body) + "\n")
                if pending:
                    b.kind, b.name = pending["kind"], pending["name"]
                    b.expect, b.reject = pending["expect"], pending["reject"]
                blocks.append(b)
            elif pending:
                raise DocError("line %d: marker is not followed by a ```sh block" %
                               pending["line"])
            pending = None
            continue
        if pending and line.strip():
            raise DocError("line %d: marker is not followed by a ```sh block" %
                           pending["line"])
        i += 1
    if pending:
        raise DocError("line %d: marker at the end of the document" % pending["line"])
    return blocks


def check(blocks, ctest_names):
    """Returns a list of problems (empty when every block is run or covered)."""
    problems = []
    seen = set()
    for b in blocks:
        if b.kind is None:
            problems.append("line %d: ```sh block with no doc-test or doc-covered-by marker"
                            % b.line)
        elif b.kind == "test":
            if b.name in seen:
                problems.append("line %d: doc-test name %s used twice" % (b.line, b.name))
            seen.add(b.name)
        elif b.name not in ctest_names:
            problems.append("line %d: covering ctest %s does not exist" % (b.line, b.name))
    return problems


def ctest_names_from(text):
    """Test names from `ctest -N` output ("  Test  #12: qemu.foo")."""
    return set(re.findall(r"Test\s+#\d+: (\S+)", text))


def substitute_build_dir(text, build_dir):
    """Replaces `build/` where it starts a path (line start, after whitespace, '=' or a
    quote) with build_dir + '/'."""
    return re.sub(r"(^|(?<=[\s='\"]))build/", build_dir.rstrip("/") + "/", text,
                  flags=re.MULTILINE)


def run_block(block, source_dir, build_dir=None, timeout=None):
    """Runs a doc-test block; returns (ok, report lines)."""
    text = block.text
    out = []
    if build_dir and os.path.realpath(build_dir) != os.path.realpath(
            os.path.join(source_dir, "build")):
        text = substitute_build_dir(text, build_dir)
        out.append("doc_commands: build directory is %s, not build/; running:" % build_dir)
        out.append(text.rstrip("\n"))
    try:
        p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], cwd=source_dir,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout)
        output = p.stdout.decode("utf-8", "replace")
        status = p.returncode
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode("utf-8", "replace")
        status = None
    out.append("---- output of doc-test %s ----" % block.name)
    out.append(output.rstrip("\n"))
    out.append("---- end of output ----")
    ok = True
    if status is None:
        out.append("FAIL: timed out after %s s" % timeout)
        ok = False
    elif status != 0:
        out.append("FAIL: the commands exited with status %d" % status)
        ok = False
    for rx in block.expect:
        if not re.search(rx, output, re.MULTILINE):
            out.append("FAIL: no match for expect: %s" % rx)
            ok = False
    for rx in block.reject:
        if re.search(rx, output, re.MULTILINE):
            out.append("FAIL: output matches reject: %s" % rx)
            ok = False
    return ok, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("list")
    pl.add_argument("doc")
    pc = sub.add_parser("check")
    pc.add_argument("doc")
    pc.add_argument("--ctests", required=True, help="file holding `ctest -N` output")
    pr = sub.add_parser("run")
    pr.add_argument("doc")
    pr.add_argument("name")
    pr.add_argument("--source-dir", default=".")
    pr.add_argument("--build-dir")
    pr.add_argument("--timeout", type=float, default=600)
    args = p.parse_args(argv)
    try:
        with open(args.doc, encoding="utf-8") as f:
            blocks = parse(f.read())
    except DocError as e:
        print("%s: %s" % (args.doc, e), file=sys.stderr)
        return 1
    if args.cmd == "list":
        for b in blocks:
            if b.kind == "test":
                print(b.name)
        return 0
    if args.cmd == "check":
        with open(args.ctests, encoding="utf-8") as f:
            names = ctest_names_from(f.read())
        problems = check(blocks, names)
        for pr_ in problems:
            print("%s: %s" % (args.doc, pr_))
        if not problems:
            print("%s: %d command blocks, every one run or covered by a ctest" %
                  (args.doc, len(blocks)))
        return 1 if problems else 0
    matches = [b for b in blocks if b.kind == "test" and b.name == args.name]
    if not matches:
        print("%s: no doc-test named %s" % (args.doc, args.name), file=sys.stderr)
        return 1
    ok, report = run_block(matches[0], args.source_dir, args.build_dir, args.timeout)
    print("\n".join(report))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
