#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Refused requests through Cachalot's gateway: each gets AWS's status and
error code, carries x-amz-request-id equal to the RequestId in its body, and
nothing of it reaches the origin (counted at the front)."""
import hashlib
import hmac
import os
import re
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks, Rig  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


def raw(method, url, headers=None, body=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def sign_v4(method, host, path, t, secret=SK, region="us-east-1", body=b""):
    """A SigV4 header signature made here (hashlib), at time t."""
    amz = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))
    payload = hashlib.sha256(body).hexdigest()
    hdrs = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz}
    signed = ";".join(sorted(hdrs))
    creq = "\n".join([method, quote(path, safe="/~"), "",
                      "".join(f"{k}:{hdrs[k]}\n" for k in sorted(hdrs)), signed, payload])
    scope = f"{amz[:8]}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = hmac.new(("AWS4" + secret).encode(), amz[:8].encode(), hashlib.sha256).digest()
    for part in (region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    hdrs["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={signed}, "
                             f"Signature={sig}")
    return hdrs


def check_error(ck, what, status, headers, body, want_status, want_code):
    text = body.decode(errors="replace")
    code = re.search(r"<Code>([^<]*)</Code>", text)
    rid = re.search(r"<RequestId>([^<]*)</RequestId>", text)
    ck.check(status == want_status, f"{what}: status {status}, want {want_status}: {text[:300]}")
    ck.check(code is not None and code.group(1) == want_code,
             f"{what}: code {code.group(1) if code else None}, want {want_code}")
    hid = {k.lower(): v for k, v in headers.items()}.get("x-amz-request-id")
    ck.check(rid is not None and hid == rid.group(1), f"{what}: x-amz-request-id {hid} matches body")
    return text


def main():
    ck = Checks("auth")
    with Rig() as rig:
        s3 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1")
        s3.create_bucket(Bucket="auth-bucket")
        s3.put_object(Bucket="auth-bucket", Key="k", Body=b"secret bytes")
        host = rig.endpoint[len("http://"):]
        url = rig.endpoint + "/auth-bucket/k"
        rig.reset()

        st, h, b = raw("GET", url)
        check_error(ck, "unsigned GET", st, h, b, 403, "AccessDenied")

        bad = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                           aws_secret_access_key="wrong", region_name="us-east-1",
                           config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        try:
            bad.get_object(Bucket="auth-bucket", Key="k")
            ck.check(False, "wrong secret accepted")
        except ClientError as e:
            ck.check(e.response["Error"]["Code"] == "SignatureDoesNotMatch" and
                     e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, "wrong secret: 403 SignatureDoesNotMatch")

        unk = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id="NOSUCHKEY",
                           aws_secret_access_key=SK, region_name="us-east-1",
                           config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        try:
            unk.get_object(Bucket="auth-bucket", Key="k")
            ck.check(False, "unknown key accepted")
        except ClientError as e:
            ck.check(e.response["Error"]["Code"] == "InvalidAccessKeyId" and
                     e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, "unknown key: 403 InvalidAccessKeyId")

        st, h, b = raw("GET", url, sign_v4("GET", host, "/auth-bucket/k", time.time() - 1200))
        check_error(ck, "clock 20 minutes behind", st, h, b, 403, "RequestTimeTooSkewed")
        st, h, b = raw("GET", url, sign_v4("GET", host, "/auth-bucket/k", time.time() + 1200))
        check_error(ck, "clock 20 minutes ahead", st, h, b, 403, "RequestTimeTooSkewed")
        st, h, b = raw("GET", url, sign_v4("GET", host, "/auth-bucket/k", time.time()))
        ck.check(st == 200 and b == b"secret bytes", "a correct hand-made signature works")
        rig.reset()

        st, h, b = raw("GET", url, sign_v4("GET", host, "/auth-bucket/k", time.time(),
                                           region="eu-west-1"))
        text = check_error(ck, "wrong region", st, h, b, 400, "AuthorizationHeaderMalformed")
        ck.check("<Region>us-east-1</Region>" in text, "wrong region: the answer names ours")

        v4 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1",
                          config=Config(signature_version="s3v4"))
        purl = v4.generate_presigned_url("get_object", Params={"Bucket": "auth-bucket", "Key": "k"},
                                         ExpiresIn=1)
        time.sleep(2.1)
        st, h, b = raw("GET", purl)
        check_error(ck, "expired presigned URL", st, h, b, 403, "AccessDenied")
        st, h, b = raw("GET", purl.replace("X-Amz-Expires=1", "X-Amz-Expires=3600"))
        check_error(ck, "presigned URL with its expiry changed", st, h, b, 403, "SignatureDoesNotMatch")

        # A body changed after signing: botocore signs the payload hash over
        # plain HTTP; a hook swaps one byte before it is sent.
        tam = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                           aws_secret_access_key=SK, region_name="us-east-1",
                           config=Config(retries={"max_attempts": 1},
                                         request_checksum_calculation="when_required")
                           if "request_checksum_calculation" in Config.OPTION_DEFAULTS
                           else Config(retries={"max_attempts": 1}))

        def swap(request, **kw):
            if request.body:
                body = request.body if isinstance(request.body, bytes) else request.body.read()
                request.body = body[:-1] + b"!"
        tam.meta.events.register("before-send.s3.PutObject", swap)
        try:
            tam.put_object(Bucket="auth-bucket", Key="tampered", Body=b"original content")
            ck.check(False, "tampered body accepted")
        except ClientError as e:
            ck.check(e.response["Error"]["Code"] in ("XAmzContentSHA256Mismatch", "BadDigest") and
                     e.response["ResponseMetadata"]["HTTPStatusCode"] == 400,
                     f"tampered body: {e.response['Error']['Code']}")
        c = rig.counts()
        ck.check(c["requests"] == 0, f"refused requests reached the origin: {c['requests']}")
        try:
            s3.head_object(Bucket="auth-bucket", Key="tampered")
            ck.check(False, "tampered object exists at the origin")
        except ClientError as e:
            ck.check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, "tampered object not stored")

        m = rig.metrics()
        n = re.search(r"^cachalot_auth_refused_total (\d+)$", m, re.M)
        ck.check(n is not None and int(n.group(1)) >= 8, "metrics count the refused requests")
        ck.check(re.search(r'cachalot_errors_total\{code="SignatureDoesNotMatch"\} \d+', m) is not None,
                 "metrics count errors by code")
        ck.check(rig.alive(), "cachalot still running")
    ck.check(not rig.sanitizer, f"sanitizers quiet: {rig.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
