#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Read-after-write in the cluster under the faults of issue #12, part 1, as
deterministic cases (the real s3rver behind the counting front; a write's
truth is what the origin holds, read straight from it):
  1. workers restarted within down-after while writes go through: a write
     acknowledged while its owners were down is never followed by a read of
     the version before it once they are back;
  2. a gateway started while the master is down: whatever it answers a
     write, the other gateways never serve a version older than the
     origin's after the write was acknowledged;
  3. a gateway whose ring lags the master's (its master connection cut
     while a worker joins): the same;
  4. a worker cut off from the gateways but not from the master (its
     advertised address behind a proxy that is cut) while writes go
     through: acknowledged only once the master's fence reached it, and
     read back right through every gateway once it is reachable again;
  5. an 8 MiB GET during which the object is rewritten through Cachalot
     (ceph's s3-tests kind), in serve and in the cluster: the reader gets
     the version it started with, whole or cut short, never the new bytes
     (nor a mix) under the old ETag.
In every case a write may be refused (before the origin: nothing changed)
or answered 503 when its invalidation could not be confirmed (read then
as either version, never other bytes), but an acknowledged write is read
back through every gateway.
"""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks, Rig, read_cut  # noqa: E402
from cluster import Cluster, metric  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


class CutProxy:
    """A TCP forwarder on loopback that can be cut: while cut, it closes
    every connection it holds and every new one at once (the master
    unreachable from one gateway only)."""

    def __init__(self, port):
        self.up = port
        self.cut = False
        self.socks = []
        self.lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            if self.cut:
                c.close()
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.up), timeout=5)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    def _pump(self, a, b):
        try:
            while not self.cut:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def set_cut(self, cut):
        self.cut = cut
        if cut:
            with self.lock:
                for s in self.socks:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                self.socks = []


def inval_outcome(cl, gi, outcome):
    return metric(cl.gateway_metrics(gi),
                  f'cachalot_gateway_write_invalidations_total{{outcome="{outcome}"}}')


def origin_body(cl, b, k):
    try:
        return cl.origin_client().get_object(Bucket=b, Key=k)["Body"].read()
    except ClientError:
        return None


def read(c, b, k):
    try:
        return c.get_object(Bucket=b, Key=k)["Body"].read()
    except ClientError as e:
        return f"error {e.response['Error']['Code']}"


def put(c, b, k, v):
    """True when the write was acknowledged, False when refused."""
    try:
        c.put_object(Bucket=b, Key=k, Body=v)
        return True
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] < 500:
            raise
        return False


def rewrite(c, b, keys, size):
    """Writes a new version of every key through c (keys is updated to
    them): {key: acknowledged}, and the versions before."""
    acked, old = {}, dict(keys)
    for k in keys:
        keys[k] = os.urandom(size)
        acked[k] = put(c, b, k, keys[k])
    return acked, old


def check_reads(ck, cl, gws, b, new, old, acked, what):
    """An acknowledged write is what the origin holds and what every gateway
    reads. A write that was not acknowledged (refused before the origin, or
    answered 503 because its invalidation could not be confirmed) may be
    read either way, but never as other bytes."""
    for k, v in new.items():
        truth = origin_body(cl, b, k)
        if acked.get(k):
            ck.check(truth == v, f"{what}: the acknowledged write of {k} is at the origin")
        for gi, g in gws:
            got = read(g, b, k)
            name = ('the new version' if got == v else 'the old version' if got == old[k] else
                    got if isinstance(got, str) else 'other bytes')
            if acked.get(k):
                ck.check(got == v, f"{what}: gateway {gi} reads {k}, acknowledged, as written ({name})")
            else:
                ck.check(got in (v, old[k]) and truth in (v, old[k]),
                         f"{what}: gateway {gi} reads {k}, not acknowledged, as one of its versions "
                         f"({name})")


def case_restart_within_down_after(ck):
    b = "restartbucket"
    # down-after far longer than the restart: the master never marks the
    # workers down, so nothing but the workers' own start-up can make them
    # drop what they held.
    with Cluster(workers=2, gateways=2, down_after=60) as cl:
        g0, g1 = cl.client(0), cl.client(1)
        g0.create_bucket(Bucket=b)
        keys = {f"r/k{i}": os.urandom(3000 + i) for i in range(8)}
        for k, v in keys.items():
            g0.put_object(Bucket=b, Key=k, Body=v)
            ck.check(read(g1, b, k) == v, f"before the restart: {k}")
        for i in range(2):
            cl.kill_worker(i)
        acked, old = rewrite(g0, b, keys, 4000)
        ck.check(all(acked.values()), f"writes while every worker is down are acknowledged "
                 f"(the origin took them): {acked}")
        ck.check(inval_outcome(cl, 0, "fenced") == 0 and inval_outcome(cl, 0, "confirmed") >= 16,
                 "a worker that refused the connection (not running) needs no fence: "
                 f"fenced {inval_outcome(cl, 0, 'fenced')}, confirmed "
                 f"{inval_outcome(cl, 0, 'confirmed')}")
        for i in range(2):
            cl.start_worker(i)
        cl.wait_ring(2)
        time.sleep(1.5)
        check_reads(ck, cl, [(0, g0), (1, g1)], b, keys, old, acked,
                    "workers restarted within down-after")
        ck.check(not cl.sanitizer_reports(), "no sanitizer reports")
    ck.check(not cl.sanitizer, f"no sanitizer reports at exit: {cl.sanitizer[:3]}")


def case_gateway_without_master(ck):
    b = "nomasterbucket"
    with Cluster(workers=2, gateways=1) as cl:
        g0 = cl.client(0)
        g0.create_bucket(Bucket=b)
        keys = {f"m/k{i}": os.urandom(2000 + i) for i in range(8)}
        for k, v in keys.items():
            g0.put_object(Bucket=b, Key=k, Body=v)
            ck.check(read(g0, b, k) == v, f"before the master goes: {k}")
        cl.kill_master()
        gi = cl.add_gateway()
        g2 = cl.client(gi)
        acked, old = rewrite(g2, b, keys, 2500)
        # It has no ring: it cannot tell any worker; refused before the
        # origin, so nothing changed.
        ck.check(not any(acked.values()), f"a gateway that never had a ring refuses writes: {acked}")
        ck.check(all(origin_body(cl, b, k) == old[k] for k in keys),
                 "the refused writes changed nothing at the origin")
        m = metric(cl.gateway_metrics(gi), "cachalot_gateway_writes_refused_no_ring_total")
        ck.check(m == len(keys), f"the refused writes counted: {m}")
        check_reads(ck, cl, [(0, g0), (gi, g2)], b, keys, old, acked,
                    "writes through a gateway started with the master down")
        cl.start_master()
        cl.wait_ring(2)
        ck.check(not cl.sanitizer_reports(), "no sanitizer reports")
    ck.check(not cl.sanitizer, f"no sanitizer reports at exit: {cl.sanitizer[:3]}")


def case_lagging_ring(ck):
    b = "lagbucket"
    with Cluster(workers=2, gateways=1) as cl:
        proxy = CutProxy(cl.master_port)
        gl = cl.add_gateway(f"http://127.0.0.1:{proxy.port}")
        g0, glc = cl.client(0), cl.client(gl)
        g0.create_bucket(Bucket=b)
        # Worker 1 out of the ring, then back while the lagging gateway
        # cannot reach the master.
        cl.kill_worker(1)
        cl.wait_ring(1)
        time.sleep(1.5)
        keys = {f"l/k{i}": os.urandom(1500 + i) for i in range(12)}
        for k, v in keys.items():
            g0.put_object(Bucket=b, Key=k, Body=v)
        proxy.set_cut(True)
        time.sleep(1.5)
        cl.start_worker(1)
        cl.wait_ring(2)
        time.sleep(1.5)		# gateway 0 polls the new ring; worker 0 hears of it
        for k, v in keys.items():
            ck.check(read(g0, b, k) == v, f"gateway 0 reads {k} (and the new owners cache it)")
        # a. Still cut off: its writes go through but cannot be confirmed.
        cut = dict(list(keys.items())[:4])
        acked, old = rewrite(glc, b, cut, 1800)
        ck.check(not any(acked.values()), f"a gateway whose ring lags and that cannot fetch the "
                 f"new one does not acknowledge writes: {acked}")
        ck.check(inval_outcome(cl, gl, "unconfirmed") == len(cut),
                 f"unconfirmed writes counted: {inval_outcome(cl, gl, 'unconfirmed')}")
        check_reads(ck, cl, [(0, g0)], b, cut, old, acked,
                    "writes through a gateway with a lagging ring, cut from the master")
        # b. Reachable again but not yet polled: a worker's answer makes it
        # fetch the ring and tell the new workers before it answers.
        rest = dict(list(keys.items())[4:])
        for k in rest:
            ck.check(read(g0, b, k) == rest[k], f"gateway 0 still reads {k}")
        proxy.set_cut(False)
        acked, old = rewrite(glc, b, rest, 1900)
        ck.check(all(acked.values()), f"with the master reachable again, its writes are "
                 f"acknowledged: {acked}")
        n = inval_outcome(cl, gl, "ring_caught_up") + inval_outcome(cl, gl, "confirmed")
        ck.check(n == len(rest) and inval_outcome(cl, gl, "unconfirmed") == len(cut),
                 f"confirmed writes counted: {n}")
        check_reads(ck, cl, [(0, g0), (gl, glc)], b, rest, old, acked,
                    "writes through a gateway whose ring lagged")
        ck.check(not cl.sanitizer_reports(), "no sanitizer reports")
    ck.check(not cl.sanitizer, f"no sanitizer reports at exit: {cl.sanitizer[:3]}")


def case_partition(ck):
    b = "partbucket"
    with Cluster(workers=2, gateways=2, down_after=30) as cl:
        proxy = CutProxy(cl.worker_ports[0][0])
        cl.kill_worker(0)
        cl.worker_args[0] = cl.worker_args[0] + ["--advertise", f"127.0.0.1:{proxy.port}"]
        cl.start_worker(0)
        t0 = time.time()
        while f"127.0.0.1:{proxy.port}" not in cl.master_get("/v1/ring") and time.time() - t0 < 15:
            time.sleep(0.2)
        ck.check(f"127.0.0.1:{proxy.port}" in cl.master_get("/v1/ring"),
                 "worker 0 is in the ring at its proxied address")
        time.sleep(1.5)		# the gateways poll the ring
        g0, g1 = cl.client(0), cl.client(1)
        g0.create_bucket(Bucket=b)
        keys = {f"p/k{i}": os.urandom(1200 + i) for i in range(12)}
        for k, v in keys.items():
            g0.put_object(Bucket=b, Key=k, Body=v)
            ck.check(read(g1, b, k) == v, f"before the cut: {k}")
        proxy.set_cut(True)
        acked, old = rewrite(g0, b, keys, 2100)
        ck.check(all(acked.values()), f"writes while a worker is cut off from the gateways (not "
                 f"from the master) are acknowledged: {acked}")
        ck.check(inval_outcome(cl, 0, "fenced") == len(keys),
                 f"each of them through a fence: {inval_outcome(cl, 0, 'fenced')}")
        proxy.set_cut(False)
        check_reads(ck, cl, [(1, g1), (0, g0)], b, keys, old, acked,
                    "writes while a worker was cut off from the gateways")
        ck.check(not cl.sanitizer_reports(), "no sanitizer reports")
    ck.check(not cl.sanitizer, f"no sanitizer reports at exit: {cl.sanitizer[:3]}")


def overwrite_during_read(ck, c, b, what):
    MiB = 1 << 20
    c.create_bucket(Bucket=b)
    for rnd in range(3):
        k = f"ow/k{rnd}"
        old = os.urandom(8 * MiB)
        new = os.urandom(8 * MiB)
        c.put_object(Bucket=b, Key=k, Body=old)
        if rnd == 1:
            c.get_object(Bucket=b, Key=k)["Body"].read()	# cached before the read
        resp = c.get_object(Bucket=b, Key=k)
        etag = resp["ETag"]
        first = resp["Body"].read(MiB)
        c.put_object(Bucket=b, Key=k, Body=new)
        rest, err = read_cut(resp["Body"])
        got = first + rest
        name = ("the old bytes whole" if got == old else "a prefix of the old" if
                old.startswith(got) else "new bytes" if new.startswith(got[:MiB]) or
                got[MiB:] and new.find(got[MiB:MiB + 4096]) >= 0 else "other bytes")
        ck.check(etag != c.head_object(Bucket=b, Key=k)["ETag"], f"{what} round {rnd}: rewritten")
        ck.check(got == old or (err is not None and old.startswith(got)),
                 f"{what} round {rnd}: a read across a rewrite gets its own version ({name}, "
                 f"{len(got)} bytes, {err})")
        ck.check(c.get_object(Bucket=b, Key=k)["Body"].read() == new,
                 f"{what} round {rnd}: after it, the new version")


def case_overwrite(ck):
    from botocore.config import Config
    import boto3
    cfg = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    with Rig(role="serve", extra=["--mem-cache", "256M"]) as rig:
        c = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                         aws_secret_access_key=SK, region_name="us-east-1", config=cfg)
        overwrite_during_read(ck, c, "owserve", "serve")
        ck.check(rig.alive(), "serve still running")
    ck.check(not rig.sanitizer, f"no sanitizer reports at exit: {rig.sanitizer[:3]}")
    with Cluster(workers=2, gateways=1) as cl:
        overwrite_during_read(ck, cl.client(0), "owcluster", "cluster")
        ck.check(not cl.sanitizer_reports(), "no sanitizer reports")
    ck.check(not cl.sanitizer, f"no sanitizer reports at exit: {cl.sanitizer[:3]}")


def main():
    ck = Checks("consistency")
    only = sys.argv[1:] or ["restart", "nomaster", "lagging", "partition", "overwrite"]
    if "restart" in only:
        case_restart_within_down_after(ck)
    if "nomaster" in only:
        case_gateway_without_master(ck)
    if "lagging" in only:
        case_lagging_ring(ck)
    if "partition" in only:
        case_partition(ck)
    if "overwrite" in only:
        case_overwrite(ck)
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
