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
     while a worker joins): the same.
In every case a write may be refused (nothing changed at the origin) but
an acknowledged write is read back through every gateway.
"""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import Checks  # noqa: E402
from cluster import Cluster  # noqa: E402
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


def check_reads(ck, cl, gws, b, keys, acked, what):
    """Every gateway reads what the origin holds; an acknowledged write is
    what the origin holds."""
    for k, v in keys.items():
        truth = origin_body(cl, b, k)
        if acked.get(k):
            ck.check(truth == v, f"{what}: the acknowledged write of {k} is at the origin")
        for gi, g in gws:
            got = read(g, b, k)
            ck.check(got == truth, f"{what}: gateway {gi} reads {k} as the origin has it "
                     f"({'the new version' if got == v else 'an older version' if isinstance(got, bytes) else got})")


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
        acked = {}
        for k in keys:
            keys[k] = os.urandom(4000)
            acked[k] = put(g0, b, k, keys[k])
        ck.check(all(acked.values()), f"writes while every worker is down are acknowledged "
                 f"(the origin took them): {acked}")
        for i in range(2):
            cl.start_worker(i)
        cl.wait_ring(2)
        time.sleep(1.5)
        check_reads(ck, cl, [(0, g0), (1, g1)], b, keys, acked, "workers restarted within down-after")
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
        acked = {}
        for k in keys:
            keys[k] = os.urandom(2500)
            acked[k] = put(g2, b, k, keys[k])
        check_reads(ck, cl, [(0, g0), (gi, g2)], b, keys, acked,
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
        keys = {f"l/k{i}": os.urandom(1500 + i) for i in range(16)}
        for k, v in keys.items():
            g0.put_object(Bucket=b, Key=k, Body=v)
        proxy.set_cut(True)
        time.sleep(1.5)
        cl.start_worker(1)
        cl.wait_ring(2)
        time.sleep(1.5)		# gateway 0 polls the new ring
        for k, v in keys.items():
            ck.check(read(g0, b, k) == v, f"gateway 0 reads {k} (and the new owners cache it)")
        acked = {}
        for k in keys:
            keys[k] = os.urandom(1800)
            acked[k] = put(glc, b, k, keys[k])
        check_reads(ck, cl, [(0, g0)], b, keys, acked, "writes through a gateway with a lagging ring")
        proxy.set_cut(False)
        ck.check(not cl.sanitizer_reports(), "no sanitizer reports")
    ck.check(not cl.sanitizer, f"no sanitizer reports at exit: {cl.sanitizer[:3]}")


def main():
    ck = Checks("consistency")
    only = sys.argv[1:] or ["restart", "nomaster", "lagging"]
    if "restart" in only:
        case_restart_within_down_after(ck)
    if "nomaster" in only:
        case_gateway_without_master(ck)
    if "lagging" in only:
        case_lagging_ring(ck)
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
