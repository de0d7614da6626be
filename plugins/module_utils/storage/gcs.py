# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``gcs`` destination: Google Cloud Storage through google-cloud-storage.

A writer is one resumable upload (``blob.open("wb")``) sent in chunks of ``part_size_mb``,
created with ``if_generation_match=0`` so an existing object is never replaced (the key is
also checked before the upload starts, for emulators that ignore preconditions). ``commit()``
finalizes the upload, reloads the object and compares its size and MD5 with what was sent;
``abort()`` cancels the resumable session so nothing becomes visible. Every call is bounded by
``timeout`` (request timeout and retry deadline), so a dead endpoint fails in about that long.
"""

import base64
import json
import os

try:
    import google.auth
    from google.api_core import exceptions as gexc
    from google.auth.credentials import AnonymousCredentials
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account
    from google.cloud import storage as gcs_storage
    from google.cloud.storage.retry import DEFAULT_RETRY
    HAS_GCS = True
except ImportError:
    HAS_GCS = False

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ChecksumMismatch, StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.base import (
    BucketStorage, DEFAULT_CHUNK, ObjectInfo, Writer, md5)
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.gcs_cas import GCSConditional
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.gcs_holds import GCSHolds

MIB = 1024 * 1024
CHUNK_MULTIPLE = 256 * 1024
SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
UNREACHABLE = ("ConnectionError", "ConnectTimeout", "ReadTimeout", "Timeout", "TransportError", "ProtocolError",
               "NewConnectionError", "MaxRetryError", "SSLError", "ChunkedEncodingError")


def _status(exc):
    """The HTTP status of a google/requests exception, or None."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


class GCSWriter(Writer):
    """One resumable upload; never used as a context manager (that would finalize on error)."""

    def __init__(self, storage, key):
        super(GCSWriter, self).__init__(storage, key)
        self.full = storage.full_key(key)
        self.md5 = md5()  # compared with the md5Hash GCS computes
        self.cancel_status = None
        self.blob = storage.bucket.blob(self.full)
        kwargs = dict(chunk_size=storage.chunk_size, ignore_flush=True, checksum="md5", if_generation_match=0,
                      retry=storage.retry, timeout=storage.timeout)
        self.stream = storage.call("upload", "cannot start the upload of %s" % self.full, self.blob.open, "wb", **kwargs)

    def _write(self, chunk):
        try:
            self.stream.write(chunk)
        except Exception as exc:  # pylint: disable=broad-except
            err = self.storage.error(exc, "upload of %s failed" % self.full, "upload")
            self.abort()
            raise err
        self.md5.update(chunk)

    def _commit(self, size, sha256):
        st = self.storage
        st.refuse_existing(self.full, "commit")  # if_generation_match=0 covers real GCS; emulators ignore it
        try:
            self.stream.close()
        except Exception as exc:  # pylint: disable=broad-except
            if type(exc).__name__ == "DataCorruption":
                generation = self._generation_from(exc)
                if generation:
                    st.call("commit", "cannot remove the corrupt object %s" % self.full, self.blob.delete,
                            if_generation_match=generation, timeout=st.timeout, retry=st.retry)
                raise ChecksumMismatch("GCS reports a different MD5 for %s than was sent; the object was removed: %s"
                                       % (st.location(self.key), exc), step="commit", destination=st.name)
            raise st.error(exc, "finishing the upload of %s failed" % self.full, "commit")
        st.call("commit", "cannot confirm %s after upload" % self.full, self.blob.reload, timeout=st.timeout, retry=st.retry)
        sent_md5 = base64.b64encode(self.md5.digest()).decode("ascii")
        if self.blob.size != size or (self.blob.md5_hash and self.blob.md5_hash != sent_md5):
            st.call("commit", "cannot remove the mismatching object %s" % self.full, self.blob.delete,
                    if_generation_match=self.blob.generation, timeout=st.timeout, retry=st.retry)
            raise ChecksumMismatch("%s holds %s bytes (md5 %s) after upload, expected %d bytes (md5 %s); the object was removed"
                                   % (st.location(self.key), self.blob.size, self.blob.md5_hash, size, sent_md5),
                                   step="commit", destination=st.name)
        return {"md5": self.blob.md5_hash, "generation": self.blob.generation, "size_confirmed": True,
                "md5_confirmed": self.blob.md5_hash == sent_md5}

    @staticmethod
    def _generation_from(exc):
        try:
            return int(exc.response.json().get("generation"))
        except Exception:  # pylint: disable=broad-except
            return None

    def _abort(self):
        """Cancel the resumable session (DELETE on the session URI), then release the buffer.

        ``BlobWriter.terminate()`` sends its DELETE to the initiation URL, not to the session URI
        that the documented cancel needs, so the session is cancelled here and ``terminate()``
        only closes the buffer. A session that cannot be cancelled is never finalized and
        expires on its own (GCS reaps it after a week); nothing becomes visible.
        """
        pair = getattr(self.stream, "_upload_and_transport", None)
        try:
            if pair is not None:
                self.stream._upload_and_transport = None  # keep terminate() from sending its own DELETE
                upload, transport = pair
                url = getattr(upload, "resumable_url", None)
                if url and not getattr(upload, "finished", False):
                    self.cancel_status = transport.delete(url, timeout=self.storage.timeout).status_code
        finally:
            self.stream.terminate()


class GCSStorage(GCSHolds, GCSConditional, BucketStorage):
    kind = "gcs"
    scheme = "gs"
    writer_class = GCSWriter

    def __init__(self, spec):
        super(GCSStorage, self).__init__(spec)
        if not HAS_GCS:
            raise StorageError("the gcs destination needs the Python library google-cloud-storage on the managed host",
                               step="configure", destination=self.name, hint="install it, e.g. pip install google-cloud-storage")
        retries = 3 if spec.get("retries") is None else int(spec["retries"])
        self.retry = DEFAULT_RETRY.with_timeout(float(self.timeout)) if retries > 0 else None
        self.chunk_size = max(CHUNK_MULTIPLE, (int(spec.get("part_size_mb") or 16) * MIB) // CHUNK_MULTIPLE * CHUNK_MULTIPLE)
        self._bucket_seen = False
        credentials, project, self.credentials_source = self._credentials(spec)
        project = spec.get("project") or project or os.environ.get("GCE_PROJECT") or None
        options = {"api_endpoint": self.endpoint} if self.endpoint else None
        try:
            self.client = gcs_storage.Client(project=project, credentials=credentials, client_options=options)
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, "cannot set up the GCS client", "configure")
        self.bucket = self.client.bucket(self.bucket_name)

    def _credentials(self, spec):
        """``(credentials, project, source)``: credentials_file, GOOGLE_APPLICATION_CREDENTIALS, GCE_CREDENTIALS_FILE_PATH, ADC."""
        if spec.get("anonymous"):
            return AnonymousCredentials(), None, "anonymous"
        if spec.get("credentials_file"):
            return self._from_file(spec["credentials_file"], "credentials_file")
        if not os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") and os.environ.get("GCE_CREDENTIALS_FILE_PATH"):
            return self._from_file(os.environ["GCE_CREDENTIALS_FILE_PATH"], "GCE_CREDENTIALS_FILE_PATH")
        source = "GOOGLE_APPLICATION_CREDENTIALS (%s)" % os.environ["GOOGLE_APPLICATION_CREDENTIALS"] \
            if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") else "application default credentials"
        try:  # google.auth.default() reads GOOGLE_APPLICATION_CREDENTIALS first, then gcloud ADC and the metadata server
            creds, project = google.auth.default(scopes=[SCOPE])
        except Exception as exc:  # pylint: disable=broad-except
            raise StorageError("no usable Google credentials (%s): %s" % (source, exc), step="configure", destination=self.name,
                               hint="set credentials_file, GOOGLE_APPLICATION_CREDENTIALS or GCE_CREDENTIALS_FILE_PATH "
                                    "(an AWX Google Compute Engine credential), or anonymous: true for an emulator")
        return creds, project, source

    def _from_file(self, path, source):
        """Load a service account (or gcloud authorized-user) JSON key; other types are refused."""
        try:
            with open(path, "r", encoding="utf-8") as handle:
                info = json.load(handle)
            kind = info.get("type") if isinstance(info, dict) else None
            if kind == "service_account":
                creds = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
            elif kind == "authorized_user":
                creds = user_credentials.Credentials.from_authorized_user_info(info, scopes=[SCOPE])
            else:
                raise ValueError("unsupported credential type %r (expected service_account or authorized_user)" % kind)
        except (OSError, ValueError, KeyError) as exc:
            text = exc.strerror if isinstance(exc, OSError) else str(exc).splitlines()[0][:200]
            raise StorageError("cannot load Google credentials from %s (%s): %s" % (source, path, text), step="configure",
                               destination=self.name, hint="the file must be a service account JSON key")
        return creds, info.get("project_id") or info.get("quota_project_id"), "%s (%s)" % (source, path)

    # -- helpers ----------------------------------------------------------------------------
    def error(self, exc, what, step):
        """Translate a google/requests exception into a ``StorageError`` (credentials never appear)."""
        if isinstance(exc, StorageError):
            return exc
        cause = exc
        if isinstance(exc, gexc.RetryError) and exc.cause is not None:
            cause = exc.cause
        status = _status(cause)
        name = type(cause).__name__
        where = self.endpoint or "storage.googleapis.com"
        hint = None
        if status == 404 and step in ("probe", "bucket"):
            why = "bucket %s does not exist (HTTP 404)" % self.bucket_name
            hint = "create the bucket or fix 'bucket' and 'endpoint_url'"
        elif status == 401 or name in ("RefreshError", "DefaultCredentialsError"):
            why = "the credentials were rejected (%s): %s" % (self.credentials_source, cause)
            hint = "check the service account key, or that its project and account are still enabled"
        elif status == 403:
            why = "access denied (HTTP 403) using %s: %s" % (self.credentials_source, cause)
            hint = "grant the account roles/storage.objectCreator and objectViewer (objectAdmin for retention) on %s" % self.bucket_name
        elif status == 412:
            why = "the object already exists (HTTP 412)"
        elif status is not None:
            why = "HTTP %s: %s" % (status, self._response_text(cause))
        elif name in UNREACHABLE or isinstance(cause, OSError):
            why = "endpoint %s unreachable: %s" % (where, cause)
            hint = "check endpoint_url, DNS, firewall and proxy; timeout is %ss" % self.timeout
        else:
            why = "%s: %s" % (name, cause)
        if isinstance(exc, gexc.RetryError):
            why = "%s (gave up after retrying for %ss)" % (why, self.timeout)
        return StorageError("%s: %s" % (what, why), step=step, destination=self.name, hint=hint)

    @staticmethod
    def _response_text(exc):
        if getattr(exc, "message", None):
            return exc.message[:300]
        text = getattr(getattr(exc, "response", None), "text", None)
        return (text or str(exc))[:300]

    def call(self, step, what, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, what, step)

    def _check_bucket(self, step):
        """``get_blob`` answers None for a missing bucket too; ask once whether the bucket exists."""
        if self._bucket_seen:
            return
        try:
            exists = self.bucket.exists(timeout=self.timeout, retry=self.retry)
        except gexc.Forbidden:
            exists = True  # an object-only account may not read bucket metadata
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, "bucket %s is not usable" % self.bucket_name, step)
        if not exists:
            raise StorageError("bucket %s does not exist" % self.bucket_name, step=step, destination=self.name,
                               hint="create the bucket or fix 'bucket' and 'endpoint_url'")
        self._bucket_seen = True

    def _get_blob(self, full, step):
        blob = self.call(step, "cannot read the metadata of %s" % full, self.bucket.get_blob, full, timeout=self.timeout, retry=self.retry)
        if blob is None:
            self._check_bucket(step)
        return blob

    def _exists(self, full, step):
        return self._get_blob(full, step) is not None

    # -- interface --------------------------------------------------------------------------
    def put_bytes(self, key, data, overwrite=False):
        full = self.full_key(key)
        data = bytes(data)
        blob = self.bucket.blob(full)
        kwargs = dict(checksum="md5", timeout=self.timeout, retry=self.retry)
        if not overwrite:
            self.refuse_existing(full, "upload")
            kwargs["if_generation_match"] = 0
        self.call("upload", "cannot write %s" % full, blob.upload_from_string, data, content_type="application/octet-stream", **kwargs)
        if blob.size != len(data):
            raise StorageError("%s holds %s bytes after upload, expected %d" % (full, blob.size, len(data)), step="upload",
                               destination=self.name)
        return ObjectInfo(key, blob.size, blob.updated)

    def delete(self, key):
        full = self.full_key(key)
        try:
            self.bucket.blob(full).delete(timeout=self.timeout, retry=self.retry)
        except gexc.NotFound:
            pass
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, "cannot delete %s" % full, "delete")

    def stat(self, key):
        blob = self._get_blob(self.full_key(key), "read")
        return None if blob is None else ObjectInfo(key, blob.size, blob.updated)

    def list(self, prefix=""):
        full = self.full_prefix(prefix)
        try:
            for blob in self.client.list_blobs(self.bucket_name, prefix=full or None, timeout=self.timeout, retry=self.retry):
                if not blob.name.endswith("/"):
                    yield ObjectInfo(self.rel_key(blob.name), blob.size, blob.updated)
        except gexc.NotFound:
            raise StorageError("cannot list %s: bucket %s does not exist" % (self.location(prefix), self.bucket_name),
                               step="list", destination=self.name, hint="create the bucket or fix 'bucket' and 'endpoint_url'")
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, "cannot list %s" % self.location(prefix), "list")

    def _existing(self, key):
        blob = self._get_blob(self.full_key(key), "read")
        if blob is None:
            raise StorageError("object %s not found" % self.location(key), step="read", destination=self.name)
        return blob

    def get_bytes(self, key, max_bytes=64 * 1024 * 1024):
        blob = self._existing(key)
        if blob.size > max_bytes:
            raise StorageError("object %s is larger than %d bytes" % (key, max_bytes), step="read", destination=self.name)
        return self.call("read", "reading %s failed" % key, blob.download_as_bytes, checksum="md5", raw_download=True,
                         timeout=self.timeout, retry=self.retry)

    def iter_read(self, key, chunk_size=DEFAULT_CHUNK):
        blob = self._existing(key)  # pins the generation, so chunks never mix two versions
        if not blob.size:
            return
        reader = self.call("read", "cannot open %s" % key, blob.open, "rb", chunk_size=chunk_size, raw_download=True,
                           timeout=self.timeout, retry=self.retry)
        try:
            while True:
                block = self.call("read", "reading %s failed" % key, reader.read, chunk_size)
                if not block:
                    return
                yield block
        finally:
            reader.close()

    def probe(self):
        try:
            self.bucket.reload(timeout=self.timeout, retry=self.retry)
            detail = "%s reachable" % self.describe()
        except gexc.Forbidden:
            try:
                next(iter(self.client.list_blobs(self.bucket_name, max_results=1, timeout=self.timeout, retry=self.retry)), None)
                detail = "%s reachable (objects listable; bucket metadata not readable)" % self.describe()
            except Exception as exc:  # pylint: disable=broad-except
                return {"reachable": False, "writable": False, "free_bytes": None,
                        "detail": self.error(exc, "listing %s failed" % self.describe(), "probe").describe()}
        except Exception as exc:  # pylint: disable=broad-except
            return {"reachable": False, "writable": False, "free_bytes": None,
                    "detail": self.error(exc, "reading bucket %s failed" % self.bucket_name, "probe").describe()}
        writable = None
        try:
            granted = self.bucket.test_iam_permissions(["storage.objects.create"], timeout=self.timeout, retry=self.retry)
            writable = "storage.objects.create" in (granted or [])
        except Exception:  # pylint: disable=broad-except
            writable = None
        state = {True: "writable", False: "NOT writable (storage.objects.create missing)", None: "write access unknown"}[writable]
        return {"reachable": True, "writable": writable, "free_bytes": None,
                "detail": "%s, %s, credentials: %s" % (detail, state, self.credentials_source)}

    def cleanup_incomplete(self, prefix, older_than_s=0):
        """Resumable sessions cannot be listed; unfinalized ones are never visible and expire after a week."""
        return []

    def close(self):
        closer = getattr(self.client, "close", None)
        if closer is not None:
            closer()
