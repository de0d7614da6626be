# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dashboard_jobs filter: the backup role's jobs in the shape ops_dashboard takes."""

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, strategies as st

from ansible_collections.watchkeeper.ops.plugins.filter.dashboard_jobs import FilterModule, dashboard_jobs

NAS = {"name": "nas", "type": "local", "path": "/srv/backups"}
S3 = {"type": "s3", "bucket": "acme", "credentials_file": "/etc/wk/s3.ini"}


def test_backup_role_jobs_become_named_destinations_once_each():
    jobs = [{"name": "app-db", "source": {"type": "postgres", "database": "app"}, "max_age": "4h", "rto": "1h",
             "encryption": {"mode": "symmetric", "passphrase": "x"}, "destinations": [NAS, S3]},
            {"name": "uploads", "source": {"type": "files", "paths": ["/srv/up"]}, "schedule": "daily"}]
    out = dashboard_jobs(jobs, [NAS])
    assert out["jobs"] == [{"name": "app-db", "max_age": "4h", "rto": "1h", "kind": "postgres", "destinations": ["nas", "s3"]},
                           {"name": "uploads", "kind": "files", "destinations": ["nas"]}]
    assert out["destinations"] == [NAS, dict(S3, name="s3")]
    assert "passphrase" not in repr(out["jobs"])  # only the kept keys of a job travel


def test_jobs_already_in_the_module_shape_pass_through():
    jobs = [{"name": "app-db", "rpo": "4h", "kind": "sqlite", "destinations": ["nas"]}, {"name": "b", "destinations": []}]
    out = dashboard_jobs(jobs, [NAS])
    assert out["jobs"] == jobs and out["destinations"] == [NAS]
    assert dashboard_jobs([], None) == {"jobs": [], "destinations": []}
    assert FilterModule().filters()["dashboard_jobs"] is dashboard_jobs


def test_a_job_listed_twice_identically_counts_once():
    job = {"name": "app-db", "destinations": [NAS]}
    assert dashboard_jobs([job, dict(job)])["jobs"] == [{"name": "app-db", "destinations": ["nas"]}]


@pytest.mark.parametrize("jobs, destinations, message", [
    ([{"name": "a", "destinations": [NAS]}, {"name": "b", "destinations": [dict(NAS, path="/other")]}], [],
     "the destination name nas means two different places (job a and job b)"),
    ([{"name": "a", "destinations": [dict(NAS, path="/other")]}], [NAS], "default destinations and job a"),
    ([{"name": "a", "max_age": "4h"}, {"name": "a", "max_age": "8h"}], [NAS], "the job a appears twice"),
    ([{"destinations": []}], [], "every job needs a name"),
    (["app-db"], [], "every job needs a name"),
    ([{"name": "a", "destinations": ["offsite"]}], [NAS], "destinations named by jobs but not given: offsite"),
    ([{"name": "a", "destinations": [{"path": "/x"}]}], [], "job a: a destination needs a name or a type"),
    ([{"name": "a", "destinations": "nas"}], [NAS], "job a: destinations must be a list"),
])
def test_bad_input_is_refused_with_the_reason(jobs, destinations, message):
    with pytest.raises(AnsibleFilterError) as caught:
        dashboard_jobs(jobs, destinations)
    assert message in str(caught.value)


NAMES = st.sampled_from(["nas", "s3", "gcs", "tape"])
SPECS = st.builds(lambda name: {"name": name, "type": "local", "path": "/srv/" + name}, NAMES)


@given(st.lists(st.builds(lambda name, dests: {"name": name, "destinations": dests},
                          st.sampled_from(["a", "b", "c"]), st.one_of(st.none(), st.lists(SPECS, max_size=3))),
                max_size=6),
       st.lists(SPECS, max_size=3))
def test_every_named_destination_is_given_once_and_every_job_once(jobs, defaults):
    try:
        out = dashboard_jobs(jobs, defaults)
    except AnsibleFilterError as exc:  # only a job given twice with other destinations
        assert "appears twice" in str(exc)
        return
    names = [spec["name"] for spec in out["destinations"]]
    assert len(names) == len(set(names))
    assert all(set(job["destinations"]) <= set(names) for job in out["jobs"])
    assert [job["name"] for job in out["jobs"]] == list(dict.fromkeys(job["name"] for job in jobs))
    for job in out["jobs"]:
        first = next(j for j in jobs if j["name"] == job["name"])
        expected = sorted(set(s["name"] for s in defaults)) if first["destinations"] is None else [
            s["name"] for s in first["destinations"]]
        assert job["destinations"] == expected
