#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A disk hit does not block a loop (issue #11, must show 2), shown by
counting, not timing: the disk tier's I/O thread is made slow
(CACHALOT_TEST_DISK_DELAY_MS, a test-only hook that delays every block read
it does), the server runs ONE event loop (CACHALOT_TEST_LOOPS=1), and while a disk hit is stalled on
the I/O thread, memory hits issued on other connections complete first:
every one of them is recorded done while the disk hit is still pending (the
gauge cachalot_cache_disk_reads_queued still counts it after the last
memory hit). Were the disk read done on the loop, as before #11, the one
loop would be blocked for the whole stall and no memory hit could complete
before the disk hit.

Both objects are served without a single origin request after the restart:
the memory hits are hits, the stalled read is a disk hit.
"""
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks, Rig  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

MiB = 1024 * 1024
DELAY_MS = 4000
HITS = 20


def metric(m, name):
    r = re.search(r"^" + re.escape(name) + r" (\d+)$", m, re.M)
    return int(r.group(1)) if r else -1


def wait_for(pred, what, ck, n=400):
    for _ in range(n):
        if pred():
            return True
        time.sleep(0.025)
    ck.check(False, what)
    return False


def client(rig):
    return boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                        aws_secret_access_key=SK, region_name="us-east-1",
                        config=Config(retries={"max_attempts": 0}, read_timeout=60))


def main():
    ck = Checks("slowdisk")
    os.environ["CACHALOT_TEST_DISK_DELAY_MS"] = str(DELAY_MS)
    os.environ["CACHALOT_TEST_LOOPS"] = "1"
    hot, cold = os.urandom(200 * 1024), os.urandom(MiB)
    with Rig(role="serve", extra=["--block-size", "1M", "--mem-cache", "64M", "--disk-cache", "64M",
                                  "--freshness", "3600"]) as rig:
        s3 = client(rig)
        b = "slow-bucket"
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="hot", Body=hot)
        s3.put_object(Bucket=b, Key="cold", Body=cold)
        # Cold reads: from the origin, into memory, written to disk behind.
        ck.check(s3.get_object(Bucket=b, Key="hot")["Body"].read() == hot, "hot: first read")
        ck.check(s3.get_object(Bucket=b, Key="cold")["Body"].read() == cold, "cold: first read")
        wait_for(lambda: metric(rig.metrics(), "cachalot_cache_disk_queue_bytes") == 0,
                 "blocks written to disk", ck)
        rig.restart_gateway(sig=15)	# a clean stop: memory empty, disk kept
        s3 = client(rig)
        rig.reset()
        # "hot" back into memory (one stalled disk read, before the test).
        ck.check(s3.get_object(Bucket=b, Key="hot")["Body"].read() == hot, "hot: read from disk")

        order, lock = [], threading.Lock()

        def cold_read():
            body = client(rig).get_object(Bucket=b, Key="cold")["Body"].read()
            with lock:
                order.append(("cold", body == cold))

        t = threading.Thread(target=cold_read)
        t.start()
        # The cold read is on the I/O thread, stalled.
        wait_for(lambda: metric(rig.metrics(), "cachalot_cache_disk_reads_queued") >= 1,
                 "the cold read reached the I/O thread", ck)
        hs = client(rig)
        for i in range(HITS):
            body = hs.get_object(Bucket=b, Key="hot")["Body"].read()
            with lock:
                order.append(("hot", body == hot))
        still = metric(rig.metrics(), "cachalot_cache_disk_reads_queued")
        t.join(timeout=120)
        ck.check(not t.is_alive(), "the stalled disk hit completed")
        names = [n for n, _ in order]
        ck.check(all(ok for _, ok in order), "every answer's bytes are right")
        ck.check(names == ["hot"] * HITS + ["cold"],
                 f"{HITS} memory hits complete before the stalled disk hit: order {names}")
        ck.check(still >= 1, f"the disk read was still stalled after the last memory hit ({still} queued)")
        c = rig.counts()
        ck.check(c["requests"] == 0, f"after the restart: {c['requests']} origin requests (disk and memory hits)")
        m = rig.metrics()
        ck.check(metric(m, 'cachalot_cache_bytes_served_total{tier="disk"}') >= len(cold) + len(hot),
                 "bytes served from disk counted")
    ck.done()


if __name__ == "__main__":
    main()
