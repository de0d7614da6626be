#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: log_summary
short_description: What the logs of every host say in a time window, compared with the period before
version_added: 1.2.0
description:
  - Reads the collector's per-host files (role C(logging)), given files, or the systemd journal, like
    M(watchkeeper.ops.log_search), and summarises a time window against a baseline period.
  - Counts lines per host, program, level and interval (intervals aligned to the Unix epoch in UTC; the window's
    first and last interval can be partial).
  - Groups messages into B(templates) - the message with its variable parts masked, in this order, each only as a
    whole token (not glued to letters or digits, so C(error404page) and C(eth0) stay words) - ISO dates and
    times C(<time>), UUIDs C(<uuid>), e-mail addresses C(<email>), IPv4/IPv6 addresses with an optional port
    C(<ip>), the values of URL query strings C(<val>), hex ids (C(0x...), or 8 and more hex digits with a digit and
    a letter) C(<hex>), absolute paths of two or more segments C(<path>), the contents of quoted strings C(<str>)
    (see O(mask_quoted)), then numbers with their unit (C(42), C(-1.5), C(1.2.3), C(12ms), C(1h30m), C(10MB),
    C(45%)) C(<num>). Lines that differ only there are one template. For JSON lines the C(msg)/C(message) field is
    templated, not the whole object.
  - Reports the top templates of the window, the templates seen in the window and never in the baseline
    ("what appeared after the deploy"), and the intervals where a host's program logs much more than in the
    baseline (spikes).
  - Read-only.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.log_selection
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  interval:
    description: Length of the counting intervals (C(1m), C(5m), C(1h)...); a whole number of seconds, at least C(1s).
    type: str
    default: 5m
  baseline_since:
    description:
      - Start of the baseline period (same forms as O(since)). By default the baseline is the period of the
        window's length just before the window.
    type: str
  baseline_until:
    description: End of the baseline (excluded); by default the window's start. It cannot be after the window's start.
    type: str
  baseline_last:
    description: The baseline is this long and ends at O(baseline_until) (C(1d) compares with the day before).
    type: str
  top:
    description: Number of templates returned in RV(summary.templates) and RV(summary.new_templates), by count.
    type: int
    default: 20
  spike_factor:
    description:
      - An interval spikes when its count is at least O(spike_min_count) and at least this many times the
        baseline's mean count per interval of the same host and program.
    type: float
    default: 3.0
  spike_min_count:
    description:
      - Fewest lines in an interval for a spike. A host's program that logged nothing in the baseline spikes at this
        count (its factor is then null).
    type: int
    default: 10
  max_templates:
    description:
      - Most distinct templates tracked (memory bound). Lines of further templates are counted in
        RV(summary.other), which says so; the baseline's templates are tracked first.
    type: int
    default: 10000
  mask_quoted:
    description:
      - Mask the contents of quoted strings (C("...") and C('...') whose quotes are not apostrophes), so that
        C(user "alice" not found) and C(user "bob" not found) are one template. Set V(false) when the quoted text is
        what tells messages apart.
    type: bool
    default: true
notes:
  - The window needs O(since) or O(last) (O(since) has no default here).
  - The window includes both its ends; the baseline excludes its end, so a line at the window's start counts once.
  - With O(mask_secrets) (the default) messages are masked before they are templated and every example line is
    masked, so a secret is in neither.
  - Lines are assumed in time order within a file (the collector appends as it receives).
seealso:
  - module: watchkeeper.ops.log_search
"""

EXAMPLES = r"""
- name: What the web hosts logged in the last 30 minutes, compared with the 30 minutes before
  watchkeeper.ops.log_summary:
    hosts: [web*]
    last: 30m
    interval: 1m
  register: logs

- name: Templates that appeared since the deploy at 14:00 (Paris), against the day before
  watchkeeper.ops.log_summary:
    since: "2026-12-05T14:00:00"
    timezone: Europe/Paris
    baseline_last: 1d
    min_level: warning
    top: 10
  register: after_deploy

- name: Show the new templates
  ansible.builtin.debug:
    msg: "{{ after_deploy.summary.new_templates | map(attribute='template') | list }}"
"""

RETURN = r"""
summary:
  description: The summary of the window against the baseline.
  returned: success
  type: dict
  contains:
    window:
      description: The window, C(since) and C(until), ISO 8601 UTC.
      type: dict
      sample: {"since": "2026-12-05T08:00:00Z", "until": "2026-12-05T09:00:00Z"}
    baseline:
      description: The baseline, C(since), C(until), its line count C(total) and its length in C(intervals).
      type: dict
      sample: {"since": "2026-12-05T07:00:00Z", "until": "2026-12-05T08:00:00Z", "total": 5210, "intervals": 12.0}
    interval_s:
      description: The interval in seconds.
      type: int
    total:
      description: Lines in the window.
      type: int
    counts:
      description: Lines per C(host), C(program), C(level) (name or null) and C(interval_start) (ISO 8601 UTC); only
        non-zero counts, by interval.
      type: list
      elements: dict
      sample: [{"host": "app1", "program": "shop", "level": "err", "interval_start": "2026-12-05T08:05:00Z", "count": 12}]
    templates:
      description:
        - The top O(top) templates of the window by count, each with C(template), C(count), C(baseline_count),
          C(example) (the first line, secrets masked), C(hosts), C(programs), C(levels), C(first_seen), C(last_seen).
      type: list
      elements: dict
      sample: [{"template": "payment <num> failed for <email>", "count": 42, "baseline_count": 0,
                "example": "<131>2026-12-05T08:25:13+01:00 app1 shop[812]: payment 42 failed for a@example.com",
                "hosts": ["app1", "app2"], "programs": ["shop"], "levels": ["err"],
                "first_seen": "2026-12-05T07:25:13Z", "last_seen": "2026-12-05T07:59:01Z"}]
    templates_total:
      description: Distinct templates in the window.
      type: int
    new_templates:
      description: Templates of the window that the baseline does not have (same fields), the top O(top) by count.
      type: list
      elements: dict
    new_templates_total:
      description: Number of new templates.
      type: int
    spikes:
      description:
        - Intervals whose count is at least O(spike_min_count) and O(spike_factor) times the baseline's mean per
          interval, with C(host), C(program), C(interval_start), C(count), C(baseline_per_interval) and C(factor)
          (null when the baseline had no line).
      type: list
      elements: dict
    other:
      description:
        - Lines beyond O(max_templates) distinct templates, in the C(window) and the C(baseline), and C(capped)
          (true when any). With C(capped) the new templates can include some the baseline had beyond the limit.
      type: dict
    files:
      description: Files C(scanned) and C(pruned) (skipped by their time bounds).
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import selection, sources, summary
from ansible_collections.watchkeeper.ops.plugins.module_utils.logs.journal import JournalError


def main():
    spec = dict(selection.SELECTION_SPEC)
    spec.update(
        interval=dict(type="str", default="5m"),
        baseline_since=dict(type="str"),
        baseline_until=dict(type="str"),
        baseline_last=dict(type="str"),
        top=dict(type="int", default=20),
        spike_factor=dict(type="float", default=3.0),
        spike_min_count=dict(type="int", default=10),
        max_templates=dict(type="int", default=summary.MAX_TEMPLATES),
        mask_quoted=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=spec,
                           mutually_exclusive=selection.SELECTION_EXCLUSIVE + [("baseline_since", "baseline_last")],
                           supports_check_mode=True)
    try:
        result = summary.run(module.params, now=clock.now())
    except (summary.SummaryError, selection.SelectionError, sources.LogSourceError, JournalError) as exc:
        module.fail_json(msg=str(exc))
    if result["other"]["capped"]:
        module.warn("more than %d distinct templates: %d lines of the window and %d of the baseline are counted as other"
                    % (result["other"]["max_templates"], result["other"]["window"], result["other"]["baseline"]))
    module.exit_json(changed=False, summary=result)


if __name__ == "__main__":
    main()
