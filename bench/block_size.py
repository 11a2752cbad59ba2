#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Block-size benchmark for `cachalot serve` (the real s3rver origin behind
the counting front, on loopback).

For each block size tried it reports, in one run:
  - cold read throughput of a set of large objects (origin -> Cachalot ->
    client) and warm (hit) throughput of the same set, with curl;
  - origin bytes per requested byte for small random ranges (4 KiB to
    64 KiB, as Parquet footers and row groups are read): larger blocks fetch
    more than was asked;
and the ratio of each figure to the 1 MiB block size's.
Usage: block_size.py CACHALOT [SIZES]   (SIZES like 256K,1M,4M)
"""
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "rig"))
from rig import AK, SK, Rig  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

MiB = 1 << 20
OBJECTS, OBJ_SIZE = 8, 32 * MiB
TABLE = 256 * MiB


def curl_all(urls):
    """Reads every URL with curl, 4 at a time; returns seconds."""
    t = time.monotonic()
    procs = []
    for u in urls:
        procs.append(subprocess.Popen(["curl", "-sf", "-o", "/dev/null", u]))
        if len(procs) == 4:
            for p in procs:
                p.wait()
            procs = []
    for p in procs:
        p.wait()
    return time.monotonic() - t


def run(cachalot, bs):
    rnd = random.Random(42)
    with Rig(cachalot=cachalot, role="serve",
             extra=["--block-size", bs, "--mem-cache", "1G", "--disk-cache", "0",
                    "--log-level", "warn", "--access-log", "off"]) as rig:
        s3 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1",
                          config=Config(signature_version="s3v4"))
        s3.create_bucket(Bucket="bench")
        body = os.urandom(OBJ_SIZE)
        for i in range(OBJECTS):
            s3.put_object(Bucket="bench", Key=f"o{i}", Body=body)
        # A large "table" read in small random ranges: blocks rarely repeat.
        s3.upload_fileobj(__import__("io").BytesIO(os.urandom(TABLE)), "bench", "table")
        urls = [s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": f"o{i}"})
                for i in range(OBJECTS)]
        rig.reset()
        cold = curl_all(urls)
        warm = min(curl_all(urls) for _ in range(3))
        rig.reset()
        asked = 0
        turl = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "table"})
        for _ in range(200):
            n = rnd.randrange(4096, 65536)
            a = rnd.randrange(TABLE - n)
            subprocess.run(["curl", "-sf", "-o", "/dev/null", "-H", f"Range: bytes={a}-{a + n - 1}",
                            turl], check=True)
            asked += n
        origin = rig.counts()["bytes_out"]
    total = OBJECTS * OBJ_SIZE / MiB
    return {"cold": total / cold, "warm": total / warm, "amp": origin / asked}


def main():
    cachalot = sys.argv[1]
    sizes = (sys.argv[2] if len(sys.argv) > 2 else "256K,1M,4M").split(",")
    res = {bs: run(cachalot, bs) for bs in sizes}
    ref = res.get("1M") or res[sizes[0]]
    print(f"{OBJECTS} objects of {OBJ_SIZE >> 20} MiB read with curl, 4 at a time; 200 random "
          f"4-64 KiB ranges of a {TABLE >> 20} MiB object")
    print(f"{'block':>6} {'cold MB/s':>10} {'warm MB/s':>10} {'origin bytes/asked':>19} "
          f"{'cold/1M':>8} {'warm/1M':>8} {'amp/1M':>7}")
    for bs in sizes:
        r = res[bs]
        print(f"{bs:>6} {r['cold']:>10.0f} {r['warm']:>10.0f} {r['amp']:>19.2f} "
              f"{r['cold'] / ref['cold']:>8.2f} {r['warm'] / ref['warm']:>8.2f} "
              f"{r['amp'] / ref['amp']:>7.2f}")


if __name__ == "__main__":
    main()
