#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Bodies stream with bounded memory: a 512 MiB upload and download through
the gateway leave its peak RSS (VmHWM) within a fixed bound of where it was,
whatever the object's size, and the bytes arrive whole (sha256)."""
import hashlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks, Rig  # noqa: E402

import boto3  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402

SIZE = 512 * 1024 * 1024
BOUND = 96 * 1024 * 1024	# buffers per request are a few MiB; ASan adds its own


def hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ck = Checks("bigbody")
    tmp = tempfile.mkdtemp(prefix="cachalot-big-")
    path = os.path.join(tmp, "big")
    h = hashlib.sha256()
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for i in range(SIZE >> 20):
            chunk = block[i % 7:] + block[:i % 7]
            f.write(chunk)
            h.update(chunk)
    want = h.hexdigest()
    with Rig() as rig:
        s3 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1")
        s3.create_bucket(Bucket="big-bucket")
        s3.put_object(Bucket="big-bucket", Key="warm", Body=b"x" * 1024)
        base = hwm(rig.gateway.pid)
        # One single PUT (not multipart): the whole body through one request.
        s3.upload_file(path, "big-bucket", "big",
                       Config=TransferConfig(multipart_threshold=SIZE + 1, use_threads=False))
        up = hwm(rig.gateway.pid)
        ck.check(up - base < BOUND, f"upload of 512 MiB raised peak RSS by {(up - base) >> 20} MiB")
        r = s3.get_object(Bucket="big-bucket", Key="big")
        g = hashlib.sha256()
        n = 0
        for chunk in r["Body"].iter_chunks(1 << 20):
            g.update(chunk)
            n += len(chunk)
        ck.check(n == SIZE and g.hexdigest() == want, "512 MiB download arrives whole")
        down = hwm(rig.gateway.pid)
        ck.check(down - base < BOUND, f"download of 512 MiB raised peak RSS by {(down - base) >> 20} MiB")
        print(f"bigbody: gateway peak RSS {base >> 20} MiB before, {up >> 20} after the upload, "
              f"{down >> 20} after the download", flush=True)
        ck.check(rig.alive(), "cachalot still running")
    os.unlink(path)
    os.rmdir(tmp)
    ck.check(not rig.sanitizer, f"sanitizers quiet: {rig.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
