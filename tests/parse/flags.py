#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""flags.py - no flag means two things across rawcap's tools.

Runs every tool's --help (and every subcommand's), reads the option lines
("  -r, --ring NAME   ...", "      --last DURATION ...", "  -w FILE  the same
as -o, --output ...", "  --dest  still accepted: the same as --snapshot-dir")
and fails when
  - one short letter stands for two long names (-f: --from and --filter),
  - one long name has two short letters, or
  - one long name takes two different arguments (--to T and --to URL),
and when a tool does not answer --version and -V with its name and version
(exit 0), as capd always did, or a reader or kubectl-rawcap does not take
-q/--quiet with its one meaning (QUIET_TOOLS), or a refused option is not
said in one line naming the tool, with where to look.
Usage: flags.py BUILD_DIR (after a self-test: the checker catches clashes in a
sample), or flags.py --self-test alone.
"""
import re
import subprocess
import sys

OPTION = re.compile(r"^ {2,6}(?:-(\w)(?:, |  | (?=--)))?--([a-z0-9][a-z0-9-]*)(\[=[^\]]*\]|[ =][A-Z][A-Z0-9_:=.|-]*)?(\s|$)")
SHORT_ONLY = re.compile(r"^ {2}-(\w)(?: [A-Z][A-Z0-9_:=.|-]*)?\s+the same as (?:-\w, )?--([a-z0-9-]+)")
OLD_LONG = re.compile(r"^ {2}--([a-z0-9-]+)\s+still accepted: the same as (?:-\w, )?--([a-z0-9-]+)")

TOOLS = [
    ["capd/capd"],
    ["readers/rawcap-pcap"],
    ["readers/rawcap-snapshot"],
    ["readers/rawcap-snapshot", "upload"],
    ["readers/rawcap-forward"],
    ["readers/rawcap-tap"],
    ["readers/rawcap-stat"],
    ["server/rawcap-server"],
    ["cli/kubectl-rawcap"],
    ["cli/kubectl-rawcap", "export"],
    ["cli/kubectl-rawcap", "snapshot"],
    ["cli/kubectl-rawcap", "snapshot", "create"],
    ["cli/kubectl-rawcap", "snapshot", "list"],
    ["cli/kubectl-rawcap", "snapshot", "show"],
    ["cli/kubectl-rawcap", "snapshot", "verify"],
    ["cli/kubectl-rawcap", "snapshot", "delete"],
    ["cli/kubectl-rawcap", "snapshot", "export"],
    ["cli/kubectl-rawcap", "snapshot", "upload"],
    ["cli/kubectl-rawcap", "snapshot", "download"],
    ["cli/kubectl-rawcap", "bounds"],
    ["cli/kubectl-rawcap", "dissection"],
    ["cli/kubectl-rawcap", "dissect"],
    ["cli/kubectl-rawcap", "merge"],
]

# -q/--quiet, one meaning (lib/opt's OPT_DEF_QUIET): every reader and kubectl-rawcap.
QUIET_TOOLS = [t for t in TOOLS if t[0].startswith(("readers/", "cli/"))]
QUIET_HELP = "-q, --quiet            no progress or notes on stderr (errors, loss and gaps still printed)"


def options(text):
    """(short or None, long, argument or '') for each option line of a --help text."""
    out = []
    for line in text.splitlines():
        if "gone:" in line:
            continue
        m = OLD_LONG.match(line)
        if m:
            out.append((None, m.group(2), None, "--" + m.group(1)))
            continue
        m = SHORT_ONLY.match(line)
        if m:
            out.append((m.group(1), m.group(2), None, "-" + m.group(1)))
            continue
        m = OPTION.match(line)
        if m:
            arg = (m.group(3) or "").strip(" =[]")
            out.append((m.group(1), m.group(2), arg.split("|")[0] if arg else "", None))
    return out


def clashes(per_tool):
    """per_tool: {tool: text}. Returns a list of sentences, one per clash."""
    by_short, short_of, arg_of = {}, {}, {}
    for tool, text in per_tool.items():
        for short, long_, arg, alias in options(text):
            if short:
                by_short.setdefault(short, {}).setdefault(long_, set()).add(tool)
                if not alias:
                    short_of.setdefault(long_, {}).setdefault(short, set()).add(tool)
            if arg is not None and not alias:
                arg_of.setdefault(long_, {}).setdefault(arg, set()).add(tool)
    found = []
    for short, longs in sorted(by_short.items()):
        if len(longs) > 1:
            found.append("-%s means %s" % (short, "; ".join(
                "--%s in %s" % (l, ", ".join(sorted(t))) for l, t in sorted(longs.items()))))
    for long_, shorts in sorted(short_of.items()):
        if len(shorts) > 1:
            found.append("--%s is %s" % (long_, "; ".join(
                "-%s in %s" % (s, ", ".join(sorted(t))) for s, t in sorted(shorts.items()))))
    for long_, args in sorted(arg_of.items()):
        if len(args) > 1:
            found.append("--%s takes %s" % (long_, "; ".join(
                "%s in %s" % (a or "no argument", ", ".join(sorted(t)))
                for a, t in sorted(args.items()))))
    return found


def option_text(text, long_):
    """The help lines of --long_ (its first line and the indented ones after it)."""
    out, on = [], False
    for line in text.splitlines():
        m = OPTION.match(line)
        if m or not line.startswith(" " * 10):
            on = bool(m) and m.group(2) == long_ and "gone:" not in line
        if on:
            out.append(line.strip())
    return " ".join(out)


def help_layout(per_tool):
    """What a reader of --help would be misled by: a note inside the list of changed
    spellings (rawcap-forward's signals once sat there), a default left unsaid."""
    bad = []
    for tool, text in per_tool.items():
        section = text.split("Changed spellings", 1)[1:]
        for line in (section[0].split("\n\n")[0].splitlines()[1:] if section else []):
            if not re.match(r"^  --?[\w-]+ +(gone:|still accepted:)", line):
                bad.append("%s --help: not a changed spelling, under 'Changed spellings': %r"
                           % (tool, line))
        for long_ in ("snaplen", "storage") if tool == "capd" else ("snaplen",):
            t = option_text(text, long_)
            if t and "default" not in t:
                bad.append("%s --help: --%s does not say its default: %r" % (tool, long_, t))
    return bad


def self_test():
    a = "  -f, --from T           start\n  -e, --filter EXPR      f\n  -w FILE  the same as -o, --output\n"
    b = "  -f, --filter EXPR      filter\n      --from T\n  -o, --output FILE  x\n"
    c = "  -x, --to URL   remote\n  --dest   still accepted: the same as --snapshot-dir\n"
    d = "  -w, --write FILE   x\n  -d, --dest DIR  y\n  -e gone: was --filter\n"
    got = clashes({"a": a, "b": b, "c": c + "      --to T  end\n", "d": d})
    want = ["-f means --filter in b; --from in a", "-w means --output in a; --write in d",
            "--filter is -e in a; -f in b", "--to takes T in c; URL in c"]
    for w in want:
        if w not in got:
            print("FAIL: self-test: missed %r in %r" % (w, got))
            return 1
    if len(help_layout({"x": "Changed spellings:\n  -F   gone: was\n  SIGUSR1 pauses\n\n"
                                  "      --snaplen N   truncate\n"})) != 2:
        print("FAIL: self-test: help_layout missed a note among spellings or a default")
        return 1
    if clashes({"a": a, "a2": a}):
        print("FAIL: self-test: a tool clashes with itself")
        return 1
    print("ok: the checker finds %d clashes in its sample" % len(got))
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if self_test():
        return 1
    build = sys.argv[1]
    texts = {}
    for cmd in TOOLS:
        name = " ".join([cmd[0].split("/")[-1]] + cmd[1:])
        r = subprocess.run([build + "/" + cmd[0]] + cmd[1:] + ["--help"], capture_output=True,
                           text=True, timeout=30)
        text = r.stdout + r.stderr
        if r.returncode != 0 or len(options(text)) < 2:
            print("FAIL: %s --help: exit %d, %d options read" % (name, r.returncode,
                                                                len(options(text))))
            return 1
        texts[name] = text
        print("ok: %s: %d options" % (name, len(options(text))))
    for cmd in TOOLS:
        if len(cmd) > 1:
            continue
        name = cmd[0].split("/")[-1]
        for flag in ("--version", "-V"):
            r = subprocess.run([build + "/" + cmd[0], flag], capture_output=True, text=True,
                               timeout=30)
            if r.returncode != 0 or not re.match(r"%s \d+\.\d+" % name, r.stdout):
                print("FAIL: %s %s: exit %d, %r" % (name, flag, r.returncode,
                                                   (r.stdout + r.stderr)[:120]))
                return 1
        print("ok: %s --version, -V: %s" % (name, r.stdout.strip()))
    for cmd in QUIET_TOOLS:
        name = " ".join([cmd[0].split("/")[-1]] + cmd[1:])
        if cmd[1:] in ([], ["snapshot"], ["dissection"]):
            # a command or word comes next: their help lists it
            r = subprocess.CompletedProcess(cmd, 0, texts[name])
        else:
            r = subprocess.run([build + "/" + cmd[0]] + cmd[1:] + ["-q", "--help"],
                               capture_output=True, text=True, timeout=30)
        if r.returncode != 0 or QUIET_HELP not in r.stdout:
            print("FAIL: %s -q --help: exit %d, no line %r" % (name, r.returncode, QUIET_HELP))
            return 1
    print("ok: %d tools take -q/--quiet, one meaning" % len(QUIET_TOOLS))
    # A refused option is said once, in the tool's name, with where to look (getopt's
    # own message named the binary's path and pointed nowhere).
    for cmd in TOOLS:
        name = " ".join([cmd[0].split("/")[-1]] + cmd[1:])
        if cmd[1:] in (["snapshot"], ["dissection"]) or cmd == ["cli/kubectl-rawcap"]:
            continue  # a command word comes next
        for arg, want in (("--frobnicate", "unknown option '--frobnicate'"),
                          ("--help=x", "option '--help=x' takes no value")):
            if cmd[0] == "capd/capd" and arg == "--help=x":
                continue  # capd reads its options in its own first pass
            r = subprocess.run([build + "/" + cmd[0]] + cmd[1:] + [arg], capture_output=True,
                               text=True, timeout=30)
            line = r"%s( [a-z]+)*: %s \(see --help\)" % (re.escape(cmd[0].split("/")[-1]),
                                                         re.escape(want))
            if r.returncode != 2 or not re.fullmatch(line, r.stderr.strip()):
                print("FAIL: %s %s: exit %d, %r, want exit 2 and %r"
                      % (name, arg, r.returncode, r.stderr[:200], line))
                return 1
    print("ok: every tool refuses an unknown option in one line, naming itself")
    bad = help_layout(texts)
    for b in bad:
        print("FAIL: " + b)
    if bad:
        return 1
    print("ok: every 'Changed spellings' section lists only spellings; --snaplen and capd "
          "--storage say their default")
    found = clashes(texts)
    for f in found:
        print("CLASH: " + f)
    if found:
        print("FAIL: %d flags mean two things across the tools" % len(found))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
