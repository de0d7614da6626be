#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: log_search
short_description: Search the collected logs of every host around an incident, with context lines
version_added: 1.2.0
description:
  - Searches the collector's per-host files (role C(logging)), given files, or the systemd journal for a literal
    or a Python regular expression inside a time window, newest first, with C(grep -B/-A) style context.
  - Rotated files are read transparently (C(.gz) too). Files that cannot hold lines of the window are skipped by
    their time bounds (first and last timestamps, modification time, the rotation time in the name) before reading.
  - Timestamps RFC 3164, RFC 5424, RFC 3339/ISO 8601 and JSON lines (ISO strings or epoch seconds/milliseconds) are
    understood; lines without a timestamp (stack traces) belong to the line before.
  - Context lines cross file boundaries within a host's program - the lines before the first line of a file come
    from the end of the older rotated file, the lines after its last line from the newer one.
  - Each file is matched in a worker process; a pattern that runs longer than O(file_timeout) on one file is
    killed and the task fails naming the file (or skips it with O(on_timeout=warn)).
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
  pattern:
    description:
      - What to look for in each line. A literal string unless O(regex=true).
      - The pattern is matched against the line's UTF-8 bytes (C(\\w), C(\\d) and O(ignore_case) are ASCII-only).
    type: str
    required: true
  regex:
    description: O(pattern) is a Python regular expression (C(re) syntax; C(^) and C($) match at line starts and ends).
    type: bool
    default: false
  ignore_case:
    description: Match regardless of case.
    type: bool
    default: false
  before:
    description: Lines of context before each match.
    type: int
    default: 0
  after:
    description: Lines of context after each match.
    type: int
    default: 0
  limit:
    description: Return at most this many matches, the newest first (the counts cover all).
    type: int
    default: 100
  file_timeout:
    description:
      - Seconds the pattern may spend matching one file (reading and decompressing are not counted). A
        pathological regular expression (nested quantifiers like C((a+)+$)) is stopped there.
    type: float
    default: 10
  on_timeout:
    description: V(fail) fails the task naming the file; V(warn) skips the file with a warning.
    type: str
    choices: [fail, warn]
    default: fail
notes:
  - Lines are assumed in time order within a file (the collector appends as it receives); the window's edges are
    found by bisection.
seealso:
  - module: watchkeeper.ops.log_summary
"""

EXAMPLES = r"""
- name: Payment errors of the last 30 minutes on the web hosts, with context
  watchkeeper.ops.log_search:
    hosts: [web*]
    programs: [shop]
    last: 30m
    pattern: 'payment (failed|declined)'
    regex: true
    before: 3
    after: 3
    limit: 50
  register: found

- name: The failed logins on this host's journal since 08:00 (Paris time)
  watchkeeper.ops.log_search:
    journal: true
    programs: [sshd]
    since: "2026-12-05T08:00:00"
    timezone: Europe/Paris
    pattern: Failed password
"""

RETURN = r"""
matches:
  description: The newest matching lines (at most O(limit)), newest first.
  returned: success
  type: list
  elements: dict
  contains:
    host:
      description: Host of the stream (the line's own host with O(paths) or O(journal)).
      type: str
    program:
      description: Program of the stream.
      type: str
    file:
      description: File the line is in (C(journal) for the journal).
      type: str
    line_number:
      description: Line number in the file, from 1.
      type: int
    timestamp:
      description: The line's time in UTC, ISO 8601 with C(Z) (the previous line's for a line without one).
      type: str
      sample: "2026-12-05T07:25:13.123456Z"
    level:
      description: Severity name (C(err), C(warning)...) or null.
      type: str
    line:
      description: The line, secrets masked.
      type: str
    before:
      description: The lines before it (possibly from the older rotated file).
      type: list
      elements: str
    after:
      description: The lines after it (possibly from the newer file).
      type: list
      elements: str
counts:
  description: Number of matching lines in the window, C(total), C(by_host) and C(by_program).
  returned: success
  type: dict
  sample: {"total": 3, "by_host": {"app1": 2, "app2": 1}, "by_program": {"shop": 3}}
truncated:
  description: More lines matched than O(limit).
  returned: success
  type: bool
files:
  description:
    - Files C(scanned) and C(pruned) (skipped by their time bounds), and C(damaged) - a list of C({file, error}) for
      a truncated or corrupt C(.gz) whose readable part was searched (each also a warning).
  returned: success
  type: dict
window:
  description: The window searched, C(since) (null for the beginning) and C(until), ISO 8601 UTC.
  returned: success
  type: dict
timed_out:
  description: Files skipped because the pattern exceeded O(file_timeout) (O(on_timeout=warn)).
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.logs import search, selection, sources, workers
from ansible_collections.watchkeeper.ops.plugins.module_utils.logs.journal import JournalError


def main():
    spec = dict(selection.SELECTION_SPEC)
    spec.update(
        pattern=dict(type="str", required=True),
        regex=dict(type="bool", default=False),
        ignore_case=dict(type="bool", default=False),
        before=dict(type="int", default=0),
        after=dict(type="int", default=0),
        limit=dict(type="int", default=100),
        file_timeout=dict(type="float", default=10),
        on_timeout=dict(type="str", default="fail", choices=["fail", "warn"]),
    )
    module = AnsibleModule(argument_spec=spec, mutually_exclusive=selection.SELECTION_EXCLUSIVE, supports_check_mode=True)
    try:
        result = search.run(module.params, now=clock.now(), warn=module.warn)
    except (selection.SelectionError, search.SearchError, sources.LogSourceError, JournalError, workers.FileTimeout,
            workers.WorkerError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
