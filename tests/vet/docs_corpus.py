#!/usr/bin/env python3
"""gocxx-vet over text that was not written for its checks: every ```cpp block of README.md and
docs/*.md, each made a translation unit (docs/vet.md, "False positives" has the figures).

  docs_corpus.py GOCXX_VET SOURCE_DIR WORK_DIR

The blocks are API tours and excerpts, not programs. Each becomes a file: the gocxx headers, the
block's #includes, its top-level definitions (from a line at column 0 that opens a function,
struct, class or namespace to the next `}` at column 0) as they are, and its other lines as the
body of a function. A name a block leaves undeclared (f, fd, buf, ctx, ...) becomes a placeholder
of a type that converts to and calls anything, for as long as clang-tidy-14 names new ones (at
most 6 rounds). Prints how many blocks compile then, and the gocxx-* findings in those: a
finding in a file that does not compile is not reliable, and is not counted.
"""
import json, os, pathlib, re, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

vet, src, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
work.mkdir(parents=True, exist_ok=True)
PRELUDE = """#include <gocxx/gocxx.hpp>
#include <gocxx/debug.hpp>
#include <gocxx/http.hpp>
#include <gocxx/leakcheck.hpp>
#include <gocxx/metrics.hpp>
#include <gocxx/report.hpp>
#include <gocxx/trace.hpp>
#include <gocxx/watchdog.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>
using namespace std::chrono_literals;
namespace context = gocxx::context;
// What a block leaves undeclared: converts to any type, and calls like any function.
struct Any {
  template <class T> operator T&() const;
  template <class... A> Any operator()(A&&...) const;
};
"""
TOPLEVEL = re.compile(r"^(template\b|struct\b|class\b|namespace\b|inline\b|[\w:<>,]+\s+[\w:]+\(.*)")
UNDECLARED = re.compile(r"^(\S+?):\d+:\d+: error: (use of undeclared identifier|unknown type name) '(\w+)'")


def split(block):
    """The block's #includes, its top-level definitions and the lines of a function body."""
    includes, toplevel, body = [], [], []
    lines = iter(block.splitlines())
    for line in lines:
        if line.startswith("#include"):
            includes.append(line)
        elif TOPLEVEL.match(line) and not line.rstrip().endswith(";"):
            toplevel.append(line)
            for rest in lines:
                toplevel.append(rest)
                if rest.startswith("}"):
                    break
        else:
            body.append(line)
    return includes, toplevel, body


def text(block, placeholders):
    includes, toplevel, body = split(block)
    has_body = any(l.strip() and not l.strip().startswith("//") for l in body)
    return (PRELUDE + "".join(l + "\n" for l in includes + placeholders + toplevel) +
            ("void snippet() {\n" + "".join(l + "\n" for l in body) + "}\n" if has_body else ""))


blocks = {}  # path -> (block, placeholder declarations)
for md in [src / "README.md", *sorted((src / "docs").glob("*.md"))]:
    for i, block in enumerate(re.findall(r"^```cpp\n(.*?)^```", md.read_text(), re.S | re.M), 1):
        blocks[work / f"{md.stem}_{i}.cpp"] = (block, [])
(work / "compile_commands.json").write_text(json.dumps(
    [{"directory": str(work), "file": str(f), "command": f"c++ -std=c++20 -I{src}/include -c {f}"}
     for f in blocks], indent=1))

pending, reports = list(blocks), {}
for _ in range(6):
    for path in pending:
        path.write_text(text(*blocks[path]))
    # One gocxx-vet per file: an error in a header belongs to the file that included it.
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        outs = pool.map(lambda p: subprocess.run([vet, "-p", str(work), str(p)], text=True,
                                                 capture_output=True).stdout, pending)
        for path, out in zip(pending, outs):
            reports[path] = out.splitlines()
    grew = []
    for path in pending:
        block, placeholders = blocks[path]
        for line in reports[path]:
            m = UNDECLARED.match(line)
            if not m:
                continue
            kind, name = m.group(2), m.group(3)
            decl = ("int main();" if name == "main" else
                    f"using {name} = Any;" if kind == "unknown type name" else f"extern Any {name};")
            if decl not in placeholders:
                placeholders.append(decl)
                grew.append(path)
    pending = sorted(set(grew))
    if not pending:
        break

compiled = [p for p in blocks if not any(": error: " in l for l in reports[p])]
findings = [l for p in compiled for l in reports[p] if re.search(r": warning: .*\[gocxx-", l)]
print(f"{len(blocks)} blocks, {len(compiled)} compile under clang-tidy-14, "
      f"{len(findings)} findings in those")
for path in sorted(set(blocks) - set(compiled)):
    print(f"does not compile: {path.name}")
for l in findings:
    print(l.replace(str(work) + "/", ""))
