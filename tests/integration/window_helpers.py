# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the maintenance window tests: playbooks of frozen-clock tasks, a refusing SMTP server, an .ics reader.

The .ics reader is written here from RFC 5545 (unfold, split name/parameters/value, unescape) and checks the
line rules itself, so it does not trust the collection's writer.
"""

import email
import email.policy
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

from aiosmtpd.controller import Controller

from ansible_run import ansible_env
from notify_helpers import mails

NS = "watchkeeper.ops."


def task(module, args, now, name=None, ignore_errors=True):
    return {"name": name or module, NS + module: args, "environment": {"WATCHKEEPER_NOW": now},
            "register": "r%d" % id(args), "ignore_errors": ignore_errors}


def write_play(tasks):
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": tasks}]
    fd, path = tempfile.mkstemp(suffix=".yml", prefix="wk-mw-play-")
    with os.fdopen(fd, "w") as handle:
        json.dump(play, handle)
    return path


def _results(stdout):
    data = json.loads(stdout[stdout.index("{"):])
    return [t["hosts"]["localhost"] for t in data["plays"][0]["tasks"]]


def run_tasks(tasks, timeout=300):
    """Run the tasks in one ansible-playbook; returns each task's result dict."""
    path = write_play(tasks)
    try:
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                               "-c", "local", path], env=ansible_env(), capture_output=True, text=True,
                              timeout=timeout, check=False)
    finally:
        os.unlink(path)
    try:
        return _results(proc.stdout)
    except ValueError:
        raise AssertionError("no JSON from ansible-playbook\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:]))


def run_together(task_lists, timeout=300):
    """Start one ansible-playbook per task list at the same moment; returns their results in order."""
    out = [None] * len(task_lists)
    barrier = threading.Barrier(len(task_lists))

    def one(i):
        barrier.wait()
        out[i] = run_tasks(task_lists[i], timeout=timeout)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(task_lists))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def window_mails(smtp, window_id):
    """``[(recipient, event, message)]`` of one window from the SMTP server's Maildir."""
    return sorted(((m["To"], m["X-Watchkeeper-Event"], m) for m in mails(smtp).values()
                   if m["X-Watchkeeper-Window"] == window_id), key=lambda t: (t[0], t[1]))


class RefusingSMTP(object):
    """aiosmtpd on loopback that answers 550 to the recipients in ``refuse`` and keeps accepted messages."""

    def __init__(self):
        outer = self
        self.refuse = set()
        self.messages = []

        class Handler(object):
            # pylint: disable-next=invalid-name
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                if address.lower() in outer.refuse:
                    return "550 5.1.1 <%s>: mailbox unavailable" % address
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802 pylint: disable=invalid-name
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                outer.messages.append((list(envelope.rcpt_tos), msg))
                return "250 Message accepted"

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


def ics_part(msg):
    """The text/calendar part of a message: (method parameter, text)."""
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_param("method"), part.get_payload(decode=True).decode("utf-8")
    raise AssertionError("no text/calendar part")


def parse_ics(text):
    """Parse an iCalendar object: checks CRLF and the 75-octet limit, unfolds, and returns
    ``{"VCALENDAR": {...}, "VEVENT": {...}}`` with unescaped values (parameters after ``;`` dropped)."""
    assert text.endswith("\r\n"), "content lines end with CRLF"
    raw = text[:-2].split("\r\n")
    for line in raw:
        assert len(line.encode("utf-8")) <= 75, "line longer than 75 octets: %r" % line
    lines = []
    for line in raw:
        if line.startswith((" ", "\t")):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    out, stack = {}, []
    for line in lines:
        name_part, value = line.split(":", 1)
        name = name_part.split(";", 1)[0].upper()
        if name == "BEGIN":
            stack.append(value)
            out[value] = {}
        elif name == "END":
            assert stack.pop() == value, "unbalanced END:%s" % value
        else:
            unescaped, i = [], 0
            while i < len(value):
                if value[i] == "\\" and i + 1 < len(value):
                    unescaped.append({"n": "\n", "N": "\n"}.get(value[i + 1], value[i + 1]))
                    i += 2
                else:
                    unescaped.append(value[i])
                    i += 1
            out[stack[-1]][name] = "".join(unescaped)
    assert not stack, "unclosed components %s" % stack
    return out
