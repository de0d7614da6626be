# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception family for the whole collection.

module_utils raise these; a module's ``main()`` catches ``WatchkeeperError`` once and turns it
into ``fail_json`` with ``msg`` (what failed, where, why, what to do) plus ``step`` and
``destination`` so playbooks and reports can branch on them.
"""


class WatchkeeperError(Exception):
    """Base error. ``step``: the phase that failed; ``destination``: its name, when one is involved."""

    def __init__(self, msg, step=None, destination=None, hint=None):
        super(WatchkeeperError, self).__init__(msg)
        self.msg = msg
        self.step = step
        self.destination = destination
        self.hint = hint

    def describe(self):
        """A one-line message naming the step and the destination, then the hint."""
        where = []
        if self.step:
            where.append("step %s" % self.step)
        if self.destination:
            where.append("destination %s" % self.destination)
        text = "%s: %s" % (", ".join(where), self.msg) if where else self.msg
        if self.hint:
            text = "%s (%s)" % (text, self.hint)
        return text

    def as_dict(self):
        return {"error": self.describe(), "step": self.step, "destination": self.destination}

    def __str__(self):
        return self.describe()


class ConfigError(WatchkeeperError):
    """Invalid or contradictory options."""


class SourceError(WatchkeeperError):
    """The data source (database, file tree) could not be read."""


class PipelineError(WatchkeeperError):
    """A stage of the stream (dump, compression, encryption) failed."""


class CryptoError(WatchkeeperError):
    """Keys, recipients or passphrases are missing or wrong."""


class StorageError(WatchkeeperError):
    """A destination refused or lost data, or could not be reached."""


class ChecksumMismatch(StorageError):
    """Stored bytes do not match the checksum the writer computed."""


class ManifestError(WatchkeeperError):
    """A manifest is missing, malformed or of an unknown schema."""


class LockHeld(WatchkeeperError):
    """Another run holds the job's lock."""

    def __init__(self, msg, holder=None, **kwargs):
        super(LockHeld, self).__init__(msg, **kwargs)
        self.holder = holder or {}
