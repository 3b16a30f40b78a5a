#!/usr/bin/env python3
"""Names every test that ctest skipped or did not run, with its reason.

Reads the JUnit file of one ctest run (ctest --output-junit FILE). A skipped
test (exit 77) gives its reason on its own output: the last line that says
"skip" is printed. Prints nothing and exits 0 when every test ran; exits 3
after the summary otherwise.

    tests/skip_report.py build/sanitize/ctest-junit.xml
"""
import sys
import xml.etree.ElementTree as ET


def reason(case):
    text = ""
    for tag in ("system-out", "system-err"):
        for node in case.iter(tag):
            text += (node.text or "") + "\n"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    said_skip = [ln for ln in lines if "skip" in ln.lower()]
    if said_skip:
        return said_skip[-1]
    if lines:
        return lines[-1]
    return "no reason printed"


def kind(case):
    node = case.find("skipped")
    msg = node.get("message", "") if node is not None else ""
    if msg.startswith("SKIP_RETURN_CODE"):
        return "skipped, exit 77"
    return msg or case.get("status", "not run")


def main():
    if len(sys.argv) != 2:
        print("usage: skip_report.py CTEST_JUNIT_XML", file=sys.stderr)
        return 2
    try:
        root = ET.parse(sys.argv[1]).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"skip_report: cannot read {sys.argv[1]}: {e}", file=sys.stderr)
        return 2
    skipped = []
    for case in root.iter("testcase"):
        status = case.get("status", "")
        if case.find("skipped") is not None or status in ("notrun", "disabled"):
            skipped.append((case.get("name", "?"), kind(case), reason(case)))
    if not skipped:
        return 0
    bar = "!" * 72
    print(bar)
    print(f"!! {len(skipped)} test(s) did NOT run: this is not a full pass")
    for name, status, why in skipped:
        print(f"!!   {name} ({status}): {why}")
    print(bar)
    return 3


if __name__ == "__main__":
    sys.exit(main())
