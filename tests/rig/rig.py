# SPDX-License-Identifier: Apache-2.0
"""The scenario-test rig: the real s3rver origin behind the verifying,
counting front (front.py), and Cachalot in front of both, all on loopback
ports chosen at start. Every process is started here and killed by PID.

    with Rig() as rig:
        rig.endpoint, rig.counts(), rig.reset()
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
S3RVER = os.path.join(TOP, "tests", "origin", "node_modules", "s3rver", "bin", "s3rver.js")
ORIGIN_AK = ORIGIN_SK = "S3RVER"
OSS_AK, OSS_SK = "LTAIcachalottest", "oss/secret+key"
AK, SK = "cachalot-test", "test/secret+key="


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def need_s3rver():
    """Stops with what to run when the test origin is not installed."""
    if not os.path.exists(S3RVER):
        raise SystemExit(f"s3rver is not installed ({S3RVER} is missing): run "
                         "scripts/install-deps --test (or --bench) first")


def start_s3rver(tmp, bucket):
    """s3rver on a free loopback port with data under tmp and one bucket,
    quiet (for benchmarks). Returns (process, port)."""
    need_s3rver()
    port = free_port()
    os.makedirs(os.path.join(tmp, "s3rver"), exist_ok=True)
    p = subprocess.Popen(["node", "--openssl-legacy-provider", S3RVER, "-d", os.path.join(tmp, "s3rver"),
                          "-a", "127.0.0.1", "-p", str(port), "--no-vhost-buckets", "--silent",
                          "--configure-bucket", bucket], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_port(port, p, "s3rver")
    return p, port


def rss(pid):
    """Resident bytes of a process now."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def stop_procs(procs, timeout=10):
    """SIGTERM to each (last started first), then wait; SIGKILL past timeout."""
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in reversed(procs):
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def sanitizer_lines(text):
    return [l for l in text.splitlines() if "ERROR: AddressSanitizer" in l or
            "ERROR: LeakSanitizer" in l or "runtime error:" in l]


class ReadLoad:
    """Threads reading objects (key -> bytes) over and over through the
    clients make_client(i) returns, until stop(): counts reads, client
    errors and wrong bytes."""

    def __init__(self, make_client, bucket, objs, threads=4):
        import threading
        self.errors, self.wrong, self.reads = [], [], 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(make_client(i), bucket, objs, i))
                         for i in range(threads)]
        for t in self._threads:
            t.start()

    def _run(self, cli, bucket, objs, n):
        keys = sorted(objs)
        while not self._stop.is_set():
            k = keys[n % len(keys)]
            n += 1
            try:
                got = cli.get_object(Bucket=bucket, Key=k)["Body"].read()
                with self._lock:
                    self.reads += 1
                    if got != objs[k]:
                        self.wrong.append(k)
            except Exception as e:  # noqa: BLE001
                with self._lock:
                    self.errors.append(repr(e))

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join()


def wait_port(port, proc, what, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


class Rig:
    def __init__(self, cachalot=None, extra=(), oss=False, role="gateway"):
        self.oss = oss
        self.role = role
        self.cachalot = cachalot or os.environ.get("CACHALOT_BIN") or os.path.join(TOP, "cachalot")
        self.extra = list(extra)
        self.procs = []
        self.sanitizer = []
        self.tmp = tempfile.mkdtemp(prefix="cachalot-rig-")

    def _spawn(self, args, log):
        f = open(os.path.join(self.tmp, log), "wb")
        env = dict(os.environ)
        # A small ASan quarantine (test builds): freed blocks are not held
        # for long, so that memory bounds measure Cachalot, not ASan.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                             env=env)
        self.procs.append(p)
        return p

    def start(self):
        need_s3rver()
        self.s3rver_port, self.front_port = free_port(), free_port()
        self.port, self.admin_port = free_port(), free_port()
        data = os.path.join(self.tmp, "s3rver")
        os.makedirs(data)
        p = self._spawn(["node", "--openssl-legacy-provider", S3RVER, "-d", data, "-a", "127.0.0.1",
                         "-p", str(self.s3rver_port), "--no-vhost-buckets", "--silent"], "s3rver.log")
        wait_port(self.s3rver_port, p, "s3rver")
        oak, osk = (OSS_AK, OSS_SK) if self.oss else (ORIGIN_AK, ORIGIN_SK)
        p = self._spawn(["/usr/bin/python3", os.path.join(HERE, "front.py"), str(self.front_port),
                         str(self.s3rver_port), oak, osk] + (["oss"] if self.oss else []),
                        "front.log")
        wait_port(self.front_port, p, "front")
        origin = (["--origin", f"http://oss.localhost:{self.front_port}", "--origin-type", "oss",
                   "--origin-region", "cn-hangzhou"] if self.oss else
                  ["--origin", f"http://127.0.0.1:{self.front_port}"])
        self.data_dir = os.path.join(self.tmp, "data")
        self.gw_args = ([self.cachalot, self.role, "--listen", f"127.0.0.1:{self.port}",
                         "--admin-listen", f"127.0.0.1:{self.admin_port}"] + origin +
                        ["--origin-access-key", oak, "--origin-secret-key", osk,
                         "--access-key", AK, "--secret-key", SK] +
                        (["--data-dir", self.data_dir] if self.role == "serve" else []) + self.extra)
        p = self._spawn(self.gw_args, "cachalot.log")
        self.gateway = p
        wait_port(self.port, p, "cachalot")
        self.endpoint = f"http://127.0.0.1:{self.port}"
        return self

    def counts(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.front_port}/__counts") as r:
            return json.load(r)

    def reset(self):
        req = urllib.request.Request(f"http://127.0.0.1:{self.front_port}/__reset", method="POST",
                                     data=b"")
        urllib.request.urlopen(req).read()

    def restart_gateway(self, sig=signal.SIGKILL):
        """Kills Cachalot (kill -9 by default) and starts it again on the
        same ports and data directory."""
        self.gateway.send_signal(sig)
        self.gateway.wait(timeout=20)
        self.procs.remove(self.gateway)
        self.restarts = getattr(self, "restarts", 0) + 1
        self.gateway = self._spawn(self.gw_args, f"cachalot.{self.restarts}.log")
        wait_port(self.port, self.gateway, "cachalot (restarted)")

    def origin_client(self):
        """boto3 straight to the origin (through the front), as someone
        writing behind Cachalot's back would."""
        import boto3
        return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.front_port}",
                            aws_access_key_id=ORIGIN_AK, aws_secret_access_key=ORIGIN_SK,
                            region_name="us-east-1")

    def fault(self, mode, count=1):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.front_port}/__fault?mode={mode}&count={count}",
            method="POST", data=b"")
        urllib.request.urlopen(req).read()

    def kill_front(self):
        """Stops the origin front (the origin becomes unreachable)."""
        p = self.procs[1]
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics") as r:
            return r.read().decode()

    def log(self, name="cachalot.log"):
        with open(os.path.join(self.tmp, name), "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        return self.gateway.poll() is None

    def stop(self):
        stop_procs(self.procs)
        # Sanitizer reports (the test build runs with ASan and UBSan).
        try:
            text = self.log()
        except OSError:
            text = ""
        self.sanitizer = sanitizer_lines(text)
        if self.sanitizer:
            sys.stderr.write(text[-8000:])
        if os.environ.get("RIG_KEEP"):
            sys.stderr.write(f"rig: kept {self.tmp}\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.dump_logs()
            self.stop()
            raise

    def __exit__(self, *exc):
        if exc[0] is not None:
            self.dump_logs()
        self.stop()

    def dump_logs(self):
        for name in ("cachalot.log", "front.log", "s3rver.log"):
            try:
                sys.stderr.write(f"--- {name} (tail)\n" + self.log(name)[-4000:] + "\n")
            except OSError:
                pass


def read_cut(body):
    """Reads a streaming body that must end short. Returns (bytes that came,
    the exception): botocore raises IncompleteReadError when the connection
    ends cleanly before Content-Length, ResponseStreamingError when it is
    cut (urllib3's IncompleteRead); (bytes, None) when the body is whole.
    Any other exception propagates and fails the test."""
    from botocore.exceptions import IncompleteReadError, ResponseStreamingError
    got = bytearray()
    try:
        for chunk in body.iter_chunks(1 << 20):
            got += chunk
    except (IncompleteReadError, ResponseStreamingError) as e:
        return bytes(got), e
    return bytes(got), None


class Checks:
    """Counts checks; prints failures; the closing line is 'N passed, N failed'."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}", flush=True)
        return cond

    def done(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed or not self.passed else 0
