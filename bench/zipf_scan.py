#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Eviction benchmark: S3-FIFO against LRU on a Zipf workload with a one-time
scan mixed in, replayed by `cachalot sim` (the policies the worker links).

Writes an oracleGeneral trace (libCacheSim's format, so that the same file
can be replayed by libCacheSim's policies too) and prints the miss ratios
and their ratio S3-FIFO/LRU at cache sizes from 0.5% to 20% of the footprint.
Usage: zipf_scan.py CACHALOT [REQUESTS] [OBJECTS] [ALPHA]
"""
import bisect
import os
import random
import struct
import subprocess
import sys
import tempfile


def main():
    cachalot = sys.argv[1]
    nreq = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    nobj = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    alpha = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    rnd = random.Random(20261126)
    weights = [1.0 / (i + 1) ** alpha for i in range(nobj)]
    cdf, acc = [], 0.0
    for w in weights:
        acc += w
        cdf.append(acc)
    scan_at, scan_len = nreq // 2, nobj // 2
    path = os.path.join(tempfile.mkdtemp(prefix="cachalot-bench-"), "zipf_scan.oracleGeneral")
    size = 4096
    with open(path, "wb") as f:
        t = 0
        for i in range(nreq):
            if i == scan_at:
                # A one-time scan of objects never seen before (a backup,
                # a full-table read).
                for j in range(scan_len):
                    f.write(struct.pack("<IQIq", t, 10_000_000 + j, size, -1))
                    t += 1
            obj = bisect.bisect_left(cdf, rnd.random() * acc)
            f.write(struct.pack("<IQIq", t, obj, size, -1))
            t += 1
    footprint = (nobj + scan_len) * size
    pcts = [0.5, 1, 2, 5, 10, 20]
    sizes = ",".join(str(int(footprint * p / 100)) for p in pcts)
    out = subprocess.run([cachalot, "sim", "--policy", "s3fifo,lru", "--cache-size", sizes, path],
                         capture_output=True, text=True, check=True).stdout
    rows = [l.split() for l in out.splitlines()[1:] if l.strip()]
    by = {(r[0], int(r[1])): float(r[3]) for r in rows}
    print(f"Zipf alpha={alpha}, {nobj} objects of {size} B, {nreq} requests, "
          f"a one-time scan of {scan_len} new objects at request {scan_at}")
    print(f"{'cache % of footprint':>22} {'S3-FIFO miss':>13} {'LRU miss':>10} {'S3-FIFO/LRU':>12}")
    for p, s in zip(pcts, sizes.split(",")):
        a, b = by[("s3fifo", int(s))], by[("lru", int(s))]
        print(f"{p:>21}% {a:>13.4f} {b:>10.4f} {a / b if b else 0:>12.3f}")
    os.unlink(path)


if __name__ == "__main__":
    main()
