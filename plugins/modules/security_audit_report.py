#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: security_audit_report
short_description: Write the security audit's per-host files and fleet summary, with findings new or fixed since the last audit
version_added: 1.2.0
description:
  - Takes the registered results of M(watchkeeper.ops.security_audit) per host and writes
    C(<ops_state>/reports/security_audit/<stamp>/hosts/<host>.json), C(<stamp>/summary.json) and C(latest.json).
  - The summary compares every host's failing findings (rule id and subject) with the previous C(latest.json) -
    C(new) failing now and not then, C(fixed) failing then and not now.
  - The audit folder appears atomically; an existing stamp is never overwritten.
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Builds and returns the summary without writing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  ops_state:
    description: The collection's state directory on the host running this task (usually the controller).
    type: path
    required: true
  results:
    description: C({host - registered security_audit result}); a result with C(failed) or C(unreachable) is recorded as an error.
    type: dict
    required: true
  stamp:
    description: Name of the audit folder (default the current UTC time, C(YYYYMMDDTHHMMSSZ)).
    type: str
seealso:
  - module: watchkeeper.ops.security_audit
"""

EXAMPLES = r"""
- name: Write the audit report
  watchkeeper.ops.security_audit_report:
    ops_state: /var/lib/watchkeeper
    results: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, '__audit'))) }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
summary:
  description: The fleet summary (C(hosts) with counts, failed rule ids, new and fixed findings; C(counts); C(new); C(fixed)).
  returned: always
  type: dict
path:
  description: The audit folder written (null in check mode).
  returned: always
  type: str
"""

import datetime
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.security import report

STAMP_RE = re.compile(r"\A[0-9A-Za-z_.-]{1,64}\Z")


def host_result(raw):
    raw = raw if isinstance(raw, dict) else {}
    error = None
    if raw.get("unreachable"):
        error = "unreachable: %s" % raw.get("msg", "")
    elif raw.get("failed") or "findings" not in raw:
        error = "audit failed: %s" % (raw.get("msg") or "no findings")
    return {"findings": raw.get("findings") or [], "audited_at": raw.get("audited_at"), "error": error}


def main():
    module = AnsibleModule(
        argument_spec=dict(ops_state=dict(type="path", required=True), results=dict(type="dict", required=True),
                           stamp=dict(type="str")),
        supports_check_mode=True,
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = module.params["stamp"] or now.strftime("%Y%m%dT%H%M%SZ")
    if not STAMP_RE.match(stamp):
        module.fail_json(msg="stamp %r: only letters, digits, '_', '.', '-' (at most 64)" % stamp)
    if not module.params["results"]:
        module.fail_json(msg="results is empty: no host was audited")
    hosts = dict((name, host_result(raw)) for name, raw in module.params["results"].items())
    previous = report.read_latest(module.params["ops_state"])
    summary = report.build_summary(stamp, hosts, previous, generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    path = None
    if not module.check_mode:
        try:
            path = report.write(module.params["ops_state"], stamp, hosts, summary)
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot write the audit report under %s: %s" % (module.params["ops_state"], exc))
    module.exit_json(changed=not module.check_mode, summary=summary, path=path)


if __name__ == "__main__":
    main()
