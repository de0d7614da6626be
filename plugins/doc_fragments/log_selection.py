# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """Which log lines a log module reads: the twin of C(SELECTION_SPEC) in plugins/module_utils/logs/selection.py."""

    DOCUMENTATION = r'''
options:
  root:
    description:
      - Root of the collector's tree (role C(logging)), one directory per host.
    type: path
    default: /var/log/remote
  layout:
    description:
      - Path of a stream's current file under O(root), with C({host}) and C({program}).
      - Rotated files next to it are read too (C(.log-20261204-1733300000.gz), C(.log-20261204), C(.log.1), C(.log.2.gz)),
        C(.gz) transparently.
    type: str
    default: "{host}/{program}.log"
  paths:
    description:
      - Read these files, globs or directories instead of O(root) (for example C(/var/log/app/*.log) on an application host).
      - The host is this host (or the one in the line), the program the file name without C(.log).
    type: list
    elements: path
  hosts:
    description: Only these hosts (fnmatch patterns like C(web*)).
    type: list
    elements: str
  programs:
    description: Only these programs (fnmatch patterns).
    type: list
    elements: str
  journal:
    description:
      - Read the systemd journal (C(journalctl -o json)) instead of files; a stream is a host and a
        C(SYSLOG_IDENTIFIER).
    type: bool
    default: false
  since:
    description:
      - Start of the window, ISO 8601 (C(2026-12-05T08:00:00+01:00); without a zone in O(timezone)) or relative
        to now (C(-2h)). By default the beginning of the logs.
    type: str
  until:
    description: End of the window (same forms as O(since)). By default now.
    type: str
  last:
    description: The window is this long and ends at O(until), for example C(30m), C(2h), C(1h30m), C(1d).
    type: str
  timezone:
    description:
      - IANA zone (C(Europe/Paris)) of timestamps written without a zone (RFC 3164, zone-less ISO 8601) and of
        O(since)/O(until) without one. By default the host's zone.
    type: str
  min_level:
    description:
      - Only lines at this severity or worse (C(emerg) 0, C(alert) 1, C(crit) 2, C(err)/C(error) 3, C(warning) 4,
        C(notice) 5, C(info) 6, C(debug) 7; a number works too). The level is the syslog PRI's, a JSON line's
        C(level), else a level word near the start of the message; lines without a level are left out.
    type: str
  mask_secrets:
    description:
      - Mask passwords, bearer and API tokens, AWS keys, private keys, credentials in URLs and JWTs (C(***)) in every
        line returned.
    type: bool
    default: true
'''
