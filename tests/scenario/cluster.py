#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The cluster on loopback: 1 master, 3 workers, 2 gateways, the real s3rver
origin behind the counting front. Proved by counting origin requests:
  1. a working set written through gateway 0 and read through both gateways:
     right bytes everywhere, origin bytes = the set's size (one fetch per
     block), the second gateway's reads are hits on the owners, and the
     blocks are spread over the three workers;
  2. read-after-write across gateways: an overwrite or delete through one
     is seen at once through the other;
  3. the master's statistics (per bucket) and ctl (text and --json);
  4. master restart: the gateways keep serving while it is away; it comes
     back with the same ring and statistics;
  5. a worker killed under a read workload: zero client errors, right
     bytes, the ring drops it within the stated time; started again, it
     rejoins and its blocks on disk count again (no origin fetch);
  6. drain takes a worker out of the ring; purge makes the workers forget;
  7. a worker frozen while writes go through comes back without serving
     what it had cached of them.
"""
import hashlib
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import Checks, ReadLoad  # noqa: E402
from cluster import Cluster, metric  # noqa: E402

MiB = 1 << 20


def sha(b):
    return hashlib.sha256(b).hexdigest()


def served(cl, i):
    return metric(cl.worker_metrics(i), 'cachalot_cache_bytes_served_total{tier="memory"}') + \
        metric(cl.worker_metrics(i), 'cachalot_cache_bytes_served_total{tier="disk"}')


def main():
    ck = Checks("cluster")
    b = "clusterbucket"
    with Cluster(workers=3, gateways=2) as cl:
        g0, g1 = cl.client(0), cl.client(1)
        g0.create_bucket(Bucket=b)
        objs = {f"set/obj{i}": os.urandom(n) for i, n in
                enumerate([3 * MiB + 17, 5 * MiB, 100 * 1024, 1, MiB])}
        for k, v in objs.items():
            g0.put_object(Bucket=b, Key=k, Body=v)
        total = sum(len(v) for v in objs.values())
        nblocks = sum((len(v) + MiB - 1) // MiB for v in objs.values())

        # 1. Read through both gateways: one origin fetch per block.
        cl.reset()
        for k, v in objs.items():
            ck.check(g0.get_object(Bucket=b, Key=k)["Body"].read() == v, f"gateway 0 reads {k}")
        before = [served(cl, i) for i in range(3)]
        for k, v in objs.items():
            ck.check(g1.get_object(Bucket=b, Key=k)["Body"].read() == v, f"gateway 1 reads {k}")
        c = cl.counts()
        ck.check(c["bytes_out"] == total, f"origin bytes {c['bytes_out']} for a set of {total}: "
                 "each block fetched once")
        ck.check(c["by_method"].get("GET", 0) <= nblocks,
                 f"origin GETs {c['by_method'].get('GET', 0)} for {nblocks} blocks")
        ck.check(c["by_method"].get("HEAD", 0) <= len(objs),
                 f"origin HEADs {c['by_method'].get('HEAD', 0)} for {len(objs)} objects (one each, "
                 "by its metadata owner)")
        after = [served(cl, i) for i in range(3)]
        ck.check(sum(after) - sum(before) >= total,
                 f"gateway 1's reads served from the owners' caches: {sum(after) - sum(before)} "
                 f"bytes for {total}")
        ck.check(all(x > 0 for x in after), f"blocks spread over the 3 workers: {after}")
        m1 = cl.gateway_metrics(1)
        ck.check(metric(m1, "cachalot_worker_failovers_total") == 0, "no failovers while all are up")
        ck.check(metric(m1, "cachalot_cluster_ring_workers") == 3 and
                 metric(m1, "cachalot_cluster_ring_epoch") >= 3, "the gateway's ring in its metrics")

        # Ranges through the other gateway, across block boundaries.
        big = objs["set/obj1"]
        for a, z in [(0, 0), (MiB - 3, MiB + 3), (5 * MiB - 10, 5 * MiB - 1), (2 * MiB, 4 * MiB + 5)]:
            r = g1.get_object(Bucket=b, Key="set/obj1", Range=f"bytes={a}-{z}")
            ck.check(r["Body"].read() == big[a:z + 1], f"range {a}-{z} through gateway 1")

        # 2. Read-after-write across gateways.
        new = os.urandom(2 * MiB + 5)
        g0.put_object(Bucket=b, Key="set/obj0", Body=new)
        ck.check(g1.get_object(Bucket=b, Key="set/obj0")["Body"].read() == new,
                 "an overwrite through gateway 0 is read at once through gateway 1")
        g1.delete_object(Bucket=b, Key="set/obj3")
        try:
            g0.get_object(Bucket=b, Key="set/obj3")
            ck.check(False, "a delete through gateway 1 is seen through gateway 0")
        except g0.exceptions.NoSuchKey:
            ck.check(True, "a delete through gateway 1 is seen through gateway 0")
        objs["set/obj0"] = new
        del objs["set/obj3"]

        # 3. Statistics and ctl.
        time.sleep(2.5)		# a heartbeat or two
        rc, out, _ = cl.ctl("stats", b, "--json")
        st = json.loads(out)["buckets"] if rc == 0 else []
        ck.check(rc == 0 and len(st) == 1 and st[0]["bucket"] == b, f"ctl stats {b} --json: {out[:200]}")
        if st:
            ck.check(st[0]["hits"] > 0 and st[0]["misses"] > 0 and
                     st[0]["bytes_from_origin"] >= total and st[0]["bytes_served"] >= 2 * total,
                     f"bucket statistics from the heartbeats: {st[0]}")
        rc, out, _ = cl.ctl("workers")
        ck.check(rc == 0 and out.count(" up ") == 3, f"ctl workers lists 3 up:\n{out}")
        rc, out, _ = cl.ctl("status", "--json")
        ck.check(rc == 0 and json.loads(out)["workers_up"] == 3, f"ctl status --json: {out}")
        rc, out, _ = cl.ctl("ring")
        ck.check(rc == 0 and out.count("worker ") == 3, f"ctl ring: {out}")
        rc, _, err = cl.ctl("drain")
        ck.check(rc == 2 and "usage" in err, f"ctl drain without a worker: usage ({rc})")
        stats_before = st[0] if st else {}
        epoch_before, ring_before = cl.ring()

        # 4. Master away: the gateways keep serving; back, the same state.
        cl.kill_master()
        for k, v in objs.items():
            ck.check(g1.get_object(Bucket=b, Key=k)["Body"].read() == v, f"master away: {k}")
        v = os.urandom(1000)
        g0.put_object(Bucket=b, Key="while-away", Body=v)
        ck.check(g1.get_object(Bucket=b, Key="while-away")["Body"].read() == v,
                 "master away: write then read across gateways")
        cl.start_master()
        epoch_after, ring_after = cl.ring()
        ck.check((epoch_after, sorted(ring_after)) == (epoch_before, sorted(ring_before)),
                 f"master restarted: ring {epoch_before} {ring_before} -> {epoch_after} {ring_after}")
        rc, out, _ = cl.ctl("stats", b, "--json")
        st = json.loads(out)["buckets"] if rc == 0 else []
        ck.check(bool(st) and st[0]["hits"] >= stats_before.get("hits", 1) and
                 st[0]["bytes_from_origin"] >= stats_before.get("bytes_from_origin", 1),
                 f"master restarted: statistics intact {stats_before} -> {st}")

        # 5. A worker dies under a read workload. A second set is read
        # once through gateway 0 before, and through gateway 1 (which has
        # none of it in its staging store) after the worker is back.
        later = {f"later/obj{i}": os.urandom(MiB + i) for i in range(8)}
        for k, v in later.items():
            g0.put_object(Bucket=b, Key=k, Body=v)
            ck.check(g0.get_object(Bucket=b, Key=k)["Body"].read() == v, f"read once: {k}")
        load = ReadLoad(lambda i: cl.client(i % 2), b, objs)
        time.sleep(1)
        cl.reset()
        t0 = time.time()
        cl.kill_worker(1)
        try:
            gone = cl.wait_ring(2, timeout=10)
        except RuntimeError as e:
            gone = None
            ck.check(False, str(e))
        took = time.time() - t0
        time.sleep(1.5)
        load.stop()
        ck.check(not load.errors, f"worker killed under load: {len(load.errors)} client errors of "
                 f"{load.reads} reads {load.errors[:3]}")
        ck.check(not load.wrong, f"worker killed under load: wrong bytes for {load.wrong[:3]}")
        ck.check(load.reads > 20, f"reads kept going: {load.reads}")
        ck.check(gone is not None and took < 5,
                 f"the ring dropped the dead worker in {took:.1f} s (down-after 2 s + sweep)")
        print(f"cluster: worker killed: ring updated in {took:.1f} s, {load.reads} reads, "
              f"{len(load.errors)} errors", flush=True)

        # Back: it rejoins, and its blocks on disk count again.
        cl.start_worker(1)
        back = cl.wait_ring(3, timeout=10)
        ck.check(back < 5, f"the worker rejoined the ring in {back:.1f} s")
        time.sleep(1.5)		# both gateways poll the new ring
        cl.reset()
        before = served(cl, 1)
        for k, v in later.items():
            ck.check(g1.get_object(Bucket=b, Key=k)["Body"].read() == v, f"after rejoin: {k}")
        c = cl.counts()
        ck.check(c["by_method"].get("GET", 0) == 0,
                 f"after rejoin: no origin GET (its disk blocks count again): {c['by_method']}")
        ck.check(served(cl, 1) > before, "after rejoin: the worker serves its blocks again")

        # 6. Drain and purge.
        rc, out, _ = cl.ctl("drain", "w2")
        ck.check(rc == 0, f"ctl drain w2: {out}")
        ck.check(cl.wait_ring(2, timeout=5) < 5, "a drained worker leaves the ring")
        rc, out, _ = cl.ctl("workers", "--json")
        states = {w["id"]: w["state"] for w in json.loads(out)["workers"]} if rc == 0 else {}
        ck.check(states.get("w2") == "drained", f"ctl workers --json shows w2 drained: {states}")
        time.sleep(1.5)
        for k, v in objs.items():
            ck.check(g1.get_object(Bucket=b, Key=k)["Body"].read() == v, f"w2 drained: {k}")
        rc, out, _ = cl.ctl("undrain", "w2")
        ck.check(rc == 0 and cl.wait_ring(3, timeout=5) < 5, "ctl undrain: w2 back in the ring")
        time.sleep(1.5)
        rc, out, _ = cl.ctl("purge", f"{b}/set/")
        ck.check(rc == 0, f"ctl purge: {out}")
        time.sleep(2.5)		# applied at the workers' next heartbeat
        cl.reset()
        k = "set/obj4"
        ck.check(g0.get_object(Bucket=b, Key=k)["Body"].read() == objs[k], "after purge: right bytes")
        ck.check(cl.counts()["by_method"].get("HEAD", 0) >= 1, "after purge: the metadata comes "
                 "from the origin again")
        # 7. A worker frozen (SIGSTOP) leaves the ring; writes made while
        # it is out do not reach it; thawed, it rejoins and must not serve
        # the metadata it had (a third of these keys have it as owner).
        fresh = {f"frozen/k{i}": os.urandom(1000 + i) for i in range(12)}
        for k, v in fresh.items():
            g0.put_object(Bucket=b, Key=k, Body=v)
            ck.check(g1.get_object(Bucket=b, Key=k)["Body"].read() == v, f"before the freeze: {k}")
        cl.workers[0].send_signal(signal.SIGSTOP)
        try:
            ck.check(cl.wait_ring(2, timeout=10) < 10, "a frozen worker leaves the ring")
            time.sleep(1.5)		# the gateways poll the new ring
            for k in fresh:
                fresh[k] = os.urandom(2000)
                g0.put_object(Bucket=b, Key=k, Body=fresh[k])
        finally:
            cl.workers[0].send_signal(signal.SIGCONT)
        ck.check(cl.wait_ring(3, timeout=10) < 10, "thawed, it rejoins")
        time.sleep(1.5)
        stale = [k for k, v in fresh.items() if g1.get_object(Bucket=b, Key=k)["Body"].read() != v]
        ck.check(not stale, f"after rejoining, no metadata from before: stale {stale}")

        ck.check(not cl.sanitizer_reports(), "no sanitizer reports")
    ck.check(not cl.sanitizer, f"no sanitizer reports at exit: {cl.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
