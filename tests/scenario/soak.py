#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Read-after-write in the cluster under a random fault schedule (issue #12,
part 1): 1 master, 3 workers, 2 gateways, the real s3rver behind the
counting, fault-injecting front. A mixed workload (one writer per key, so
that each key's versions are ordered; readers on random keys through
random gateways) runs while a seeded schedule kills and restarts workers
(kill -9), stops and continues them (SIGSTOP, shorter than down-after),
kills and restarts the master, kills and restarts a gateway, and makes the
origin answer 500 or cut a body. Every body names its key and version and
is fully determined by them, so that each read is checked for:
  - wrong bytes or a mix of versions (the body is not exactly some
    version's);
  - a stale read: a version older than one whose write was acknowledged
    before the read began;
  - a phantom: a version newer than any write begun;
  - a lost write: at the end every key reads as its last acknowledged
    version, or a later attempted one;
  - client errors outside the windows where the origin itself failed or
    the client's own gateway was down (or the read met a fault's edge:
    allowed only within 5 s of one);
  - a crash: every process we did not kill still runs; no sanitizer report.
A write answered 503 (refused before the origin, or its invalidation not
confirmed) is not acknowledged: either version may then be read.

CI runs a short schedule (SOAK_SECONDS, default 40); the soak is the same
with more time and another seed, e.g.
  SOAK_SECONDS=1800 SOAK_SEED=7 tests/scenario/soak.py
"""
import hashlib
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import Checks, wait_port  # noqa: E402
from cluster import Cluster  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402

MiB = 1 << 20
SECONDS = float(os.environ.get("SOAK_SECONDS", "40"))
SEED = int(os.environ.get("SOAK_SEED", "1"))
GRACE = 5.0		# seconds after a fault's edge within which a client error is allowed


def body_of(key, ver, size):
    head = f"{key}|{ver}|".encode()
    seed = hashlib.sha256(head).digest()
    out = bytearray(head)
    while len(out) < size:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return bytes(out[:size])


def version_of(key, data, size):
    """The version data is exactly, or None (wrong bytes, a mix)."""
    try:
        k, v, _ = data[:200].split(b"|", 2)
        ver = int(v)
    except ValueError:
        return None
    if k.decode(errors="replace") != key or data != body_of(key, ver, size):
        return None
    return ver


class State:
    def __init__(self, keys):
        self.lock = threading.Lock()
        self.acked = {k: 0 for k in keys}		# version: last acknowledged
        self.begun = {k: 0 for k in keys}		# last version whose write began
        self.windows = []				# (start, end or None, kind, gateway or None)
        self.stop = False
        self.problems = []
        self.reads = self.writes = self.read_errors = self.write_errors = 0
        self.unconfirmed = 0
        self.gw_gen = [0, 0]				# restarts of each gateway
        self.spans = {k: [] for k in keys}		# (start, end) of each key's writes
        self.overlap_errors = 0

    def open(self, kind, gw=None):
        with self.lock:
            self.windows.append([time.time(), None, kind, gw])
            return len(self.windows) - 1

    def close(self, i):
        with self.lock:
            self.windows[i][1] = time.time()

    def error_allowed(self, t0, t1, gw):
        with self.lock:
            for s, e, kind, wgw in self.windows:
                e = e if e is not None else time.time()
                if t1 < s - GRACE or t0 > e + GRACE:
                    continue
                if kind in ("origin", "worker", "master") or (kind == "gateway" and wgw == gw):
                    return True
        return False

    def problem(self, what):
        with self.lock:
            if len(self.problems) < 40:
                self.problems.append(f"{time.strftime('%H:%M:%S')} {what}")


class Clients:
    """A thread's boto3 clients, made again when their gateway restarted
    (a pooled connection to the process that was killed fails once)."""

    def __init__(self, st, cl):
        self.st, self.cl = st, cl
        self.gen = list(st.gw_gen)
        self.c = [cl.client(0), cl.client(1)]

    def __getitem__(self, gi):
        if self.gen[gi] != self.st.gw_gen[gi]:
            self.gen[gi] = self.st.gw_gen[gi]
            self.c[gi] = self.cl.client(gi)
        return self.c[gi]


def writer(st, cl, keys, sizes, rnd):
    clients = Clients(st, cl)
    mine = list(keys)
    while not st.stop:
        k = rnd.choice(mine)
        gw = rnd.randrange(2)
        with st.lock:
            ver = st.begun[k] + 1
            st.begun[k] = ver
        t0 = time.time()
        span = [t0, None]
        with st.lock:
            st.spans[k] = st.spans[k][-20:] + [span]
        try:
            clients[gw].put_object(Bucket="soak", Key=k, Body=body_of(k, ver, sizes[k]))
            with st.lock:
                st.writes += 1
                st.acked[k] = max(st.acked[k], ver)
        except (ClientError, BotoCoreError) as e:
            code = (getattr(e, "response", None) or {}).get("ResponseMetadata", {}).get(
                "HTTPStatusCode")
            with st.lock:
                st.write_errors += 1
                if code == 503:
                    st.unconfirmed += 1
            # A 503 (refused for want of a ring, or not confirmed) is a
            # fault's too: outside one it would be a write failing for
            # nothing.
            if not st.error_allowed(t0, time.time(), gw):
                st.problem(f"write of {k} v{ver} through gateway {gw} failed outside any fault: {e}")
        span[1] = time.time()
        time.sleep(rnd.uniform(0.02, 0.1))


def reader(st, cl, keys, sizes, rnd):
    clients = Clients(st, cl)
    names = list(keys)
    while not st.stop:
        k = rnd.choice(names)
        gw = rnd.randrange(2)
        with st.lock:
            floor = st.acked[k]
        t0 = time.time()
        try:
            data = clients[gw].get_object(Bucket="soak", Key=k)["Body"].read()
        except (ClientError, BotoCoreError) as e:
            t1 = time.time()
            with st.lock:
                st.read_errors += 1
                # A read that overlaps a write of its key may end short when
                # its version's blocks must come from an origin that no
                # longer has it (issue #12: "end it as cleanly as today").
                overlap = any(a <= t1 and (b is None or b >= t0) for a, b in st.spans[k])
                if overlap:
                    st.overlap_errors += 1
            if not overlap and not st.error_allowed(t0, t1, gw):
                st.problem(f"read of {k} through gateway {gw} failed outside any fault: {e}")
            continue
        with st.lock:
            st.reads += 1
        ver = version_of(k, data, sizes[k])
        if ver is None:
            st.problem(f"read of {k} through gateway {gw}: wrong bytes or a mix ({len(data)} bytes)")
        elif ver < floor:
            st.problem(f"stale read of {k} through gateway {gw}: v{ver}, v{floor} acknowledged "
                       "before the read began")
        elif ver > st.begun[k]:
            st.problem(f"phantom read of {k}: v{ver}, only v{st.begun[k]} begun")


def faults(st, cl, rnd, deadline):
    while time.time() < deadline - 6:
        time.sleep(rnd.uniform(1.5, 3.5))
        kind = rnd.choice(["worker_kill", "worker_stop", "master", "gateway", "origin500",
                           "origin_cut"])
        if kind == "worker_kill":
            i = rnd.randrange(3)
            w = st.open("worker")
            cl.kill_worker(i)
            time.sleep(rnd.uniform(0.5, 2.5))	# within down-after, or past it
            cl.start_worker(i)
            st.close(w)
        elif kind == "worker_stop":
            i = rnd.randrange(3)
            w = st.open("worker")
            cl.workers[i].send_signal(signal.SIGSTOP)
            time.sleep(rnd.uniform(0.3, 1.5))	# shorter than down-after
            cl.workers[i].send_signal(signal.SIGCONT)
            st.close(w)
        elif kind == "master":
            w = st.open("master")
            cl.kill_master()
            time.sleep(rnd.uniform(0.5, 3))
            cl.start_master()
            st.close(w)
        elif kind == "gateway":
            gi = rnd.randrange(2)
            w = st.open("gateway", gi)
            restart_gateway(cl, gi)
            st.gw_gen[gi] += 1
            st.close(w)
        else:
            w = st.open("origin")
            cl.fault("status500" if kind == "origin500" else "reset_mid_body", rnd.randrange(1, 4))
            time.sleep(2)
            cl.fault("none", 0)
            st.close(w)


def restart_gateway(cl, gi):
    p = cl.gateways[gi]
    args = p.args
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=20)
    cl.procs.remove(p)
    time.sleep(0.5)
    q = cl._spawn(args, f"gateway{gi}.again.{int(time.time() * 1000)}.log")
    cl.gateways[gi] = q
    wait_port(cl.gateway_ports[gi][0], q, f"gateway {gi} (again)")


def main():
    ck = Checks("soak")
    rnd = random.Random(SEED)
    with Cluster(workers=3, gateways=2) as cl:
        c0 = cl.client(0)
        c0.create_bucket(Bucket="soak")
        keys = [f"k{i}" for i in range(24)]
        sizes = {k: (rnd.randrange(1000, 6000) if i % 6 else 2 * MiB + 12345)
                 for i, k in enumerate(keys)}
        st = State(keys)
        for k in keys:
            c0.put_object(Bucket="soak", Key=k, Body=body_of(k, 0, sizes[k]))
        deadline = time.time() + SECONDS
        half = len(keys) // 2
        threads = [threading.Thread(target=writer, args=(st, cl, keys[:half], sizes,
                                                         random.Random(SEED * 10 + 1))),
                   threading.Thread(target=writer, args=(st, cl, keys[half:], sizes,
                                                         random.Random(SEED * 10 + 2)))]
        threads += [threading.Thread(target=reader, args=(st, cl, keys, sizes,
                                                          random.Random(SEED * 10 + 3 + i)))
                    for i in range(3)]
        for t in threads:
            t.start()
        try:
            faults(st, cl, rnd, deadline)
            while time.time() < deadline:
                time.sleep(0.2)
        finally:
            st.stop = True
            for t in threads:
                t.join(timeout=120)
        # Everything back: every key reads as its last acknowledged version
        # (or a later one whose write was begun), through both gateways.
        cl.wait_ring(3, timeout=30)
        time.sleep(2)
        for k in keys:
            for gi in range(2):
                try:
                    data = cl.client(gi).get_object(Bucket="soak", Key=k)["Body"].read()
                    ver = version_of(k, data, sizes[k])
                except (ClientError, BotoCoreError) as e:
                    ver = f"error {e}"
                ck.check(isinstance(ver, int) and st.acked[k] <= ver <= st.begun[k],
                         f"at the end, {k} through gateway {gi}: v{ver}, acknowledged "
                         f"v{st.acked[k]}, begun v{st.begun[k]}")
        for p in st.problems:
            ck.check(False, p)
        if st.problems:
            for s_, e_, kind, gw in st.windows:
                print(f"fault {kind} {gw if gw is not None else ''}: "
                      f"{time.strftime('%H:%M:%S', time.localtime(s_))}-"
                      f"{time.strftime('%H:%M:%S', time.localtime(e_ or time.time()))}")
        ck.check(st.reads > 50 and st.writes > 20,
                 f"the workload ran: {st.reads} reads, {st.writes} writes")
        print(f"soak: seed {SEED}, {SECONDS:.0f} s: {st.reads} reads ({st.read_errors} errors in "
              f"fault windows, {st.overlap_errors} of them overlapping a write of their key), {st.writes} writes acknowledged ({st.write_errors} not, "
              f"{st.unconfirmed} of them 503), {len(st.windows)} faults", flush=True)
        alive = [p for p in [cl.master] + cl.workers + cl.gateways if p.poll() is not None]
        ck.check(not alive, f"no role ended by itself: {[p.args[1] for p in alive]}")
        ck.check(not cl.sanitizer_reports(), f"no sanitizer reports: {cl.sanitizer_reports()[:3]}")
    ck.check(not cl.sanitizer, f"no sanitizer reports at exit: {cl.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
