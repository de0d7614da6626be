# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup role's jobs (destinations as specs, role defaults for the jobs that name none) in the shape
watchkeeper.ops.ops_dashboard takes: jobs that name their destinations, and the destinations once each. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

KEPT = ("name", "rpo", "max_age", "rto", "kind")


def _named(spec, where):
    if not isinstance(spec, dict) or not (spec.get("name") or spec.get("type")):
        raise AnsibleFilterError("dashboard_jobs: %s: a destination needs a name or a type, got %r" % (where, type(spec).__name__))
    return dict(spec, name=spec.get("name") or spec["type"])


def _add(found, spec, where):
    known = found.get(spec["name"])
    if known is None:
        found[spec["name"]] = (spec, where)
    elif known[0] != spec:
        raise AnsibleFilterError("dashboard_jobs: the destination name %s means two different places (%s and %s): give them "
                                 "different names" % (spec["name"], known[1], where))


def _job(job, defaults, found):
    if not isinstance(job, dict) or not isinstance(job.get("name"), str) or not job["name"]:
        raise AnsibleFilterError("dashboard_jobs: every job needs a name, got %s" % (
            "a job with the keys %s" % ", ".join(sorted(str(k) for k in job)) if isinstance(job, dict) else "a %s" % type(job).__name__))
    out = dict((key, job[key]) for key in KEPT if job.get(key) not in (None, ""))
    source = job.get("source")
    if "kind" not in out and isinstance(source, dict) and source.get("type"):
        out["kind"] = source["type"]
    own = job.get("destinations")
    if own is None:
        out["destinations"] = sorted(defaults)
        return out
    if not isinstance(own, list):
        raise AnsibleFilterError("dashboard_jobs: job %s: destinations must be a list" % job["name"])
    names = []
    for spec in own:
        if isinstance(spec, str):  # already a name of a destination given apart
            names.append(spec)
            continue
        spec = _named(spec, "job %s" % job["name"])
        _add(found, spec, "job %s" % job["name"])
        names.append(spec["name"])
    out["destinations"] = names
    return out


def dashboard_jobs(jobs, destinations=None):
    """``{"jobs": [...], "destinations": [...]}`` for ops_dashboard from backup_jobs and backup_destinations.

    A job keeps ``name``, ``rpo``, ``max_age``, ``rto`` and ``kind`` (else its ``source.type``); its destinations
    become names, the role's defaults when it has none of its own. Each destination appears once; one name for two
    different specs is an error. Jobs that appear twice identically count once."""
    found, defaults = {}, []
    for spec in destinations or []:
        spec = _named(spec, "default destinations")
        _add(found, spec, "default destinations")
        if spec["name"] not in defaults:
            defaults.append(spec["name"])
    out, seen = [], {}
    for job in jobs or []:
        converted = _job(job, defaults, found)
        if converted["name"] in seen:
            if seen[converted["name"]] != converted:
                raise AnsibleFilterError("dashboard_jobs: the job %s appears twice with different settings" % converted["name"])
            continue
        seen[converted["name"]] = converted
        out.append(converted)
    unknown = sorted(set(name for job in out for name in job["destinations"]) - set(found))
    if unknown:
        raise AnsibleFilterError("dashboard_jobs: destinations named by jobs but not given: %s" % ", ".join(unknown))
    return {"jobs": out, "destinations": [found[name][0] for name in sorted(found)]}


class FilterModule(object):
    """watchkeeper.ops filters."""

    def filters(self):
        return {"dashboard_jobs": dashboard_jobs}
