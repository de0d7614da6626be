# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus text exposition files for node_exporter's textfile collector (pure, no I/O).

A file holds metric families: ``# HELP``, ``# TYPE`` and samples ``name{label="value",...} number``.
``parse`` reads the subset this collection writes (and rejects anything else with the line that is wrong),
``merge`` lays a run's samples over the file's (a series is its name and label set: a run that failed writes
its failure series and leaves the last success as it was), ``render`` writes families sorted by name and
samples sorted by labels, so the same content is the same bytes (idempotent writes).

Rules from the exposition format (prometheus.io/docs/instrumenting/exposition_formats): metric names
``[a-zA-Z_:][a-zA-Z0-9_:]*``, label names ``[a-zA-Z_][a-zA-Z0-9_]*`` not starting with ``__``, label values
with ``\\``, ``"`` and newline escaped, values as Go floats (``NaN``, ``+Inf``, ``-Inf``).
"""

import math
import re

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TYPES = ("gauge", "counter", "untyped")
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


class MetricsError(ValueError):
    """A metric, label or file line that the exposition format does not allow (the message says which)."""


def check_name(name):
    if not isinstance(name, str) or not METRIC_NAME.match(name):
        raise MetricsError("%r is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)" % (name,))
    return name


def check_labels(labels):
    """``{name: value}`` -> a sorted tuple of ``(name, str(value))``."""
    out = []
    for key, value in (labels or {}).items():
        if not isinstance(key, str) or not LABEL_NAME.match(key) or key.startswith("__"):
            raise MetricsError("%r is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)" % (key,))
        if value is None:
            raise MetricsError("label %s has no value" % key)
        out.append((key, value if isinstance(value, str) else str(value)))
    return tuple(sorted(out))


def number(value):
    """A sample value as a float (bools are 1/0; ``NaN``/``+Inf``/``-Inf`` accepted)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise MetricsError("%r is not a number" % (value,))
    return result


def format_value(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def escape(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def unescape(value):
    out, index = [], 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            nxt = value[index + 1]
            out.append("\n" if nxt == "n" else nxt)
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def one_line(text):
    """HELP text on one line: runs of whitespace (newlines included) become one space."""
    return " ".join(str(text or "").split())


def family(name, help_text="", kind="gauge"):
    check_name(name)
    if kind not in TYPES:
        raise MetricsError("metric %s: type %r is not one of %s" % (name, kind, ", ".join(TYPES)))
    return {"help": one_line(help_text), "type": kind, "samples": {}}


def add(families, name, value, labels=None, help_text=None, kind=None):
    """Add (or replace) one sample in ``families`` (``{name: family}``)."""
    fam = families.get(name)
    if fam is None:
        fam = families[name] = family(name, help_text or "", kind or "gauge")
    else:
        if one_line(help_text):
            fam["help"] = one_line(help_text)
        if kind:
            if kind not in TYPES:
                raise MetricsError("metric %s: type %r is not one of %s" % (name, kind, ", ".join(TYPES)))
            fam["type"] = kind
    fam["samples"][check_labels(labels)] = number(value)
    return families


def merge(old, new):
    """``old`` with every series of ``new`` laid over it (help and type from ``new`` when it has them)."""
    out = {}
    for name, fam in old.items():
        out[name] = {"help": fam["help"], "type": fam["type"], "samples": dict(fam["samples"])}
    for name, fam in new.items():
        target = out.setdefault(name, {"help": fam["help"], "type": fam["type"], "samples": {}})
        target["help"] = fam["help"] or target["help"]
        target["type"] = fam["type"]
        target["samples"].update(fam["samples"])
    return out


def render(families):
    lines = []
    for name in sorted(families):
        fam = families[name]
        if not fam["samples"]:
            continue
        if fam["help"]:
            lines.append("# HELP %s %s" % (name, fam["help"].replace("\\", "\\\\")))
        lines.append("# TYPE %s %s" % (name, fam["type"]))
        for labels in sorted(fam["samples"]):
            text = ",".join('%s="%s"' % (key, escape(value)) for key, value in labels)
            lines.append("%s%s %s" % (name, "{%s}" % text if text else "", format_value(fam["samples"][labels])))
    return "\n".join(lines) + "\n" if lines else ""


def parse(text):
    """The families of an exposition file; raises ``MetricsError`` naming the first bad line."""
    families = {}
    for number_, line in enumerate(text.split("\n"), 1):  # not splitlines(): label values may hold \x1e, \x85...
        line = line.strip(" \t\r")
        if not line:
            continue
        try:
            _parse_line(families, line)
        except MetricsError as exc:
            raise MetricsError("line %d: %s" % (number_, exc))
    return families


def _parse_line(families, line):
    if line.startswith("#"):
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
            name = check_name(parts[2])
            fam = families.setdefault(name, family(name))
            rest = parts[3] if len(parts) > 3 else ""
            if parts[1] == "HELP":
                fam["help"] = one_line(unescape(rest))
            elif rest not in TYPES:
                raise MetricsError("metric %s: type %r is not one this collection writes" % (name, rest))
            else:
                fam["type"] = rest
        return
    match = _SAMPLE.match(line)
    if not match:
        raise MetricsError("not a sample: %r" % line[:200])
    name, body, value = match.groups()
    labels = {}
    pos = 0
    body = body or ""
    while pos < len(body):
        lab = _LABEL.match(body, pos)
        if not lab:
            raise MetricsError("bad labels in %r" % line[:200])
        labels[lab.group(1)] = unescape(lab.group(2))
        pos = lab.end()
    fam = families.setdefault(name, family(name))
    fam["samples"][check_labels(labels)] = number(value)
