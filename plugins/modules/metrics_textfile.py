#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: metrics_textfile
short_description: Write Prometheus metrics for node_exporter's textfile collector, atomically
version_added: 1.0.0
description:
  - Writes O(metrics) into C(<directory>/<name>.prom) in the Prometheus text exposition format, which node_exporter's
    textfile collector (C(--collector.textfile.directory); Debian's C(prometheus-node-exporter) reads
    C(/var/lib/prometheus/node-exporter)) exports on its next scrape.
  - The file is written to a temporary file in the same directory, synced and renamed over the old one, so the
    collector never reads half a file. Families and samples are sorted, so the same metrics give the same bytes; an
    unchanged file is not rewritten (C(changed=false)).
  - With O(mode=merge) (the default) the samples of this run are laid over those already in the file; a series (a
    name and its label set) this run does not write keeps its value. That is how a failed run records its failure
    and leaves the time of the last success in place.
  - The roles of this collection call it with their C(*_metrics_dir) variable; the metric names are listed in the
    monitoring guide (docs/monitoring.md).
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the file would change; nothing is written.
  diff_mode:
    support: full
    details: The file before and after.
  platform:
    platforms: posix
options:
  directory:
    description: The textfile collector's directory. It must exist.
    type: path
    required: true
  name:
    description: The file name without C(.prom) (letters, digits, C(_), C(-), C(.)); one file per job keeps jobs apart.
    type: str
    required: true
  metrics:
    description:
      - The samples. Each has C(name), C(value) (a number, a boolean, or V(now) for the current Unix time of the host;
        C(WATCHKEEPER_NOW) in the task's environment freezes it), or instead C(duration) (V(90m), V(26h), V(7d),
        V(1d 2h) or seconds; written in seconds) or C(timestamp) (ISO 8601, naive is UTC; written as Unix time), and optionally
        C(labels) (a dict), C(help) and C(type) (V(gauge), V(counter) or V(untyped); default V(gauge)).
      - C(increment=true) adds the value to the sample already in the file (a counter such as
        C(watchkeeper_retention_removed_total)); without one it starts from 0.
    type: list
    elements: dict
    required: true
  mode:
    description: V(merge) keeps the file's other series; V(replace) writes only these samples.
    type: str
    choices: [merge, replace]
    default: merge
  file_mode:
    description: Permissions of the file (node_exporter must be able to read it).
    type: str
    default: "0644"
"""

EXAMPLES = r"""
- name: Record a successful backup of app-db
  watchkeeper.ops.metrics_textfile:
    directory: /var/lib/prometheus/node-exporter
    name: watchkeeper_backup_app-db
    metrics:
      - name: watchkeeper_backup_last_success_timestamp_seconds
        help: Unix time of the last backup of the job that reached every destination.
        labels: {wk_job: app-db}
        value: now
      - name: watchkeeper_backup_stored_bytes
        labels: {wk_job: app-db}
        value: 231109022

- name: Record a failure (the last success stays as it was)
  watchkeeper.ops.metrics_textfile:
    directory: /var/lib/prometheus/node-exporter
    name: watchkeeper_backup_app-db
    metrics:
      - {name: watchkeeper_backup_last_failure_timestamp_seconds, labels: {wk_job: app-db}, value: now}
      - {name: watchkeeper_backup_last_status, labels: {wk_job: app-db}, value: 0}
"""

RETURN = r"""
path:
  description: The file written (or that would be written).
  returned: always
  type: str
  sample: /var/lib/prometheus/node-exporter/watchkeeper_backup_app-db.prom
samples:
  description: Number of samples in the file after this run.
  returned: always
  type: int
  sample: 6
previous_unreadable:
  description: The old file could not be read as exposition text and was replaced (the reason).
  returned: when it happened
  type: str
"""

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock, metrics as mx
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy.freshness import parse_duration

FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$")


def build(specs, now, old=None):
    families = {}
    for index, spec in enumerate(specs):
        given = [key for key in ("value", "duration", "timestamp") if key in spec]
        if not isinstance(spec, dict) or "name" not in spec or len(given) != 1:
            raise mx.MetricsError("metrics[%d] needs a name and one of value, duration or timestamp" % index)
        try:
            if "duration" in spec:
                value = parse_duration(spec["duration"])
            elif "timestamp" in spec:
                value = clock.parse_time(spec["timestamp"]).timestamp()
            else:
                value = now if spec["value"] == "now" else spec["value"]
            if spec.get("increment"):
                before = (old or {}).get(spec["name"], {"samples": {}})["samples"].get(mx.check_labels(spec.get("labels")), 0.0)
                value = before + mx.number(value)
            mx.add(families, spec["name"], value, spec.get("labels"), spec.get("help"), spec.get("type"))
        except (mx.MetricsError, ValueError) as exc:
            raise mx.MetricsError("metrics[%d]: %s" % (index, exc))
    return families


def read_old(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return "", {}, None
    try:
        return text, mx.parse(text), None
    except mx.MetricsError as exc:
        return text, {}, str(exc)


def write_atomic(path, text, mode):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directory=dict(type="path", required=True),
            name=dict(type="str", required=True),
            metrics=dict(type="list", elements="dict", required=True),
            mode=dict(type="str", choices=["merge", "replace"], default="merge"),
            file_mode=dict(type="str", default="0644"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not FILE_NAME.match(params["name"]) or params["name"].endswith(".prom"):
        module.fail_json(msg="name %r: use letters, digits, _, - and . (without .prom)" % params["name"], changed=False)
    try:
        file_mode = int(params["file_mode"], 8)
    except ValueError:
        module.fail_json(msg="file_mode %r is not an octal mode such as 0644" % params["file_mode"], changed=False)
    directory = params["directory"]
    if not os.path.isdir(directory):
        module.fail_json(msg="directory %s does not exist (install node_exporter's textfile collector, or create it)"
                         % directory, changed=False)
    path = os.path.join(directory, params["name"] + ".prom")
    old_text, old, unreadable = read_old(path)
    try:
        new = build(params["metrics"], clock.now().timestamp(), old)
    except mx.MetricsError as exc:
        module.fail_json(msg=str(exc), changed=False, path=path)
    families = mx.merge(old, new) if params["mode"] == "merge" else new
    text = mx.render(families)
    changed = text != old_text
    result = {"changed": changed, "path": path, "samples": sum(len(f["samples"]) for f in families.values())}
    if unreadable:
        result["previous_unreadable"] = unreadable
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = {"before": old_text, "after": text, "before_header": path, "after_header": path}
    if changed and not module.check_mode:
        try:
            write_atomic(path, text, file_mode)
        except OSError as exc:
            module.fail_json(msg="cannot write %s: %s" % (path, exc.strerror or exc), changed=False, path=path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
