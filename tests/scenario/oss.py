#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Cachalot in front of an Alibaba OSS origin (--origin-type oss).

The front plays OSS: it verifies OSS4-HMAC-SHA256 signatures with its own
implementation, insists on virtual-hosted requests, x-oss-* headers only,
x-oss-range-behavior: standard and Content-MD5 on DeleteObjects, then keeps
the bytes in s3rver. boto3 and aws-cli, unchanged, talk S3 to Cachalot."""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks, Rig  # noqa: E402

import boto3  # noqa: E402


def main():
    ck = Checks("oss")
    big = os.urandom(12 * 1024 * 1024)
    with Rig(oss=True) as rig:
        s3 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1")
        b = "oss-bucket"
        s3.create_bucket(Bucket=b)
        keys = ["a.txt", "dir/with space+plus.txt", "dir/\u00fcnicode.txt"]
        for k in keys:
            s3.put_object(Bucket=b, Key=k, Body=k.encode() * 100, Metadata={"owner": "whale"})
        for k in keys:
            r = s3.get_object(Bucket=b, Key=k)
            ck.check(r["Body"].read() == k.encode() * 100, f"get {k!r} through the OSS origin")
            ck.check(r["Metadata"].get("owner") == "whale", f"x-oss-meta-* comes back as x-amz-meta-* ({k!r})")
        import io
        s3.upload_fileobj(io.BytesIO(big), b, "big.bin")
        got = s3.get_object(Bucket=b, Key="big.bin")["Body"].read()
        ck.check(hashlib.sha256(got).digest() == hashlib.sha256(big).digest(), "multipart upload and get")
        r = s3.get_object(Bucket=b, Key="big.bin", Range="bytes=100-1099")
        ck.check(r["Body"].read() == big[100:1100], "ranged get")
        lst = s3.list_objects_v2(Bucket=b, Prefix="dir/", Delimiter="/")
        ck.check(sorted(o["Key"] for o in lst.get("Contents", [])) == sorted(keys[1:]), "list with prefix")
        ck.check(s3.head_object(Bucket=b, Key="big.bin")["ContentLength"] == len(big), "head")

        # DeleteObjects without Content-MD5, as current SDKs send it (with a
        # CRC instead): Cachalot adds the MD5 that OSS requires.
        def drop_md5(request, **kw):
            if "Content-MD5" in request.headers:
                del request.headers["Content-MD5"]
        s3.meta.events.register("before-sign.s3.DeleteObjects", drop_md5)
        out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k} for k in keys]})
        ck.check(len(out.get("Deleted", [])) == len(keys) and not out.get("Errors"),
                 f"batch delete without Content-MD5: {out.get('Errors')}")
        s3.delete_object(Bucket=b, Key="big.bin")
        ck.check(s3.list_objects_v2(Bucket=b).get("KeyCount") == 0, "bucket empty after deletes")

        env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK,
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true")
        env.pop("AWS_CA_BUNDLE", None)
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", rig.endpoint, "s3", "cp", "-",
                            f"s3://{b}/from-cli.txt"], input=b"cli bytes", env=env, capture_output=True)
        ck.check(p.returncode == 0, f"aws-cli streamed upload (aws-chunked, de-chunked for OSS): {p.stderr[-300:]}")
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", rig.endpoint, "s3", "cp",
                            f"s3://{b}/from-cli.txt", "-"], env=env, capture_output=True)
        ck.check(p.stdout == b"cli bytes", "aws-cli get")

        c = rig.counts()
        ck.check(c["bad_signature"] == 0, f"the OSS front refused {c['bad_signature']} requests")
        ck.check(c["oss_violations"] == 0, f"OSS rules broken {c['oss_violations']} times")
        ck.check(c["requests"] > 10, "requests reached the OSS origin")
        ck.check(rig.alive(), "cachalot still running")
        if ck.failed:
            sys.stderr.write(rig.log("front.log")[-3000:])
    ck.check(not rig.sanitizer, f"sanitizers quiet: {rig.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
