#!/usr/bin/env python3
"""Puts a benchmark's markdown table into a doc (docs/benchmarks.md): in place of what stands
between the markers that are the table's own first and last lines (<!-- NAME:start --> or
<!-- NAME:begin -->, and <!-- NAME:end -->), or else at the end, under "## HEADING" if given.
usage: doc_section.py DOC TABLE [HEADING]"""
import re
import sys

path, table = sys.argv[1], sys.argv[2]
heading = sys.argv[3] if len(sys.argv) > 3 else ""
m = re.match(r"<!-- ([\w-]+):(start|begin) -->", table)
if not m:
    sys.exit("doc_section: the table does not start with a <!-- NAME:start --> marker")
name = re.escape(m.group(1))
pat = re.compile(r"<!-- %s:%s -->.*?<!-- %s:end -->" % (name, m.group(2), name), re.S)
try:
    text = open(path).read()
except FileNotFoundError:
    text = ""
if pat.search(text):
    text = pat.sub(lambda _: table, text)
else:
    before = text.rstrip("\n") + "\n\n" if text.strip() else ""
    text = before + ("## %s\n\n" % heading if heading else "") + table + "\n"
open(path, "w").write(text)
