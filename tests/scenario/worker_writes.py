#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Issue #11 regression: a client's signed PUT or DELETE sent straight to a
worker was answered 204 and never forwarded (the client believed a write
that was thrown away). A worker now takes block reads and the gateways'
invalidations only (a DELETE marked x-cachalot-invalidate, signed under
the cluster's key); anything else gets a clear S3 error, and the origin
sees nothing of it. Through a gateway, writes still go through and
invalidate what the workers hold (read-after-write).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks  # noqa: E402
from cluster import Cluster  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    return 200, "ok"


def main():
    ck = Checks("worker_writes")
    with Cluster(workers=1, gateways=1) as cl:
        gw = cl.client(0)
        wk = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{cl.worker_ports[0][0]}",
                          aws_access_key_id=AK, aws_secret_access_key=SK, region_name="us-east-1",
                          config=Config(retries={"max_attempts": 0}))
        b = "worker-writes"
        gw.create_bucket(Bucket=b)
        gw.put_object(Bucket=b, Key="k", Body=b"v1")
        ck.check(gw.get_object(Bucket=b, Key="k")["Body"].read() == b"v1", "read through the gateway")
        cl.reset()

        st, code = code_of(lambda: wk.put_object(Bucket=b, Key="k", Body=b"thrown away?"))
        ck.check(st == 405 and code == "MethodNotAllowed",
                 f"a client's PUT straight to a worker: {st} {code} (was 204, and dropped)")
        st, code = code_of(lambda: wk.delete_object(Bucket=b, Key="k"))
        ck.check(st == 405 and code == "MethodNotAllowed",
                 f"a client's DELETE (unmarked) straight to a worker: {st} {code}")
        st, code = code_of(lambda: wk.list_objects_v2(Bucket=b))
        ck.check(st == 405 and code == "MethodNotAllowed", f"a LIST straight to a worker: {st} {code}")
        c = cl.counts()
        ck.check(c["requests"] == 0, f"the origin saw nothing of them: {c['requests']} requests")
        ck.check(gw.get_object(Bucket=b, Key="k")["Body"].read() == b"v1",
                 "the object is untouched (and still cached)")

        # Through the gateway: the write goes through, the workers forget.
        gw.put_object(Bucket=b, Key="k", Body=b"v2")
        ck.check(gw.get_object(Bucket=b, Key="k")["Body"].read() == b"v2",
                 "read-after-write through the gateway")
        gw.delete_object(Bucket=b, Key="k")
        st, code = code_of(lambda: gw.get_object(Bucket=b, Key="k"))
        ck.check(st == 404, f"deleted through the gateway: {st} {code}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
