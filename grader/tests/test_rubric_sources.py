"""The rubric's broken variants against the sources and the handouts (no build needed).

The self-check proves each listed variant is caught; these tests make sure none is left out of
the list, none is listed that the reference does not have (it would "pass" by doing nothing: a
variant that changes nothing is caught by no test, and the self-check would say so, but only
after a build), and each is named in its lab's handout, where students read about the mistake.

Run: /usr/bin/python3 -m pytest -q grader/tests/test_rubric_sources.py
"""

import re
import sys
from pathlib import Path

import pytest

GRADER_DIR = Path(__file__).resolve().parents[1]
ROOT = GRADER_DIR.parent
sys.path.insert(0, str(GRADER_DIR))

from etcdlab_grader.rubric import load_rubric  # noqa: E402

RUBRIC = load_rubric(GRADER_DIR / "rubric.toml")
LABS = [lab for lab in RUBRIC.labs.values() if lab.broken]
VARIANT = re.compile(r'ETCDLAB_BROKEN\("([^"]+)"\)')


def variants_in_reference(lab) -> set[str]:
    found = set()
    for folder in ROOT.glob(f"solution/{lab.number:02d}-*"):
        for f in folder.rglob("*"):
            if f.suffix in (".cc", ".h"):
                found |= set(VARIANT.findall(f.read_text()))
    return found


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: f"lab{lab.number}")
def test_every_variant_of_the_reference_is_in_the_rubric_and_no_other(lab):
    listed = {b.name for b in lab.broken}
    in_code = variants_in_reference(lab)
    assert sorted(in_code - listed) == [], "variants in solution/ that the rubric does not list"
    assert sorted(listed - in_code) == [], "variants the rubric lists that solution/ lacks"


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: f"lab{lab.number}")
def test_every_variant_is_named_in_its_handout(lab):
    handout = (ROOT / lab.handout).read_text()
    missing = [b.name for b in lab.broken if f"`{b.name}`" not in handout]
    assert missing == [], f"{lab.handout} names no mistake for these variants"
