#!/usr/bin/env python3
"""Counts the tests of one `meson test` run: every GoogleTest case from the XML report a suite
wrote (GTEST_OUTPUT=xml:DIR/), and every other meson test as one test. Prints "P F"."""
import json
import os
import sys
import xml.etree.ElementTree as ET

build, xml_dir = sys.argv[1], sys.argv[2]
passed = failed = 0
log = os.path.join(build, "meson-logs", "testlog.json")
with open(log) as f:
    for line in f:
        t = json.loads(line)
        cmd = t.get("command") or t.get("cmd") or []
        exe = os.path.basename(cmd[0]) if cmd else ""
        report = os.path.join(xml_dir, exe + ".xml")
        if t["result"] == "SKIP":  # a tool the test needs is missing: neither passed nor failed
            continue
        ok = t["result"] in ("OK", "EXPECTEDFAIL")
        if exe and os.path.exists(report):
            try:
                root = ET.parse(report).getroot()
            except ET.ParseError:
                failed += 1
                continue
            cases = [c for c in root.iter("testcase") if c.get("status", "run") == "run"]
            bad = sum(1 for c in cases if c.find("failure") is not None)
            passed += len(cases) - bad
            failed += bad
            if not ok and bad == 0:  # crashed after writing some results, or timed out
                failed += 1
        else:
            passed += 1 if ok else 0
            failed += 0 if ok else 1
print(passed, failed)
