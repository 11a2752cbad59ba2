# SPDX-License-Identifier: Apache-2.0
"""A cluster on loopback ports: the real s3rver origin behind the counting
front (as in rig.py), a master, N workers and M gateways, every process
started here and stopped by PID.

    with Cluster(workers=3, gateways=2) as cl:
        cl.gateway_endpoint(0), cl.counts(), cl.ring(), cl.kill_worker(1)
"""
import os
import signal
import subprocess
import time
import urllib.request

from rig import AK, SK, ORIGIN_AK, ORIGIN_SK, Rig, free_port, sanitizer_lines, stop_procs, wait_port

# The cluster secret every process of the rig's cluster shares, given
# through the environment (CACHALOT_CLUSTER_SECRET) as an operator would,
# so that a binary from before it still starts (and fails the checks).
CLUSTER_SECRET = "rig-cluster-secret-0123456789abcdef"


def ring_of(master_url):
    """(epoch, [worker ids]) from a master's /v1/ring."""
    epoch, ids = 0, []
    with urllib.request.urlopen(master_url + "/v1/ring", timeout=5) as r:
        for line in r.read().decode().splitlines():
            f = line.split()
            if f and f[0] == "epoch":
                epoch = int(f[1])
            elif f and f[0] == "worker":
                ids.append(f[1])
    return epoch, ids


class Cluster(Rig):
    def __init__(self, workers=3, gateways=2, extra=(), down_after=2):
        super().__init__(extra=extra)
        self.nworkers, self.ngateways = workers, gateways
        self.down_after = down_after

    def start(self):
        os.environ["CACHALOT_CLUSTER_SECRET"] = CLUSTER_SECRET
        # s3rver and the front, as the single-process rig has them.
        self.s3rver_port, self.front_port = free_port(), free_port()
        data = os.path.join(self.tmp, "s3rver")
        os.makedirs(data)
        from rig import S3RVER, HERE, need_s3rver
        need_s3rver()
        p = self._spawn(["node", "--openssl-legacy-provider", S3RVER, "-d", data, "-a", "127.0.0.1",
                         "-p", str(self.s3rver_port), "--no-vhost-buckets", "--silent"], "s3rver.log")
        wait_port(self.s3rver_port, p, "s3rver")
        p = self._spawn(["/usr/bin/python3", os.path.join(HERE, "front.py"), str(self.front_port),
                         str(self.s3rver_port), ORIGIN_AK, ORIGIN_SK], "front.log")
        wait_port(self.front_port, p, "front")
        self.common = ["--origin", f"http://127.0.0.1:{self.front_port}", "--origin-access-key",
                       ORIGIN_AK, "--origin-secret-key", ORIGIN_SK, "--access-key", AK,
                       "--secret-key", SK] + self.extra
        # Workers hold no client credentials: they take gateways' requests
        # signed with the cluster secret only (issue #12, part 2).
        self.worker_common = ["--origin", f"http://127.0.0.1:{self.front_port}",
                              "--origin-access-key", ORIGIN_AK, "--origin-secret-key",
                              ORIGIN_SK] + self.extra
        self.master_port = free_port()
        self.master_url = f"http://127.0.0.1:{self.master_port}"
        self.master_args = [self.cachalot, "master", "--listen", f"127.0.0.1:{self.master_port}",
                            "--data-dir", os.path.join(self.tmp, "master"), "--down-after", str(self.down_after)]
        self.master = self._spawn(self.master_args, "master.log")
        wait_port(self.master_port, self.master, "master")
        self.workers, self.worker_args, self.worker_ports = [], [], []
        for i in range(self.nworkers):
            port, admin = free_port(), free_port()
            args = [self.cachalot, "worker", "--listen", f"127.0.0.1:{port}", "--admin-listen",
                    f"127.0.0.1:{admin}", "--master", self.master_url, "--worker-id", f"w{i}",
                    "--data-dir", os.path.join(self.tmp, f"w{i}"), "--mem-cache", "64M",
                    "--disk-cache", "256M"] + self.worker_common
            self.worker_args.append(args)
            self.worker_ports.append((port, admin))
            self.workers.append(self._spawn(args, f"worker{i}.log"))
        for i, p in enumerate(self.workers):
            wait_port(self.worker_ports[i][0], p, f"worker {i}")
        self.gateways, self.gateway_ports = [], []
        for i in range(self.ngateways):
            self.add_gateway()
        self.gateway = self.gateways[0]
        self.port, self.admin_port = self.gateway_ports[0]
        self.endpoint = self.gateway_endpoint(0)
        self.wait_ring(self.nworkers)
        return self

    def add_gateway(self, master_url=None):
        """Starts one more gateway (on the master, or on master_url); its index."""
        i = len(self.gateways)
        port, admin = free_port(), free_port()
        p = self._spawn([self.cachalot, "gateway", "--listen", f"127.0.0.1:{port}",
                         "--admin-listen", f"127.0.0.1:{admin}", "--master",
                         master_url or self.master_url] + self.common, f"gateway{i}.log")
        self.gateways.append(p)
        self.gateway_ports.append((port, admin))
        wait_port(port, p, f"gateway {i}")
        return i

    def gateway_endpoint(self, i):
        return f"http://127.0.0.1:{self.gateway_ports[i][0]}"

    def client(self, i, **kw):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.gateway_endpoint(i), aws_access_key_id=AK,
                            aws_secret_access_key=SK, region_name="us-east-1",
                            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}), **kw)

    def master_get(self, path):
        with urllib.request.urlopen(self.master_url + path, timeout=5) as r:
            return r.read().decode()

    def ring(self):
        """(epoch, [worker ids]) as the master has them."""
        return ring_of(self.master_url)

    def wait_ring(self, n, timeout=15):
        """Seconds until the master's ring has n workers (raises past timeout)."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            try:
                if len(self.ring()[1]) == n:
                    return time.time() - t0
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the ring did not reach {n} workers in {timeout} s: {self.ring()}")

    def worker_metrics(self, i):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.worker_ports[i][1]}/metrics") as r:
            return r.read().decode()

    def gateway_metrics(self, i):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.gateway_ports[i][1]}/metrics") as r:
            return r.read().decode()

    def kill_worker(self, i, sig=signal.SIGKILL):
        self.workers[i].send_signal(sig)
        self.workers[i].wait(timeout=20)

    def start_worker(self, i):
        self.workers[i] = self._spawn(self.worker_args[i], f"worker{i}.again.log")
        wait_port(self.worker_ports[i][0], self.workers[i], f"worker {i} (again)")

    def kill_master(self, sig=signal.SIGKILL):
        self.master.send_signal(sig)
        self.master.wait(timeout=20)

    def start_master(self):
        self.master = self._spawn(self.master_args, "master.again.log")
        wait_port(self.master_port, self.master, "master (again)")

    def ctl(self, *args):
        p = subprocess.run([self.cachalot, "ctl", "--master", self.master_url] + list(args),
                           capture_output=True, text=True, timeout=20)
        return p.returncode, p.stdout, p.stderr

    def stop(self):
        import shutil
        import sys
        stop_procs(self.procs, timeout=15)
        # Sanitizer reports of every process (the test build runs with
        # ASan and UBSan); a process that ended by a signal we sent is
        # not one.
        self.sanitizer = self.sanitizer_reports()
        if self.sanitizer:
            self.dump_logs()
        if os.environ.get("RIG_KEEP"):
            sys.stderr.write(f"rig: kept {self.tmp}\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self, name="gateway0.log"):
        return super().log(name)

    def all_logs(self):
        names = [n for n in os.listdir(self.tmp) if n.endswith(".log")]
        return {n: super(Cluster, self).log(n) for n in names}

    def sanitizer_reports(self):
        return [f"{n}: {l}" for n, text in self.all_logs().items() for l in sanitizer_lines(text)]

    def dump_logs(self):
        for n, text in sorted(self.all_logs().items()):
            import sys
            sys.stderr.write(f"--- {n} (tail)\n" + text[-3000:] + "\n")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0
