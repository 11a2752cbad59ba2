#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Start-up as a new user meets it (issue #10, items 1, 2, 3, 6, 7 and the
data-dir part of 8): every role refuses a port another socket holds, says why
and which flag to change, takes its data dir for itself, joins the ring only
once it can serve, and a whole cluster runs on one host with only --listen
flags. Each check names what it guards.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import Checks, free_port, stop_procs, wait_port  # noqa: E402
from cluster import ring_of as ring  # noqa: E402

BIN = os.environ.get("CACHALOT_BIN", "cachalot")
# A cluster's processes share a secret (required): given here through the
# environment, so that the one-host cluster still starts with --listen flags
# only (tests/scenario/cluster_auth.py checks that no role starts without it).
CLUSTER_SECRET = "startup-cluster-secret-0123456789"
os.environ["CACHALOT_CLUSTER_SECRET"] = CLUSTER_SECRET
# An origin nobody listens on: start-up must not depend on it.
ORIGIN = ["--origin", "http://127.0.0.1:9", "--origin-access-key", "o", "--origin-secret-key", "o",
          "--access-key", "ak", "--secret-key", "sk"]


def run(args, timeout=15):
    """Runs cachalot to its exit (a role that refuses to start exits). One
    that is still running after timeout seconds did start: it is killed and
    reported with returncode None, which every check here counts as a failure."""
    try:
        return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return subprocess.CompletedProcess(e.cmd, None, "", out + " [still running: it started]")


def holder(port, reuseport):
    """A listening socket of ours on port, with or without SO_REUSEPORT
    (with it, the kernel used to let a second cachalot share the port)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    return s


def free_with_admin():
    """A free port whose admin port (+ 10000) is free too, both below the
    ephemeral range's top, so that the derived default can be tested
    without fixed ports (tests run side by side)."""
    while True:
        s, a = socket.socket(), socket.socket()
        try:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
            if p + 10000 > 65535:
                continue
            a.bind(("127.0.0.1", p + 10000))
            return p
        except OSError:
            continue
        finally:
            s.close()
            a.close()


def http_get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


class Procs:
    def __init__(self, tmp):
        self.tmp, self.procs = tmp, []

    def spawn(self, args, log):
        f = open(os.path.join(self.tmp, log), "wb")
        p = subprocess.Popen([BIN] + args, stdout=f, stderr=subprocess.STDOUT)
        f.close()
        self.procs.append(p)
        return p

    def log(self, name):
        with open(os.path.join(self.tmp, name), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        stop_procs(self.procs)


def wait_for(cond, timeout=15):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_taken_s3_port_refused(ck, tmp):
    """Item 1: a port held by another process's SO_REUSEPORT listener (as a
    second cachalot's would be) or by a plain one is refused, exit non-zero."""
    for reuseport in (True, False):
        port, admin = free_port(), free_port()
        s = holder(port, reuseport)
        try:
            p = run(["serve", "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
                     "--disk-cache", "0"] + ORIGIN)
        finally:
            s.close()
        want = f"cannot listen on 127.0.0.1:{port}: Address already in use"
        ck.check(p.returncode != 0 and want in p.stderr,
                 f"serve on a port held (reuseport={reuseport}) refused: rc {p.returncode}, "
                 f"{p.stderr.strip()[-300:]!r}")


def test_second_serve_on_same_port_refused(ck, tmp):
    """Item 1: two `cachalot serve` on one port: the second exits and the
    first keeps every connection."""
    procs = Procs(tmp)
    port, admin, admin2 = free_port(), free_port(), free_port()
    try:
        first = procs.spawn(["serve", "--listen", f"127.0.0.1:{port}", "--admin-listen",
                             f"127.0.0.1:{admin}", "--data-dir", os.path.join(tmp, "d1")] + ORIGIN,
                            "first.log")
        wait_port(port, first, "first serve")
        p = run(["serve", "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin2}",
                 "--data-dir", os.path.join(tmp, "d2")] + ORIGIN)
        ck.check(p.returncode == 2 and "Address already in use" in p.stderr,
                 f"second serve on the same port refused: rc {p.returncode}, {p.stderr.strip()[-300:]!r}")
        ck.check(first.poll() is None, "the first serve still runs")
    finally:
        procs.stop()


def test_listen_errors_say_why_and_name_the_flag(ck, tmp):
    """Item 2: each 'cannot listen' says why (errno text) and names the flag
    to change, for the S3 port and for the admin port."""
    port, admin = free_port(), free_port()
    s = holder(admin, False)
    try:
        p = run(["serve", "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
                 "--disk-cache", "0"] + ORIGIN)
    finally:
        s.close()
    ck.check(p.returncode == 2, f"admin port taken: exit 2 (got {p.returncode})")
    ck.check(f"cannot listen on 127.0.0.1:{admin}: Address already in use" in p.stderr and
             "--admin-listen" in p.stderr and "admin-listen 127.0.0.1" not in p.stderr,
             f"admin message says why and names --admin-listen: {p.stderr.strip()!r}")
    s = holder(port, False)
    try:
        p = run(["serve", "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
                 "--disk-cache", "0"] + ORIGIN)
    finally:
        s.close()
    ck.check(p.returncode == 2 and "--listen" in p.stderr and "Address already in use" in p.stderr,
             f"S3 port message says why and names --listen: {p.stderr.strip()!r}")
    # A master's port, too.
    s = holder(port, False)
    try:
        p = run(["master", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(tmp, "m")])
    finally:
        s.close()
    ck.check(p.returncode == 2 and f"cannot listen on 127.0.0.1:{port}: Address already in use"
             in p.stderr and "--listen" in p.stderr,
             f"master's message says why and names --listen: {p.stderr.strip()!r}")


def test_data_dir_locked_against_a_second_process(ck, tmp):
    """Item 7: a second serve or worker on a data dir in use refuses to
    start, saying so; the first is untouched."""
    procs = Procs(tmp)
    data = os.path.join(tmp, "shared-data")
    port, admin = free_port(), free_port()
    try:
        first = procs.spawn(["serve", "--listen", f"127.0.0.1:{port}", "--admin-listen",
                             f"127.0.0.1:{admin}", "--data-dir", data] + ORIGIN, "lock-first.log")
        wait_port(port, first, "first serve")
        for role in ("serve", "worker"):
            p = run([role, "--listen", f"127.0.0.1:{free_port()}", "--admin-listen",
                     f"127.0.0.1:{free_port()}", "--data-dir", data] + ORIGIN)
            ck.check(p.returncode == 2 and "in use by another cachalot" in p.stderr and
                     f"pid {first.pid}" in p.stderr,
                     f"{role} on a data dir in use refused: rc {p.returncode}, {p.stderr.strip()!r}")
        ck.check(first.poll() is None, "the first serve still runs")
    finally:
        procs.stop()
    # Its lock goes with the process: a restart on the same dir works.
    procs = Procs(tmp)
    try:
        again = procs.spawn(["serve", "--listen", f"127.0.0.1:{port}", "--admin-listen",
                             f"127.0.0.1:{admin}", "--data-dir", data] + ORIGIN, "lock-again.log")
        wait_port(port, again, "serve again on the same data dir")
        ck.check(again.poll() is None, "serve restarts on its own data dir")
    finally:
        procs.stop()


def test_unusable_data_dir_is_a_startup_error(ck, tmp):
    """Item 8: with disk-cache > 0, a data dir that cannot be used stops the
    start (it used to log 'disk tier off' and run on)."""
    afile = os.path.join(tmp, "not-a-dir")
    with open(afile, "w") as f:
        f.write("x")
    p = run(["serve", "--listen", f"127.0.0.1:{free_port()}", "--admin-listen",
             f"127.0.0.1:{free_port()}", "--data-dir", afile] + ORIGIN)
    ck.check(p.returncode == 2 and "--data-dir" in p.stderr and afile in p.stderr,
             f"a file as data-dir refused: rc {p.returncode}, {p.stderr.strip()!r}")
    # Without a disk tier the data dir is not used, so it cannot stop the start.
    procs = Procs(tmp)
    port = free_port()
    try:
        p = procs.spawn(["serve", "--listen", f"127.0.0.1:{port}", "--admin-listen",
                         f"127.0.0.1:{free_port()}", "--data-dir", afile, "--disk-cache", "0"] + ORIGIN,
                        "nodisk.log")
        wait_port(port, p, "serve without a disk tier")
        ck.check(p.poll() is None, "with --disk-cache 0 an unusable data dir does not matter")
    finally:
        procs.stop()


def test_failed_worker_never_touches_the_ring(ck, tmp):
    """Item 6: a worker that cannot open its admin port exits before it
    registers: the master's ring and epoch do not move."""
    procs = Procs(tmp)
    mport = free_port()
    master = f"http://127.0.0.1:{mport}"
    try:
        m = procs.spawn(["master", "--listen", f"127.0.0.1:{mport}", "--data-dir",
                         os.path.join(tmp, "master")], "master.log")
        wait_port(mport, m, "master")
        before = ring(master)
        admin = free_port()
        s = holder(admin, False)
        try:
            p = run(["worker", "--listen", f"127.0.0.1:{free_port()}", "--admin-listen",
                     f"127.0.0.1:{admin}", "--master", master, "--data-dir",
                     os.path.join(tmp, "wfail")] + ORIGIN)
        finally:
            s.close()
        ck.check(p.returncode == 2, f"worker with a taken admin port exits 2 (got {p.returncode})")
        time.sleep(0.5)
        after = ring(master)
        ck.check(after == before and after[1] == [],
                 f"the ring did not change: before {before}, after {after}")
        ck.check("joined" not in procs.log("master.log") and "moved" not in procs.log("master.log"),
                 "the master saw no registration")
    finally:
        procs.stop()


def test_workers_without_id_get_distinct_ids(ck, tmp):
    """Item 6: two workers started the same way but for their --listen have
    two distinct, stable ids (from the advertised address); a wildcard listen
    without --advertise is refused rather than named 0.0.0.0."""
    procs = Procs(tmp)
    mport = free_port()
    master = f"http://127.0.0.1:{mport}"
    try:
        m = procs.spawn(["master", "--listen", f"127.0.0.1:{mport}", "--data-dir",
                         os.path.join(tmp, "master2")], "master2.log")
        wait_port(mport, m, "master")
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports):
            w = procs.spawn(["worker", "--listen", f"127.0.0.1:{port}", "--admin-listen",
                             f"127.0.0.1:{free_port()}", "--master", master, "--data-dir",
                             os.path.join(tmp, f"wid{i}")] + ORIGIN, f"wid{i}.log")
            wait_port(port, w, f"worker {i}")
        ok = wait_for(lambda: len(ring(master)[1]) == 2)
        ids = sorted(ring(master)[1])
        ck.check(ok and ids == sorted(f"127.0.0.1:{p}" for p in ports),
                 f"two workers, two ids from their addresses: {ids}")
        p = run(["worker", "--listen", f"0.0.0.0:{free_port()}", "--admin-listen",
                 f"127.0.0.1:{free_port()}", "--master", master, "--data-dir",
                 os.path.join(tmp, "wild")] + ORIGIN)
        ck.check(p.returncode == 2 and "--advertise" in p.stderr,
                 f"wildcard listen without --advertise refused: {p.returncode} {p.stderr.strip()!r}")
    finally:
        procs.stop()


def test_cluster_on_one_host_with_listen_flags_only(ck, tmp):
    """Item 3: a master, two workers and a gateway on one host start with
    only their --listen flags (their admin ports follow from them); each
    answers /healthz on its derived admin port."""
    procs = Procs(tmp)
    mport, w1, w2, gw = free_with_admin(), free_with_admin(), free_with_admin(), free_with_admin()
    master = f"http://127.0.0.1:{mport}"
    try:
        # Each process in its own directory: the default data dir is
        # relative, as a user in separate shells would have it.
        for d in ("m", "w1", "w2", "gw"):
            os.makedirs(os.path.join(tmp, "one", d))
        def spawn(cwd, args, log):
            f = open(os.path.join(tmp, log), "wb")
            p = subprocess.Popen([BIN] + args, stdout=f, stderr=subprocess.STDOUT,
                                 cwd=os.path.join(tmp, "one", cwd))
            f.close()
            procs.procs.append(p)
            return p
        m = spawn("m", ["master", "--listen", f"127.0.0.1:{mport}"], "one-master.log")
        wait_port(mport, m, "master")
        ws = [spawn("w1", ["worker", "--listen", f"127.0.0.1:{w1}", "--master", master] + ORIGIN,
                    "one-w1.log"),
              spawn("w2", ["worker", "--listen", f"127.0.0.1:{w2}", "--master", master] + ORIGIN,
                    "one-w2.log")]
        g = spawn("gw", ["gateway", "--listen", f"127.0.0.1:{gw}", "--master", master] + ORIGIN,
                  "one-gw.log")
        wait_port(w1, ws[0], "worker 1")
        wait_port(w2, ws[1], "worker 2")
        wait_port(gw, g, "gateway")
        ok = wait_for(lambda: len(ring(master)[1]) == 2)
        ck.check(ok, f"both workers in the ring: {ring(master)}")
        for name, port, p in (("worker 1", w1, ws[0]), ("worker 2", w2, ws[1]), ("gateway", gw, g)):
            ck.check(p.poll() is None, f"{name} runs")
            try:
                st = http_get(f"http://127.0.0.1:{port + 10000}/healthz")[0]
            except OSError as e:
                st = str(e)
            ck.check(st == 200, f"{name}'s admin on its listen port + 10000: {st}")
        ck.check("worker listening" in procs.log("one-w1.log"),
                 "item 17: a worker's start-up line names the worker role")
    finally:
        procs.stop()
        if ck.failed:
            for n in sorted(os.listdir(tmp)):
                if n.endswith(".log"):
                    sys.stderr.write(f"--- {n}\n{procs.log(n)[-1500:]}\n")


def main():
    ck = Checks("startup")
    with tempfile.TemporaryDirectory() as tmp:
        for t in (test_taken_s3_port_refused, test_second_serve_on_same_port_refused,
                  test_listen_errors_say_why_and_name_the_flag,
                  test_data_dir_locked_against_a_second_process,
                  test_unusable_data_dir_is_a_startup_error,
                  test_failed_worker_never_touches_the_ring,
                  test_workers_without_id_get_distinct_ids,
                  test_cluster_on_one_host_with_listen_flags_only):
            sub = os.path.join(tmp, t.__name__)
            os.makedirs(sub)
            t(ck, sub)
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
