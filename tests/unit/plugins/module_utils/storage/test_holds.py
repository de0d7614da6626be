# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provider holds: S3 Object Lock on moto (legal hold, retention), GCS holds read from JSON API resources by the
real client library, and the bucket retention policy on gcp-storage-emulator (which keeps the policy but drops
object holds)."""

import datetime
import uuid

from google.cloud.storage import Blob, Bucket

from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.gcs_holds import blob_holds

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC)


def test_s3_object_lock_legal_hold_and_retention(moto, s3_bucket):
    client = s3_bucket[1]
    bucket = "wk-lock-%s" % uuid.uuid4().hex[:10]
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    st = open_storage({"type": "s3", "name": "s3", "bucket": bucket, "prefix": "p", "endpoint_url": moto.info["endpoint"],
                       "region": "us-east-1", "access_key": "testing", "secret_key": "testing-secret"})
    try:
        for key in ("a", "b", "c"):
            st.put_bytes(key, b"data")
        client.put_object_legal_hold(Bucket=bucket, Key="p/a", LegalHold={"Status": "ON"})
        until = (NOW + datetime.timedelta(days=3)).replace(microsecond=0)
        client.put_object_retention(Bucket=bucket, Key="p/b", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
        assert st.holds("a") == ["s3 object lock legal hold"]
        assert st.holds("b") == ["s3 object lock retention (GOVERNANCE) until %s" % until.strftime("%Y-%m-%dT%H:%M:%SZ")]
        assert st.holds("b", now=until + datetime.timedelta(seconds=1)) == []
        assert st.holds("c") == [] and st.holds("missing") == []
        assert st.set_hold("c", True) == "s3 object lock legal hold" and st.holds("c") == ["s3 object lock legal hold"]
        st.set_hold("c", False)
        assert st.holds("c") == []
    finally:
        st.close()


def test_gcs_holds_from_json_api_resources():
    bucket = Bucket(client=None, name="b")
    created = NOW - datetime.timedelta(days=1)

    def blob(**fields):
        resource = {"name": "k", "timeCreated": created.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
        resource.update(fields)
        loaded = Blob("k", bucket)
        loaded._set_properties(resource)  # what the library does with a JSON API answer  # pylint: disable=protected-access
        return loaded

    assert blob_holds(blob(), NOW) == []
    assert blob_holds(blob(temporaryHold=True), NOW) == ["gcs temporary hold"]
    assert blob_holds(blob(eventBasedHold=True), NOW) == ["gcs event-based hold"]
    future = (NOW + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert blob_holds(blob(retentionExpirationTime=future), NOW)[0].startswith("gcs retention policy until")
    assert blob_holds(blob(), NOW, bucket_period_s=3 * 86400)[0].startswith("gcs retention policy until")
    assert blob_holds(blob(), NOW, bucket_period_s=3600) == []
    held = blob_holds(blob(retention={"mode": "Locked", "retainUntilTime": future}), NOW)
    assert held and held[0].startswith("gcs object retention (Locked) until")


def test_gcs_bucket_retention_policy_on_the_emulator(gcs, gcs_bucket):
    name, client = gcs_bucket
    st = open_storage({"type": "gcs", "name": "gcs", "bucket": name, "endpoint_url": gcs.info["endpoint"], "anonymous": True,
                       "project": "wk-test"})
    try:
        st.put_bytes("k", b"data")
        assert st.holds("k") == []
        bucket = client.bucket(name)
        bucket.retention_period = 7 * 86400
        bucket.patch()
        fresh = open_storage(dict(st.spec))  # the policy is read once per run
        assert fresh.holds("k")[0].startswith("gcs retention policy until")
        assert fresh.holds("k", now=NOW + datetime.timedelta(days=8)) == []
        fresh.close()
    finally:
        st.close()
