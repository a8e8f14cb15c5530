#!/usr/bin/env python3
"""Copies the C++ block that follows a marker in a Markdown file into a header, so that a test
can compile (and run) exactly what the documentation shows.

usage: doc_snippet.py DOC.md MARKER OUT.hpp

The block is the first ```cpp fence after the line `<!-- MARKER -->`. Fails (exit 1, naming
the file and the marker) when the marker or its block is missing or the block is empty.
"""
import sys


def main() -> int:
    doc, marker, out = sys.argv[1], sys.argv[2], sys.argv[3]
    lines = open(doc, encoding="utf-8").read().splitlines()
    tag = f"<!-- {marker} -->"
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == tag)
    except StopIteration:
        print(f"{doc}: no line {tag}", file=sys.stderr)
        return 1
    body, inside = [], False
    for line in lines[start + 1:]:
        if not inside:
            if line.startswith("```cpp"):
                inside = True
            continue
        if line.startswith("```"):
            break
        body.append(line)
    if not body:
        print(f"{doc}: no ```cpp block after {tag}", file=sys.stderr)
        return 1
    with open(out, "w", encoding="utf-8") as f:
        f.write(f"// Generated from {doc} ({tag}) by tests/support/doc_snippet.py: edit the doc.\n")
        f.write("#pragma once\n")
        f.write("\n".join(body) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
