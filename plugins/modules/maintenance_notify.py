#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: maintenance_notify
short_description: Send every maintenance message that is due, exactly once per recipient
version_added: "0.5.0"
description:
  - "For one window (O(id)) or every window in O(ops_state), sends what is due now: the announcement, the reminders
    (each window's lead times, default 72 h, 24 h and 1 h before the start), the start and end messages, a 'changed'
    message after an edit, the cancellation, and the overrun notice to the owner when a window runs past its end."
  - Meant to run often (every 15 minutes from AWX, from several nodes at once). Every delivery is recorded per window,
    event, channel and recipient in O(ops_state) and claimed before it is sent, so each message goes out once, also when
    runs overlap or a run is repeated. A failed delivery (a refused recipient, a webhook answering 500 after the
    retries) is tried again by the next run; the recipients that got it are not sent it again.
  - Reminders that fell due while no run happened are not all sent late, only the latest one; the others are recorded as
    skipped. A window that has started, ended or been cancelled gets only its lifecycle message.
  - "Email: one SMTP transaction per recipient (text, HTML and an iCalendar invitation with METHOD:REQUEST, or
    METHOD:CANCEL on cancellation). Webhooks: JSON (generic), Slack or Microsoft Teams payloads."
  - The task fails when any delivery failed, after trying all of them; RV(deliveries) lists each one.
  - A run that dies between sending and recording leaves a claim; once its O(lease) expires the message is sent again
    (at-least-once in that case only). Emails carry a stable Message-ID and webhooks an C(Idempotency-Key) header.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.maintenance
attributes:
  check_mode:
    support: full
    details: Reports what would be sent (C(would_send)) and skipped; sends and records nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  id:
    description: Only this window. Default is every window, except those finished longer than O(max_age) ago.
    type: str
  max_age:
    description: Windows completed or cancelled longer ago than this are not looked at when O(id) is not given.
    type: str
    default: 30d
  smtp:
    description: The SMTP server for email subscribers and owners. Without it, every email delivery fails.
    type: dict
    suboptions:
      host:
        description: Server name or address.
        type: str
        required: true
      port:
        description: Port.
        type: int
        default: 25
      sender:
        description: Envelope and From address; also the calendar ORGANIZER.
        type: str
        required: true
      secure:
        description: V(never) plain SMTP; V(try) STARTTLS when offered; V(starttls) required; V(ssl) implicit TLS.
        type: str
        choices: [never, try, starttls, ssl]
        default: try
      username:
        description: Login name.
        type: str
      password:
        description: Login password (prefer O(smtp.password_file)). Never returned or logged.
        type: str
      password_file:
        description: A file holding the login password.
        type: path
      timeout:
        description: Seconds per SMTP operation.
        type: int
        default: 20
  retries:
    description: In-run retries of a transient failure (connection lost, 4xx from SMTP, 429/5xx from a webhook).
    type: int
    default: 2
  retry_delay:
    description: Seconds before the first in-run retry (doubled each time).
    type: float
    default: 1.0
  webhook_timeout:
    description: Seconds per webhook request.
    type: int
    default: 20
  lease:
    description: How long a claimed delivery is left to the run that claimed it before another run may retry it.
    type: str
    default: 10m
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
'''

EXAMPLES = r'''
- name: Send what is due (AWX schedule, every 15 minutes)
  watchkeeper.ops.maintenance_notify:
    ops_state: /srv/nfs/watchkeeper
    smtp:
      host: smtp.example.com
      port: 587
      secure: starttls
      sender: status@example.com
      username: status
      password_file: /etc/watchkeeper/smtp-password

- name: One window, windows in a bucket
  watchkeeper.ops.maintenance_notify:
    id: db-reindex-2026-12
    ops_state_store: {type: s3, bucket: acme-ops, prefix: ops-state}
    smtp: {host: localhost, sender: status@example.com, secure: never}
'''

RETURN = r'''
deliveries:
  description:
    - One entry per delivery tried or skipped now. C(status) is V(sent), V(failed), V(skipped) (a stale reminder, or a
      message the window no longer needs; C(channel) and C(recipient) are null then), V(busy) (another run holds it) or
      V(would_send) (check mode). Webhook recipients are shown redacted.
  returned: always
  type: list
  elements: dict
  sample: [{"window": "db-reindex-2026-12", "event": "remind-24h-20261204T010000Z", "kind": "reminder", "revision": 1,
            "channel": "email", "recipient": "ops@example.com", "status": "sent", "attempt": 1, "error": null}]
summary:
  description: Counts by status.
  returned: always
  type: dict
  sample: {"sent": 3, "failed": 0, "skipped": 1, "busy": 0, "would_send": 0, "windows": 2}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils import clock
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.args import COMMON, open_store
from ansible_collections.watchkeeper.ops.plugins.module_utils.maintenance.deliver import Notifier, SmtpSender
from ansible_collections.watchkeeper.ops.plugins.module_utils.policy import maintenance as policy

STATUSES = ("sent", "failed", "skipped", "busy", "would_send")


def smtp_sender(module):
    opts = module.params.get("smtp")
    if not opts:
        return None, None
    password = opts.get("password")
    if opts.get("password_file"):
        try:
            with open(opts["password_file"], "r") as handle:
                password = handle.read().strip()
        except OSError as exc:
            module.fail_json(msg="cannot read smtp.password_file %s: %s" % (opts["password_file"], exc.strerror))
        module.no_log_values.add(password)
    sender = SmtpSender(opts["host"], opts["port"], opts["sender"], opts["secure"], opts.get("username"), password,
                        opts["timeout"], retries=module.params["retries"], delay=module.params["retry_delay"])
    return sender, opts["sender"]


def recent(window, now, max_age_s):
    finished = window.get("completed_at") or window.get("cancelled_at")
    return not finished or (now - policy.parse_time(finished)).total_seconds() <= max_age_s


def main():
    argument_spec = dict(
        id=dict(type="str"),
        max_age=dict(type="str", default="30d"),
        smtp=dict(type="dict", options=dict(
            host=dict(type="str", required=True), port=dict(type="int", default=25),
            sender=dict(type="str", required=True),
            secure=dict(type="str", default="try", choices=["never", "try", "starttls", "ssl"]),
            username=dict(type="str"), password=dict(type="str", no_log=True), password_file=dict(type="path"),
            timeout=dict(type="int", default=20))),
        retries=dict(type="int", default=2),
        retry_delay=dict(type="float", default=1.0),
        webhook_timeout=dict(type="int", default=20),
        lease=dict(type="str", default="10m"),
    )
    argument_spec.update(COMMON)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        max_age_s, lease_s = policy.parse_duration(params["max_age"]), policy.parse_duration(params["lease"])
    except policy.WindowError as exc:
        module.fail_json(msg=str(exc))
    store = open_store(module)
    now = clock.now()
    smtp, sender = smtp_sender(module)
    notifier = Notifier(store, now, smtp=smtp, sender=sender, lease_s=lease_s,
                        webhook_timeout=params["webhook_timeout"], retries=params["retries"],
                        retry_delay=params["retry_delay"], check_mode=module.check_mode)
    rows, errors, seen = [], [], 0
    try:
        if params.get("id"):
            window = store.get(params["id"])
            if window is None:
                module.fail_json(msg="window %s does not exist in %s" % (params["id"], store.storage.describe()))
            windows = [window]
        else:
            windows = [w for w in store.all() if recent(w, now, max_age_s)]
        for window in windows:
            seen += 1
            try:
                rows.extend(notifier.window(window))
            except (WatchkeeperError, policy.WindowError, KeyError, ValueError) as exc:
                errors.append("window %s: %s" % (window.get("id"), exc))
    except WatchkeeperError as exc:
        errors.append(exc.describe())
    finally:
        if smtp is not None:
            smtp.close()
    summary = dict((s, sum(1 for r in rows if r["status"] == s)) for s in STATUSES)
    summary["windows"] = seen
    changed = bool(summary["sent"] or summary["failed"] or (summary["skipped"] and not module.check_mode))
    failed = [r for r in rows if r["status"] == "failed"]
    if failed or errors:
        msgs = ["%s %s to %s: %s" % (r["window"], r["event"], r["recipient"], r["error"]) for r in failed] + errors
        module.fail_json(msg="%d deliveries failed (the next run tries them again): %s" % (len(msgs), "; ".join(msgs)),
                         changed=changed, deliveries=rows, summary=summary)
    module.exit_json(changed=changed, deliveries=rows, summary=summary)


if __name__ == "__main__":
    main()
