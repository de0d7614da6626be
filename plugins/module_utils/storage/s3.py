# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``s3`` destination: AWS S3 or an S3-compatible store, through boto3.

A writer streams a multipart upload: ``write()`` buffers one part (``part_size_mb``, at least
5 MiB), parts go up with ``Content-MD5`` from a small thread pool with at most
``upload_concurrency`` parts in flight, so memory stays near ``(concurrency + 1) * part size``.
An object smaller than one part is a single PutObject. A key that already exists is never
replaced: HEAD before the upload starts, plus ``If-None-Match: *`` on PutObject and
CompleteMultipartUpload when the endpoint supports it (detected on first use). ``commit()``
HEADs the result and compares its length; ``abort()`` aborts the multipart upload.
"""

import base64
import concurrent.futures
import datetime

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    HAS_BOTO3 = True
except ImportError:
    HAS_BOTO3 = False

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import ChecksumMismatch, StorageError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.base import (
    BucketStorage, DEFAULT_CHUNK, ObjectInfo, Writer, md5 as _md5, md5_b64 as _md5_b64)
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.s3_cas import S3Conditional
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.s3_holds import S3Holds

MIB = 1024 * 1024
MIN_PART = 5 * MIB
MAX_PART = 5 * 1024 * MIB
PARTS_PER_STEP = 1000  # the part size doubles every 1000 parts, so 10000 parts cover ~5 TiB

AUTH_CODES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired",
              "InvalidClientTokenId", "AuthorizationHeaderMalformed", "UnrecognizedClientException")


def _part_size(base, number):
    return min(MAX_PART, base * (2 ** ((number - 1) // PARTS_PER_STEP)))


class S3Writer(Writer):
    """A streamed multipart upload (or one PutObject for small objects)."""

    def __init__(self, storage, key):
        super(S3Writer, self).__init__(storage, key)
        self.full = storage.full_key(key)
        self.buf = bytearray()
        self.upload_id = None
        self.pool = None
        self.inflight = {}
        self.parts = {}
        self.part_md5 = {}
        self.next_part = 1

    def _write(self, chunk):
        try:
            self.buf += chunk
            while len(self.buf) >= _part_size(self.storage.part_size, self.next_part):
                size = _part_size(self.storage.part_size, self.next_part)
                with memoryview(self.buf) as view, view[:size] as head:
                    body = bytes(head)  # one copy of the part, not two
                del self.buf[:size]
                self._submit(body)
        except Exception as exc:  # pylint: disable=broad-except
            err = exc if isinstance(exc, StorageError) else self.storage.error(exc, "upload of %s failed" % self.full, "upload")
            self.abort()  # never leave a multipart upload open behind a failed write
            raise err

    def _submit(self, body):
        st = self.storage
        if self.upload_id is None:
            resp = st.call("upload", "cannot start multipart upload of %s" % self.full, st.client.create_multipart_upload,
                           Bucket=st.bucket_name, Key=self.full, **st.put_args)
            self.upload_id = resp["UploadId"]
            self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=st.concurrency, thread_name_prefix="wk-s3")
        if len(self.inflight) >= st.concurrency:
            self._reap(concurrent.futures.FIRST_COMPLETED)
        number = self.next_part
        self.next_part += 1
        self.inflight[self.pool.submit(self._upload_part, number, body)] = number

    def _upload_part(self, number, body):
        st = self.storage
        md5 = _md5(body)  # Content-MD5 lets the server verify each part
        resp = st.call("upload", "upload of part %d of %s failed" % (number, self.full), st.client.upload_part,
                       Bucket=st.bucket_name, Key=self.full, UploadId=self.upload_id, PartNumber=number, Body=body,
                       ContentMD5=base64.b64encode(md5.digest()).decode("ascii"))
        return number, resp["ETag"], md5.digest()

    def _reap(self, return_when):
        done, _pending = concurrent.futures.wait(list(self.inflight), return_when=return_when)
        for fut in done:
            del self.inflight[fut]
            number, etag, digest = fut.result()
            self.parts[number] = etag
            self.part_md5[number] = digest

    def _commit(self, size, sha256):
        st = self.storage
        if self.upload_id is None:
            body = bytes(self.buf)
            self.buf = bytearray()
            st.refuse_existing(self.full, "commit")  # also covers stores that silently ignore If-None-Match
            resp = st.conditional("commit", "upload of %s failed" % self.full, st.client.put_object,
                                  Bucket=st.bucket_name, Key=self.full, Body=body, ContentMD5=_md5_b64(body), **st.put_args)
            nparts = 1
            expected_etag = _md5(body).hexdigest()
        else:
            if self.buf:
                body = bytes(self.buf)
                self.buf = bytearray()
                self._submit(body)
            self._reap(concurrent.futures.ALL_COMPLETED)
            nparts = len(self.parts)
            parts = [{"PartNumber": n, "ETag": self.parts[n]} for n in sorted(self.parts)]
            st.refuse_existing(self.full, "commit")  # also covers stores that silently ignore If-None-Match
            resp = st.conditional("commit", "completing the upload of %s failed" % self.full, st.client.complete_multipart_upload,
                                  Bucket=st.bucket_name, Key=self.full, UploadId=self.upload_id, MultipartUpload={"Parts": parts})
            self.upload_id = None
            self._shutdown()
            joined = b"".join(self.part_md5[n] for n in sorted(self.part_md5))
            expected_etag = "%s-%d" % (_md5(joined).hexdigest(), nparts)
        version = resp.get("VersionId")
        head_args = {"VersionId": version} if version and version != "null" else {}
        head = st.call("commit", "cannot confirm %s after upload" % self.full, st.client.head_object,
                       Bucket=st.bucket_name, Key=self.full, **head_args)
        etag = head.get("ETag", resp.get("ETag", "")).strip('"')
        if head.get("ContentLength") != size:
            st.call("commit", "cannot remove the short object %s" % self.full, st.client.delete_object,
                    Bucket=st.bucket_name, Key=self.full, **head_args)
            raise ChecksumMismatch("%s holds %s bytes after upload, expected %d; the object was removed"
                                   % (st.location(self.key), head.get("ContentLength"), size), step="commit", destination=st.name)
        return {"etag": etag, "size_confirmed": True, "parts": nparts, "etag_confirmed": etag == expected_etag}

    def _shutdown(self):
        if self.pool is not None:
            for fut in self.inflight:
                fut.cancel()
            concurrent.futures.wait(list(self.inflight))
            self.inflight = {}
            self.pool.shutdown(wait=True)
            self.pool = None

    def _abort(self):
        self.buf = bytearray()
        self._shutdown()
        if self.upload_id is None:
            return
        st = self.storage
        try:
            st.client.abort_multipart_upload(Bucket=st.bucket_name, Key=self.full, UploadId=self.upload_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                raise st.error(exc, "cannot abort the multipart upload of %s" % self.full, "abort")
        except BotoCoreError as exc:
            raise st.error(exc, "cannot abort the multipart upload of %s" % self.full, "abort")
        self.upload_id = None


class S3Storage(S3Holds, S3Conditional, BucketStorage):
    kind = "s3"
    scheme = "s3"
    writer_class = S3Writer

    def __init__(self, spec):
        super(S3Storage, self).__init__(spec)
        if not HAS_BOTO3:
            raise StorageError("the s3 destination needs the Python library boto3 on the managed host", step="configure",
                               destination=self.name, hint="install it, e.g. pip install boto3")
        self.part_size = max(MIN_PART, int(spec.get("part_size_mb") or 16) * MIB)
        self.concurrency = max(1, int(spec.get("upload_concurrency") or 4))
        self.secrets = [s for s in (spec.get("secret_key"), spec.get("session_token"), spec.get("access_key")) if s and len(s) >= 8]
        self._conditional = None  # None: unknown, True/False once the endpoint answered If-None-Match
        self._bucket_seen = False
        sse, kms = spec.get("server_side_encryption"), spec.get("kms_key_id")
        if kms and sse == "AES256":
            raise StorageError("kms_key_id needs server_side_encryption aws:kms, not AES256", step="configure", destination=self.name)
        self.put_args = {}
        if spec.get("storage_class"):
            self.put_args["StorageClass"] = spec["storage_class"]
        if sse or kms:
            self.put_args["ServerSideEncryption"] = sse or "aws:kms"
        if kms:
            self.put_args["SSEKMSKeyId"] = kms
        self.client = self._make_client(spec)

    def _make_client(self, spec):
        access, secret, token = spec.get("access_key"), spec.get("secret_key"), spec.get("session_token")
        if bool(access) != bool(secret) or (token and not access):
            raise StorageError("access_key and secret_key must be given together (session_token needs both)",
                               step="configure", destination=self.name)
        config = Config(connect_timeout=self.timeout, read_timeout=self.timeout,
                        retries={"max_attempts": max(0, int(3 if spec.get("retries") is None else spec["retries"])), "mode": "standard"},
                        max_pool_connections=max(10, self.concurrency + 2),
                        request_checksum_calculation="when_required", response_checksum_validation="when_required")
        try:
            if access:
                session = boto3.session.Session(aws_access_key_id=access, aws_secret_access_key=secret, aws_session_token=token)
            else:
                session = boto3.session.Session(profile_name=spec.get("profile") or None)
            return session.client("s3", endpoint_url=self.endpoint or None, region_name=spec.get("region") or None, config=config)
        except (BotoCoreError, ValueError) as exc:
            raise self.error(exc, "cannot set up the S3 client", "configure")

    # -- helpers ----------------------------------------------------------------------------
    def scrub(self, text):
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def error(self, exc, what, step):
        """Translate a boto3/botocore exception into a ``StorageError`` without secrets."""
        where = self.endpoint or "the AWS S3 endpoint"
        hint = None
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code = err.get("Code") or "?"
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            why = "%s (HTTP %s): %s" % (code, status, err.get("Message") or "no message")
            if code == "NoSuchBucket" or (step in ("probe", "bucket") and status == 404):
                why = "bucket %s does not exist (%s)" % (self.bucket_name, why)
                hint = "create the bucket or fix 'bucket', 'region' and 'endpoint_url'"
            elif code in AUTH_CODES:
                why = "the credentials were rejected: %s" % why
                hint = "check access_key/secret_key/session_token, the profile, or the instance role"
            elif code in ("AccessDenied", "AllAccessDisabled") or status == 403:
                why = "access denied: %s" % why
                hint = "the credentials lack permission on bucket %s (s3:PutObject, s3:GetObject, s3:ListBucket, " \
                       "s3:AbortMultipartUpload, s3:DeleteObject)" % self.bucket_name
            elif code == "PermanentRedirect" or status == 301:
                hint = "the bucket is in another region: set 'region'"
            elif code == "PreconditionFailed" or status == 412:
                why = "the object already exists (%s)" % why
        elif type(exc).__name__ in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
                                    "ProxyConnectionError", "SSLError"):
            why = "endpoint %s unreachable: %s" % (where, exc)
            hint = "check endpoint_url/region, DNS, firewall and proxy; timeout is %ss" % self.timeout
        elif type(exc).__name__ in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError", "ProfileNotFound"):
            why = "no usable AWS credentials: %s" % exc
            hint = "set access_key/secret_key, a profile, AWS_* environment variables or an instance role"
        else:
            why = "%s: %s" % (type(exc).__name__, exc)
        return StorageError(self.scrub("%s: %s" % (what, why)), step=step, destination=self.name, hint=hint)

    def call(self, step, what, fn, **kwargs):
        try:
            return fn(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise self.error(exc, what, step)

    def conditional_writes_enforced(self):
        return self._conditional is not False

    def conditional(self, step, what, fn, **kwargs):
        """Call ``fn`` with ``IfNoneMatch='*'`` unless the endpoint is known not to support it."""
        if self._conditional is not False:
            try:
                resp = fn(IfNoneMatch="*", **kwargs)
                self._conditional = True
                return resp
            except ClientError as exc:
                err = exc.response.get("Error", {})
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                text = ("%s %s" % (err.get("Code"), err.get("Message"))).lower()
                if not (status == 501 or "notimplemented" in text or (status == 400 and ("none-match" in text or "nonematch" in text))):
                    raise self.error(exc, what, step)
                self._conditional = False
            except BotoCoreError as exc:
                raise self.error(exc, what, step)
        return self.call(step, what, fn, **kwargs)

    def _head(self, full, step):
        try:
            return self.client.head_object(Bucket=self.bucket_name, Key=full)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                raise self.error(exc, "cannot read the metadata of %s" % full, step)
        except BotoCoreError as exc:
            raise self.error(exc, "cannot read the metadata of %s" % full, step)
        self._check_bucket(step)
        return None

    def _check_bucket(self, step):
        """A HEAD 404 does not say whether the key or the bucket is missing; ask once."""
        if not self._bucket_seen:
            self.call("bucket", "bucket %s is not usable (step %s)" % (self.bucket_name, step), self.client.head_bucket, Bucket=self.bucket_name)
            self._bucket_seen = True

    def _exists(self, full, step):
        return self._head(full, step) is not None

    # -- interface --------------------------------------------------------------------------
    def put_bytes(self, key, data, overwrite=False):
        full = self.full_key(key)
        data = bytes(data)
        args = dict(Bucket=self.bucket_name, Key=full, Body=data, ContentMD5=_md5_b64(data), **self.put_args)
        if overwrite:
            self.call("upload", "cannot write %s" % full, self.client.put_object, **args)
        else:
            self.refuse_existing(full, "upload")
            self.conditional("upload", "cannot write %s" % full, self.client.put_object, **args)
        info = self.stat(key)
        if info is None or info.size != len(data):
            raise StorageError("%s is not readable as written after upload" % full, step="upload", destination=self.name)
        return info

    def delete(self, key):
        full = self.full_key(key)
        self.call("delete", "cannot delete %s" % full, self.client.delete_object, Bucket=self.bucket_name, Key=full)

    def stat(self, key):
        head = self._head(self.full_key(key), "read")
        if head is None:
            return None
        return ObjectInfo(key, head["ContentLength"], head.get("LastModified"))

    def list(self, prefix=""):
        full = self.full_prefix(prefix)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name, Prefix=full)
        try:
            for page in pages:
                for obj in page.get("Contents", []):
                    if not obj["Key"].endswith("/"):
                        yield ObjectInfo(self.rel_key(obj["Key"]), obj["Size"], obj.get("LastModified"))
        except (BotoCoreError, ClientError) as exc:
            raise self.error(exc, "cannot list %s" % self.location(prefix), "list")

    def _get(self, key):
        full = self.full_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket_name, Key=full)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise StorageError("object %s not found" % self.location(key), step="read", destination=self.name)
            raise self.error(exc, "cannot read %s" % full, "read")
        except BotoCoreError as exc:
            raise self.error(exc, "cannot read %s" % full, "read")

    def get_bytes(self, key, max_bytes=64 * 1024 * 1024):
        resp = self._get(key)
        body = resp["Body"]
        try:
            if resp.get("ContentLength", 0) > max_bytes:
                raise StorageError("object %s is larger than %d bytes" % (key, max_bytes), step="read", destination=self.name)
            return body.read()
        except (BotoCoreError, ClientError, OSError) as exc:
            raise self.error(exc, "reading %s failed" % key, "read")
        finally:
            body.close()

    def iter_read(self, key, chunk_size=DEFAULT_CHUNK):
        body = self._get(key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        except (BotoCoreError, ClientError, OSError) as exc:
            raise self.error(exc, "reading %s failed" % key, "read")
        finally:
            body.close()

    def probe(self):
        try:
            resp = self.call("probe", "HeadBucket on %s failed" % self.bucket_name, self.client.head_bucket, Bucket=self.bucket_name)
        except StorageError as exc:
            return {"reachable": False, "writable": False, "free_bytes": None, "detail": exc.describe()}
        region = resp.get("BucketRegion") or resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
        return {"reachable": True, "writable": None, "free_bytes": None,
                "detail": "%s reachable%s; write access is only known after a write" % (self.describe(), " (region %s)" % region if region else "")}

    def cleanup_incomplete(self, prefix, older_than_s=0):
        full = self.full_prefix(prefix)
        cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=older_than_s)
        cleaned = []
        pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket_name, Prefix=full)
        try:
            for page in pages:
                for upload in page.get("Uploads", []):
                    started = upload.get("Initiated")
                    if started is not None and started > cutoff:
                        continue
                    try:
                        self.client.abort_multipart_upload(Bucket=self.bucket_name, Key=upload["Key"], UploadId=upload["UploadId"])
                    except ClientError as exc:
                        if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                            raise
                    cleaned.append("%s (multipart upload started %s)" % (self.rel_key(upload["Key"]),
                                                                         started.isoformat() if started else "at an unknown time"))
        except (BotoCoreError, ClientError) as exc:
            raise self.error(exc, "cannot clean up incomplete uploads under %s" % self.location(prefix), "cleanup")
        return cleaned

    def close(self):
        closer = getattr(self.client, "close", None)
        if closer is not None:
            closer()
