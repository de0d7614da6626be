#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: incident_postmortem
short_description: Write the postmortem of an incident as Markdown and as a self-contained HTML page
version_added: 1.2.0
description:
  - Reads the incident from O(ops_state) (or O(ops_state_store)) and writes C(<dest>/<id>.md) and C(<dest>/<id>.html) with the
    summary, severity, impact, responders, the whole timeline (time, source, author, text, details), the KPIs (time to
    acknowledge, mitigate and resolve, against the SEV1 response and MTTR targets), the backup runs of the period
    (C(<ops_state>/history/backup/)), and, when given, the runs of the audit trail (O(audit_records)) and a log
    excerpt (O(log_excerpt)). Sections for the root cause and the action items are left for the responders.
  - The period is from O(margin) before the opening to the resolution (or now while unresolved); RV(period) returns it.
    Without O(dest) nothing is written, so C(playbooks/postmortem.yml) first asks for the period, then queries the
    audit trail and the logs for it with M(watchkeeper.ops.audit_query) and M(watchkeeper.ops.log_search).
  - The HTML page has inline CSS only, no script and a Content-Security-Policy that forbids every request; every value
    is escaped. Files are replaced atomically (mode 0640) and only when their content changes.
  - Now is the current time, or C(WATCHKEEPER_NOW) (ISO 8601) when set.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.maintenance
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  id:
    description: The incident.
    type: str
    required: true
  dest:
    description: Directory for C(<id>.md) and C(<id>.html) (created when missing). Without it nothing is written.
    type: path
  margin:
    description: Minutes before the opening that the period starts (what happened before the alert).
    type: int
    default: 30
  backup_runs:
    description: Read the backup run history C(<ops_state>/history/backup/) for the period (O(ops_state) directory only).
    type: bool
    default: true
  audit_records:
    description: Rows of M(watchkeeper.ops.audit_query) (its RV(watchkeeper.ops.audit_query#module:records)) for the
      period; shown grouped by run. Omit for no audit section.
    type: list
    elements: dict
  log_excerpt:
    description: The result of M(watchkeeper.ops.log_search) for the period, plus C(pattern). Omit for no log section.
    type: dict
  targets:
    description: The targets the KPIs are judged against.
    type: dict
    suboptions:
      sev1_response_s:
        description: SEV1 time to acknowledge, seconds.
        type: int
        default: 900
      mttr_s:
        description: Time to resolve, seconds.
        type: int
        default: 1800
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
'''

EXAMPLES = r'''
- name: Write the postmortem
  watchkeeper.ops.incident_postmortem:
    id: inc-checkout-down
    dest: /srv/nfs/watchkeeper/postmortems
    ops_state: /srv/nfs/watchkeeper
'''

RETURN = r'''
period:
  description: The period covered, C(start) and C(end) (ISO 8601 UTC).
  returned: success
  type: dict
  sample: {"start": "2026-12-05T09:30:00Z", "end": "2026-12-05T10:42:00Z"}
postmortem:
  description: The content of the documents (C(watchkeeper.ops/postmortem) v1), KPIs and timeline included.
  returned: success
  type: dict
markdown:
  description: Path of the Markdown document (also in check mode, where it is not written).
  returned: when O(dest) is given
  type: str
html:
  description: Path of the HTML page (also in check mode, where it is not written).
  returned: when O(dest) is given
  type: str
'''

import datetime
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock, run_history
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model, postmortem, postmortem_html
from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.store import open_incidents
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON


def read_backup_runs(ops_state, start, end):
    """Run records of every job that may overlap the period (a run starts at most a day before it ends)."""
    out = []
    since = start - datetime.timedelta(days=1)
    for job in run_history.jobs(ops_state):
        out.extend(doc for _path, doc in run_history.read_runs(ops_state, job, since=since, until=end) if doc)
    return out


def write_if_changed(path, text):
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except (IOError, OSError):
        pass
    fd, tmp = tempfile.mkstemp(prefix=".wk-postmortem-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return True


def main():
    argument_spec = dict(
        id=dict(type="str", required=True), dest=dict(type="path"), margin=dict(type="int", default=30),
        backup_runs=dict(type="bool", default=True), audit_records=dict(type="list", elements="dict"),
        log_excerpt=dict(type="dict"),
        targets=dict(type="dict", options=dict(sev1_response_s=dict(type="int", default=900),
                                               mttr_s=dict(type="int", default=1800))))
    argument_spec.update(COMMON)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if not model.ID_RE.match(p["id"]):
        module.fail_json(msg="incident id %r must match %s" % (p["id"], model.ID_RE.pattern))
    if p["margin"] < 0:
        module.fail_json(msg="margin must be 0 or more minutes, got %d" % p["margin"])
    now = clock.now()
    try:
        doc = open_incidents(p["ops_state"], p.get("ops_state_store")).get(p["id"])
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step or "incident_postmortem")
    if doc is None:
        where = "the ops_state_store" if p.get("ops_state_store") else p["ops_state"]
        module.fail_json(msg="incident %s does not exist in %s" % (p["id"], where))
    start, end = postmortem.period(doc, now, p["margin"] * 60)
    runs = None
    if p["backup_runs"] and not p.get("ops_state_store"):
        runs = read_backup_runs(p["ops_state"], start, end)
    pm = postmortem.build(doc, now, runs=runs, audit_rows=p.get("audit_records"), logs=p.get("log_excerpt"),
                          targets=p.get("targets"), margin_s=p["margin"] * 60)
    result = {"changed": False, "period": pm["period"], "postmortem": pm}
    if p.get("dest"):
        paths = {"markdown": os.path.join(p["dest"], "%s.md" % doc["id"]), "html": os.path.join(p["dest"], "%s.html" % doc["id"])}
        result.update(paths)
        texts = {"markdown": postmortem.markdown(pm), "html": postmortem_html.render(pm)}
        if module.check_mode:
            result["changed"] = any(not os.path.exists(path) for path in paths.values())
        else:
            try:
                os.makedirs(p["dest"], mode=0o750, exist_ok=True)
                for kind, path in paths.items():
                    result["changed"] = write_if_changed(path, texts[kind]) or result["changed"]
            except (IOError, OSError) as exc:
                module.fail_json(msg="cannot write the postmortem to %s: %s" % (p["dest"], exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
