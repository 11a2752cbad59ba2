#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Cold reads through Cachalot against direct GETs from the origin, and memory.

Starts on 127.0.0.1 the s3rver origin and `cachalot serve` (fresh data-dir).
For each round, objects never read before are fetched with curl, alternately
direct from the origin (presigned with the origin's key) and through Cachalot
(presigned with Cachalot's key, so verification is on the path):
  - time to first byte of 4 KiB and 1 MiB objects (a miss: metadata and the
    first block come from the origin);
  - throughput of a cold 256 MiB read;
  - origin bytes per client byte for the read-through of the whole set
    (Cachalot's own /metrics counters).
Then the RSS of an idle `cachalot serve` (just started, and after the reads)
against its configured memory tier.
Medians of the rounds. Two cores shared by origin, Cachalot and curl.
Usage: cold.py CACHALOT [ROUNDS]
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "rig"))
from rig import free_port, need_s3rver, rss, start_s3rver, stop_procs, wait_port  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

AK, SK = "bench", "bench-secret"
MEM = 1 << 30


def curl(url):
    out = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{time_starttransfer} %{time_total} %{size_download}",
                          url], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as r:
        text = r.read().decode()
    m = re.search(rf"^{name} (\d+)", text, re.M)
    return int(m.group(1))


def client(port, ak, sk):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=ak,
                        aws_secret_access_key=sk, region_name="us-east-1",
                        config=Config(signature_version="s3v4"))


def main():
    need_s3rver()
    cachalot = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    tmp = tempfile.mkdtemp(prefix="cachalot-cold-")
    procs = []
    try:
        cp, ca = free_port(), free_port()
        origin, s3p = start_s3rver(tmp, "bench")
        procs.append(origin)
        o = client(s3p, "S3RVER", "S3RVER")
        sizes = [("4K", 4096), ("1M", 1 << 20), ("256M", 256 << 20)]
        big = os.urandom(256 << 20)
        for r in range(rounds):
            for name, size in sizes:
                for via in ("direct", "cachalot"):
                    o.put_object(Bucket="bench", Key=f"{via}/{r}/{name}", Body=big[:size])
        del big
        subprocess.run(["sync"], check=True)	# the uploads' writeback is not measured
        # BENCH_WRAP: a profiler to run Cachalot under ("perf record -g -o F --").
        cach = subprocess.Popen(os.environ.get("BENCH_WRAP", "").split() + [cachalot, "serve", "--listen", f"127.0.0.1:{cp}",
                                 "--admin-listen", f"127.0.0.1:{ca}",
                                 "--origin", f"http://127.0.0.1:{s3p}", "--origin-access-key", "S3RVER",
                                 "--origin-secret-key", "S3RVER", "--access-key", AK, "--secret-key", SK,
                                 "--mem-cache", str(MEM), "--disk-cache", "4G", "--data-dir", f"{tmp}/data",
                                 "--log-level", "error", "--access-log", "off"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(cach)
        wait_port(cp, cach, "cachalot")
        time.sleep(1)
        idle_start = rss(cach.pid)
        c = client(cp, AK, SK)
        res = {}
        for r in range(rounds):
            for name, size in sizes:
                for via, cl in (("direct", o), ("cachalot", c)):
                    url = cl.generate_presigned_url("get_object", Params={"Bucket": "bench",
                                                    "Key": f"{via}/{r}/{name}"}, ExpiresIn=3600)
                    ttfb, total, got = curl(url)
                    if got != size:
                        raise SystemExit(f"{via} {name}: {got} bytes, expected {size}")
                    res.setdefault((name, via), []).append((ttfb, total))
        origin_bytes = metric(ca, "cachalot_origin_bytes_total")
        client_bytes = metric(ca, "cachalot_bytes_out_total")
        time.sleep(1)
        idle_after = rss(cach.pid)

        print(f"Cold reads (never read before), medians of {rounds} rounds; curl on the same 2 cores.")
        print(f"{'size':>5} | {'TTFB direct':>11} {'TTFB C':>9} {'C-direct':>9} | "
              f"{'MB/s direct':>11} {'MB/s C':>8} {'ratio':>6}")
        for name, size in sizes:
            d = res[(name, "direct")]
            ch = res[(name, "cachalot")]
            td = statistics.median(x[0] for x in d) * 1000
            tc = statistics.median(x[0] for x in ch) * 1000
            md = size / statistics.median(x[1] for x in d) / 1e6
            mc = size / statistics.median(x[1] for x in ch) / 1e6
            print(f"{name:>5} | {td:>9.2f}ms {tc:>7.2f}ms {tc - td:>+7.2f}ms | {md:>11.0f} {mc:>8.0f} "
                  f"{mc / md:>6.2f}")
        print(f"origin bytes per client byte (read-through of the set): {origin_bytes / client_bytes:.4f} "
              f"({origin_bytes} / {client_bytes})")
        print(f"idle RSS of cachalot serve: {idle_start >> 20} MiB just started, {idle_after >> 20} MiB "
              f"after the reads, with a {MEM >> 20} MiB memory tier "
              f"(beyond the tier: {max(0, idle_after - min(MEM, client_bytes)) >> 20} MiB)")
    finally:
        stop_procs(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
