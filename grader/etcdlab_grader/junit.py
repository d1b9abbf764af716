"""Reading pytest's JUnit XML report (--junitxml): what happened to each test, by node id.

pytest names a test in the report by (classname, name), mangled from its node id:
`python/tests/test_x.py::TestY::test_z[1]` is classname `python.tests.test_x.TestY`, name
`test_z[1]`. A <testcase> with no <failure>, <error> or <skipped> passed; a file that could not be
imported shows up as one <testcase> named after the file, with an <error>, and no test of it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .gtest import ERROR, FAILED, PASSED, SKIPPED, TestResult, trim_output

# What a student needs to replay a failure: the seed and the test's own replay line, and
# Hypothesis's falsifying example and its @reproduce_failure blob.
KEEP_LINES = ("replay:", "Falsifying example", "reproduce_failure")

# Priority when a test has several (a failure in the body, then an error in teardown).
_OUTCOMES = (("failure", FAILED), ("error", ERROR), ("skipped", SKIPPED))


class JunitError(Exception):
    """The report is not JUnit XML that pytest would write (a run cut off mid-write, say)."""


def junit_address(nodeid: str) -> tuple[str, str]:
    """The (classname, name) pytest's junitxml plugin gives the test `nodeid`.

    The same mangling as pytest's own (_pytest/junitxml.py, mangle_test_address).
    """
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


def read_junit(text: str, nodeids: list[str]) -> tuple[dict[str, TestResult], str]:
    """The results of the tests `nodeids` found in the report, and the text of any error of the
    report that belongs to no test (a file that could not be collected), or "".

    Raises JunitError when `text` is not a report.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise JunitError(f"pytest's JUnit report is not valid XML ({e})") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JunitError(f"pytest's JUnit report has <{root.tag}> where <testsuites> belongs")
    by_address = {junit_address(n): n for n in nodeids}
    results: dict[str, TestResult] = {}
    stray: list[str] = []
    for case in root.iter("testcase"):
        nodeid = by_address.get((case.get("classname", ""), case.get("name", "")))
        result = _result(nodeid or case.get("name", "?"), case)
        if nodeid is None:
            if result.status in (ERROR, FAILED):
                stray.append(result.output)
        elif nodeid not in results or results[nodeid].passed:
            results[nodeid] = result
    return results, "\n\n".join(stray)


def _result(name: str, case: ET.Element) -> TestResult:
    try:
        seconds = float(case.get("time", "0"))
    except ValueError:
        seconds = 0.0
    for tag, status in _OUTCOMES:
        found = case.findall(tag)
        if found:
            output = "\n\n".join(_text(e) for e in found)
            return TestResult(name, status, seconds, trim_output(output, keep=KEEP_LINES))
    return TestResult(name, PASSED, seconds)


def _text(element: ET.Element) -> str:
    """The traceback (the element's text), else pytest's one-line message."""
    text = (element.text or "").strip("\n")
    message = element.get("message", "")
    if not text:
        return message or element.tag
    if element.tag == "skipped" and message:
        return message  # the text is "file:line: reason", the message the reason alone
    return text
