#!/usr/bin/env python3
"""Turns a text file into a C++ header holding it as a std::string_view (a raw string literal).

usage: embed.py INPUT OUTPUT NAME

The header defines `inline constexpr std::string_view chat::assets::NAME`. The raw string's
delimiter is chosen so that it does not occur in the input; the input must be UTF-8 without NUL.
"""
import sys


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    src, dst, name = sys.argv[1:]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    if "\0" in text:
        print(f"embed.py: {src} contains NUL", file=sys.stderr)
        return 1
    delim = "wsx"
    n = 0
    while f"){delim}\"" in text:
        n += 1
        delim = f"wsx{n}"
    with open(dst, "w", encoding="utf-8") as f:
        f.write(f"// Generated from {src.rsplit('/', 1)[-1]} by examples/chat/embed.py. Do not edit.\n")
        f.write("#pragma once\n\n#include <string_view>\n\nnamespace chat::assets {\n\n")
        f.write(f'inline constexpr std::string_view {name} = R"{delim}(')
        f.write(text)
        f.write(f'){delim}";\n\n}}  // namespace chat::assets\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
