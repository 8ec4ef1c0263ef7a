#!/usr/bin/env python3
"""Doxygen INPUT_FILTER for include/strata.h (docs/Doxyfile).

The header documents declarations with plain C comments: a comment above a
declaration or enum value, or a trailing one after an enum value. Doxygen
only reads /** and /**< comments, so this filter presents each plain comment
as one, without rewriting the header:

  - the file's first comment becomes the @file description;
  - a comment alone on its line(s) becomes /** (documents what follows);
  - a comment after code on its line becomes /**< (documents that code);
  - backslashes and <name> placeholders in them are escaped (plain text);
  - a comment above several declarations (no blank line between) documents
    each of them: they become a member group (DISTRIBUTE_GROUP_DOC);
  - section banners (runs of one-line comments with a "/* ----" line) and a
    comment closing an enum (the next code is "}") stay plain.

Line numbers are kept, so Doxygen's warnings point into the real header.
"""
import re
import sys

BANNER = re.compile(r"^/\* -{8,} \*/$")
ONE_LINE = re.compile(r"^/\*.*\*/$")


def banner_lines(lines):
    """Indices of lines belonging to a banner: a run of one-line comments
    (at column 0) that contains a dashes line."""
    out = set()
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and ONE_LINE.match(lines[j].rstrip()):
            j += 1
        if j > i and any(BANNER.match(lines[k].rstrip()) for k in range(i, j)):
            out.update(range(i, j))
        i = max(j, i + 1)
    return out


def next_code(text, pos):
    """The first character of code after pos (skipping blanks and comments)."""
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            pos = len(text) if end < 0 else end + 2
        else:
            return text[pos]
    return ""


TAG = re.compile(r"<([A-Za-z_][A-Za-z_0-9]*)>")


def escape(comment):
    """Text for Doxygen, not markup: a backslash ("\\n" in a C string) is
    not a command, a <name> placeholder is not an HTML tag."""
    body = comment[3:].replace("\\", "\\\\")
    return comment[:3] + TAG.sub(r"\\<\1\\>", body)


def convert(text):
    lines = text.split("\n")
    banners = banner_lines(lines)
    line_start = [0]
    for line in lines:
        line_start.append(line_start[-1] + len(line) + 1)
    out = []
    pos = 0
    first = True
    line_no = 0
    i = 0
    while i < len(text):
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = len(text) if end < 0 else end + 2
            comment = text[i:end]
            while line_start[line_no + 1] <= i:
                line_no += 1
            before = text[line_start[line_no]:i]
            plain = not comment.startswith(("/**", "/*!"))
            if plain and first:
                comment = "/** @file strata.h" + comment[2:]
            elif plain and line_no not in banners:
                if before.strip():
                    comment = "/**<" + comment[2:]
                elif next_code(text, end) != "}":
                    comment = "/**" + comment[2:]
            if comment.startswith(("/**", "/*!")):
                comment = escape(comment)
            first = False
            out.append(text[pos:i])
            out.append(comment)
            pos = i = end
        elif text[i] == '"':  # skip string literals (macros)
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    out.append(text[pos:])
    return "".join(out)


def group(text):
    """A comment at column 0 documents the declarations right below it (up
    to a blank line or the next comment): wrap two or more of them in a
    Doxygen member group, whose one comment DISTRIBUTE_GROUP_DOC gives to
    every member. The markers go on existing lines."""
    lines = text.split("\n")
    opens, closes = set(), set()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("/**") or lines[i].startswith("/** @file"):
            i += 1
            continue
        start = i
        while "*/" not in lines[i]:
            i += 1
        i += 1
        decls, last = 0, None
        while i < len(lines):
            code = lines[i].strip()
            if not code or code.startswith(("/*", "}", "typedef enum")):
                break
            if code.startswith("#define"):
                decls += 1
            elif not code.startswith("#"):
                decls += code.count(";")
            last = i
            i += 1
        if decls >= 2 and last is not None:
            # The end marker opens the line after the run: after a #define
            # on its own line it would be part of the macro.
            opens.add(start)
            closes.add(last + 1)
    return "\n".join(("/**@}*/ " if n in closes else "") + ("/**@{*/ " if n in opens else "")
                     + line for n, line in enumerate(lines + [""] if len(lines) in closes else lines))


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(group(convert(f.read())))
