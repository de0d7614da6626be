"""docs/compliance.md shows the controls table of controls.py: the same ids, in the same order, with the same checks."""

import os
import re

from ansible_collections.watchkeeper.ops.plugins.module_utils.compliance import controls as ct

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "..", "docs", "compliance.md")


def test_controls_table_matches_the_code():
    with open(DOC) as handle:
        text = handle.read()
    rows = re.findall(r"^\| `((?:SOC2|ISO27001)-[^`]+)` \|[^|]+\|[^|]+\| ([^|]+) \|", text, re.MULTILINE)
    assert [r[0] for r in rows] == list(ct.CONTROL_IDS)
    for (control_id, checks), control in zip(rows, ct.CONTROLS):
        assert re.findall(r"`([a-z_]+)`", checks) == list(control[4]), control_id
    documented = re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE)
    assert documented == list(ct.CHECK_ORDER)
