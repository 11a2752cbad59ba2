#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The disk tier of `cachalot serve`, proved by counting origin requests:
  - blocks evicted from memory are served from disk, not the origin;
  - after kill -9 and a restart, what was cached is served with zero origin
    traffic (metadata and blocks come back from disk);
  - a corrupted block file is never served: it is dropped, refetched from
    the origin and counted;
  - a working set three times larger than memory and disk together: both
    stay within their limits, all content correct, no errors.
"""
import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks, Rig, rss  # noqa: E402

import boto3  # noqa: E402

MiB = 1024 * 1024


def sha(b):
    return hashlib.sha256(b).hexdigest()


def disk_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except FileNotFoundError:
                pass	# evicted between the listing and the stat: not held
    return total


def metric(m, name):
    r = re.search(r"^" + re.escape(name) + r" (\d+)$", m, re.M)
    return int(r.group(1)) if r else -1


def written(rig, ck, what):
    """Blocks are written to disk behind the loops: wait for the queue to empty."""
    for _ in range(200):
        if metric(rig.metrics(), "cachalot_cache_disk_queue_bytes") == 0:
            return
        time.sleep(0.05)
    ck.check(False, f"disk write queue empty {what}")


def main():
    ck = Checks("durability")
    objs = {f"obj{i}": os.urandom(3 * MiB + i) for i in range(10)}
    with Rig(role="serve", extra=["--block-size", "1M", "--mem-cache", "8M", "--disk-cache", "64M",
                                  "--freshness", "3600"]) as rig:
        s3 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1")
        b = "durable-bucket"
        s3.create_bucket(Bucket=b)
        for k, v in objs.items():
            s3.put_object(Bucket=b, Key=k, Body=v)
        for k, v in objs.items():
            ck.check(s3.get_object(Bucket=b, Key=k)["Body"].read() == v, f"cold read {k}")
        written(rig, ck, "after the cold reads")
        rig.reset()
        for k, v in objs.items():
            ck.check(s3.get_object(Bucket=b, Key=k)["Body"].read() == v, f"warm read {k}")
        c = rig.counts()
        ck.check(c["requests"] == 0, f"40 MiB read through an 8 MiB memory tier: {c['requests']} origin "
                 "requests (the disk tier serves the rest)")
        ck.check(metric(rig.metrics(), 'cachalot_cache_bytes_served_total{tier="disk"}') > 0,
                 "bytes served from disk counted")

        written(rig, ck, "before kill -9")
        rig.restart_gateway()	# kill -9
        rig.reset()
        for k, v in objs.items():
            ck.check(sha(s3.get_object(Bucket=b, Key=k)["Body"].read()) == sha(v), f"after kill -9: {k}")
        h = s3.head_object(Bucket=b, Key="obj3")
        ck.check(h["ContentLength"] == len(objs["obj3"]), "HEAD after kill -9")
        c = rig.counts()
        ck.check(c["requests"] == 0, f"after kill -9 and restart: {c['requests']} origin requests")

        # Corrupt every block file once more read: flip a byte in the data.
        blocks = os.path.join(rig.data_dir, "cache", "blocks")
        files = [os.path.join(r, f) for r, _, fs in os.walk(blocks) for f in fs]
        want = sum((len(v) + MiB - 1) // MiB for v in objs.values())
        ck.check(len(files) == want, f"block files on disk: {len(files)}, want {want}")
        rig.restart_gateway(sig=15)	# a clean stop: memory empty again
        victim = max((f for f in files if os.path.getsize(f) > 8192), key=os.path.getmtime)
        with open(victim, "r+b") as f:
            f.seek(4096)
            byte = f.read(1)
            f.seek(4096)
            f.write(bytes([byte[0] ^ 0xff]))
        rig.reset()
        for k, v in objs.items():
            ck.check(s3.get_object(Bucket=b, Key=k)["Body"].read() == v, f"with a corrupted block: {k}")
        c = rig.counts()
        ck.check(c["by_method"].get("GET", 0) == 1, f"the corrupted block was refetched once: "
                 f"{c['by_method']}")
        ck.check(metric(rig.metrics(), "cachalot_cache_disk_corrupt_total") == 1, "corruption counted")

        # Three times more than memory and disk hold together.
        rig.reset()
        big = {f"ws{i}": os.urandom(4 * MiB) for i in range(54)}	# 216 MiB vs 72 MiB
        for k, v in big.items():
            s3.put_object(Bucket=b, Key=k, Body=v)
        errors = 0
        for rnd in range(2):
            for k, v in big.items():
                if s3.get_object(Bucket=b, Key=k)["Body"].read() != v:
                    errors += 1
        ck.check(errors == 0, f"working set 3x the cache: {errors} wrong reads")
        used = disk_bytes(blocks)
        ck.check(used <= 64 * MiB + 2 * MiB, f"disk tier within its limit: {used >> 20} MiB of 64")
        m = rig.metrics()
        ck.check(metric(m, 'cachalot_cache_tier_bytes{tier="memory"}') <= 8 * MiB,
                 "memory tier within its limit")
        r = rss(rig.gateway.pid)
        ck.check(r < 8 * MiB + 160 * MiB, f"RSS {r >> 20} MiB with an 8 MiB memory tier")
        ck.check(metric(m, 'cachalot_cache_evictions_total{tier="disk"}') > 0, "disk evictions counted")
        ck.check(rig.alive(), "cachalot still running")
        if ck.failed:
            sys.stderr.write(rig.log()[-3000:])
    ck.check(not rig.sanitizer, f"sanitizers quiet: {rig.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
