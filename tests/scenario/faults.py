#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An origin that fails, and clients that leave: the gateway answers what
S3 would (the origin's own error passed on; 503 when it cannot be reached),
never completes a response it could not get whole, cancels the origin side
of a request whose client went away, and keeps serving."""
import hashlib
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import read_cut, AK, SK, Checks, Rig  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


def main():
    ck = Checks("faults")
    big = os.urandom(8 * 1024 * 1024)
    with Rig() as rig:
        cfg = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=20)
        s3 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1", config=cfg)
        b = "faults-bucket"
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="big", Body=big)

        rig.fault("status500")
        try:
            s3.get_object(Bucket=b, Key="big")
            ck.check(False, "origin 500 passed on as success")
        except ClientError as e:
            ck.check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 500 and
                     e.response["Error"]["Code"] == "InternalError", "origin's 500 passed on with its code")

        # The origin cuts the body: the gateway has already answered 200 with
        # the object's Content-Length, so all it may do is end the answer
        # short. The client must get the headers, then a strict prefix of the
        # object's bytes, then botocore's truncated-body error; a completed
        # body, other bytes or any other exception fail.
        rig.fault("reset_mid_body")
        resp = s3.get_object(Bucket=b, Key="big")
        ck.check(resp["ResponseMetadata"]["HTTPStatusCode"] == 200 and
                 resp["ContentLength"] == len(big), "cut at the origin: 200 with the whole length")
        got, err = read_cut(resp["Body"])
        ck.check(err is not None, f"a body cut at the origin was completed ({len(got)} bytes)")
        ck.check(len(got) < len(big) and got == big[:len(got)],
                 f"cut body: a strict prefix of the object ({len(got)} bytes)")
        got = s3.get_object(Bucket=b, Key="big")["Body"].read()
        ck.check(hashlib.sha256(got).digest() == hashlib.sha256(big).digest(),
                 "next GET is whole (the broken origin connection was not reused)")

        # A client that leaves mid-download and one that leaves mid-upload.
        s = socket.create_connection(("127.0.0.1", rig.port))
        url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "big"})
        path = url[len(rig.endpoint):]
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{rig.port}\r\n\r\n".encode())
        s.recv(65536)
        s.close()
        v4 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1",
                          config=Config(signature_version="s3v4"))
        purl = v4.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "half"})
        s = socket.create_connection(("127.0.0.1", rig.port))
        s.sendall(f"PUT {purl[len(rig.endpoint):]} HTTP/1.1\r\nHost: 127.0.0.1:{rig.port}\r\n"
                  f"Content-Length: 1000000\r\n\r\n".encode() + b"x" * 300000)
        time.sleep(0.5)
        s.close()
        time.sleep(1.0)
        try:
            s3.head_object(Bucket=b, Key="half")
            ck.check(False, "a half-sent upload was stored")
        except ClientError as e:
            ck.check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, "half-sent upload not stored")
        m = rig.metrics()
        ck.check(re.search(r"^cachalot_open_connections [01]$", m, re.M) is not None,
                 "abandoned connections are closed")
        # The access log is written within about a second: a bounded wait.
        end = time.time() + 5
        while "result=aborted" not in rig.log() and time.time() < end:
            time.sleep(0.1)
        ck.check("result=aborted" in rig.log(), "the access log names aborted requests")

        # The origin gone: 503 ServiceUnavailable, from the gateway.
        rig.kill_front()
        try:
            s3.get_object(Bucket=b, Key="big")
            ck.check(False, "a GET succeeded with the origin down")
        except ClientError as e:
            ck.check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 503 and
                     e.response["Error"]["Code"] == "ServiceUnavailable", "origin down: 503 ServiceUnavailable")
        ck.check(rig.alive(), "cachalot still running")
    ck.check(not rig.sanitizer, f"sanitizers quiet: {rig.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
