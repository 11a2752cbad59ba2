#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The cluster on several hosts: network namespaces on a bridge, each with
its own address (master, 3 workers, a gateway; the origin and the clients in
the root namespace). Under a running read workload one worker is killed
(kill -9) and another cut off (its link down): zero client errors, right
bytes, and the master's ring drops both within the stated time (down-after
2 s, plus the sweep); the workers back, they rejoin.
Needs root and iproute2; skipped (exit 77) with the reason printed otherwise.
Every namespace, link and process is made here and removed at the end.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import (AK, SK, ORIGIN_AK, ORIGIN_SK, S3RVER, HERE, Checks, ReadLoad, free_port,  # noqa: E402
                 need_s3rver, sanitizer_lines, stop_procs, wait_port)
from cluster import CLUSTER_SECRET  # noqa: E402

MiB = 1 << 20
WRONG = "not-the-cluster-secret-0123456789"

# Run on the rogue host "r" (issue #12, part 2, across hosts): heartbeats
# advertising r:9202 with weight 1000, unsigned and signed with a wrong
# secret; unsigned drain and purge; a heartbeat of w2's signed with the
# secret sent twice (the second is a replay) and once altered. Prints the
# statuses as JSON.
ROGUE = r"""
import hashlib, hmac, http.client, json, secrets, sys, time
master, port, me, secret, w2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def sign(key, target, body):
    d, n = str(int(time.time())), secrets.token_hex(16)
    t = "\n".join(["cachalot-v1-request", "POST", target, f"{master}:{port}",
                   "text/plain" if body else "", hashlib.sha256(body).hexdigest(), "", d, n])
    return {"x-cachalot-date": d, "x-cachalot-nonce": n,
            "x-cachalot-auth": "v1 " + hmac.new(key.encode(), t.encode(), hashlib.sha256).hexdigest()}
def post(target, body=b"", h=None):
    c = http.client.HTTPConnection(master, port, timeout=5)
    hh = {"Host": f"{master}:{port}"}
    if body:
        hh["Content-Type"] = "text/plain"
    hh.update(h or {})
    c.request("POST", target, body=body, headers=hh)
    return c.getresponse().status
beat = f"worker rogue {me}:9202 1000\n".encode()
out = {"unsigned": post("/v1/heartbeat", beat),
       "wrong": post("/v1/heartbeat", beat, sign("WRONGSECRET-0123456789", "/v1/heartbeat", beat)),
       "drain": post("/v1/drain?worker=w0"), "purge": post("/v1/purge?bucket=net")}
good = f"worker w2 {w2} 1\n".encode()
h = sign(secret, "/v1/heartbeat", good)
out["signed"] = post("/v1/heartbeat", good, h)
out["replay"] = post("/v1/heartbeat", good, h)
out["altered"] = post("/v1/heartbeat", beat, sign(secret, "/v1/heartbeat", good))
print(json.dumps(out), flush=True)
# Then it keeps trying, while the gateway is read through.
t0 = time.time()
while time.time() - t0 < 8:
    post("/v1/heartbeat", beat)
    post("/v1/heartbeat", beat, sign("WRONGSECRET-0123456789", "/v1/heartbeat", beat))
    time.sleep(0.3)
"""
LISTEN = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9202))
s.listen(64)
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("connection\n")
    c.close()
"""
DOWN_AFTER = 2
STATED = 6.0		# seconds the ring may take to show a lost worker


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


class Net:
    """A bridge in the root namespace and one namespace per host on it."""

    def __init__(self):
        tag = os.getpid() % 10000
        self.br = f"cbr{tag}"
        self.net = f"10.213.{os.getpid() % 200}"
        self.hosts = {}
        self.tag = tag

    def up(self):
        sh("ip", "link", "add", self.br, "type", "bridge")
        sh("ip", "addr", "add", f"{self.net}.1/24", "dev", self.br)
        sh("ip", "link", "set", self.br, "up")

    def host(self, name, last):
        ns = f"cachalot-{self.tag}-{name}"
        root, peer = f"cv{self.tag}{name}", f"cn{self.tag}{name}"
        sh("ip", "netns", "add", ns)
        self.hosts[name] = (ns, root, f"{self.net}.{last}")
        sh("ip", "link", "add", root, "type", "veth", "peer", "name", peer)
        sh("ip", "link", "set", peer, "netns", ns)
        sh("ip", "link", "set", root, "master", self.br, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{self.net}.{last}/24", "dev", peer)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        return f"{self.net}.{last}"

    def link(self, name, state):
        sh("ip", "link", "set", self.hosts[name][1], state)

    def down(self):
        for ns, root, _ in self.hosts.values():
            sh("ip", "link", "del", root, check=False)
            sh("ip", "netns", "del", ns, check=False)
        sh("ip", "link", "del", self.br, check=False)


def wait_tcp(addr, port, proc, what, timeout=20):
    import socket
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection((addr, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {addr}:{port}")


def main():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("netns: skipped: needs root and ip (iproute2) to make network namespaces", flush=True)
        return 77
    try:
        sh("ip", "netns", "list")
    except (subprocess.CalledProcessError, OSError) as e:
        print(f"netns: skipped: ip netns does not work here: {e}", flush=True)
        return 77
    need_s3rver()
    ck = Checks("netns")
    cachalot = os.environ.get("CACHALOT_BIN") or os.path.join(HERE, "..", "..", "cachalot")
    tmp = tempfile.mkdtemp(prefix="cachalot-netns-")
    net = Net()
    procs = {}
    logs = []

    def spawn(name, args, ns=None, secret=CLUSTER_SECRET):
        f = open(os.path.join(tmp, f"{name}.log"), "ab")
        logs.append(f)
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"
        # The cluster's processes share its secret (required).
        env["CACHALOT_CLUSTER_SECRET"] = secret
        pre = ["ip", "netns", "exec", net.hosts[ns][0]] if ns else []
        p = subprocess.Popen(pre + args, stdout=f, stderr=subprocess.STDOUT, env=env,
                             start_new_session=True)
        procs[name] = p
        return p

    try:
        net.up()
        ip = {n: net.host(n, last) for n, last in
              (("m", 10), ("w0", 20), ("w1", 21), ("w2", 22), ("g", 30), ("r", 40))}
        s3p, fp = free_port(), free_port()
        os.makedirs(os.path.join(tmp, "s3rver"))
        p = spawn("s3rver", ["node", "--openssl-legacy-provider", S3RVER, "-d", os.path.join(tmp, "s3rver"),
                             "-a", "127.0.0.1", "-p", str(s3p), "--no-vhost-buckets", "--silent"])
        wait_port(s3p, p, "s3rver")
        os.environ["FRONT_BIND"] = f"{net.net}.1"
        p = spawn("front", ["/usr/bin/python3", os.path.join(HERE, "front.py"), str(fp), str(s3p),
                            ORIGIN_AK, ORIGIN_SK])
        del os.environ["FRONT_BIND"]
        wait_tcp(f"{net.net}.1", fp, p, "front")
        common = ["--origin", f"http://{net.net}.1:{fp}", "--origin-access-key", ORIGIN_AK,
                  "--origin-secret-key", ORIGIN_SK, "--access-key", AK, "--secret-key", SK]
        master_url = f"http://{ip['m']}:9100"
        p = spawn("master", [cachalot, "master", "--listen", f"{ip['m']}:9100", "--data-dir",
                             os.path.join(tmp, "master"), "--down-after", str(DOWN_AFTER)], "m")
        wait_tcp(ip["m"], 9100, p, "master")
        wargs = {}
        for w in ("w0", "w1", "w2"):
            wargs[w] = [cachalot, "worker", "--listen", f"{ip[w]}:9201", "--admin-listen",
                        f"{ip[w]}:9001", "--master", master_url, "--worker-id", w, "--data-dir",
                        os.path.join(tmp, w), "--mem-cache", "64M", "--disk-cache", "256M"] + common
            spawn(w, wargs[w], w)
        for w in ("w0", "w1", "w2"):
            wait_tcp(ip[w], 9201, procs[w], w)
        p = spawn("gateway", [cachalot, "gateway", "--listen", f"{ip['g']}:9000", "--admin-listen",
                              f"{ip['g']}:9001", "--master", master_url] + common, "g")
        wait_tcp(ip["g"], 9000, p, "gateway")

        def ring():
            with urllib.request.urlopen(master_url + "/v1/ring", timeout=3) as r:
                return sorted(l.split()[1] for l in r.read().decode().splitlines()
                              if l.startswith("worker "))

        def wait_ring(want, timeout):
            t0 = time.time()
            while time.time() - t0 < timeout:
                try:
                    if ring() == want:
                        return time.time() - t0
                except OSError:
                    pass
                time.sleep(0.1)
            return None

        ck.check(wait_ring(["w0", "w1", "w2"], 15) is not None, f"three workers in the ring: {ring()}")
        import boto3
        from botocore.config import Config
        s3 = boto3.client("s3", endpoint_url=f"http://{ip['g']}:9000", aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1",
                          config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                        read_timeout=30))
        s3.create_bucket(Bucket="net")
        objs = {f"o{i}": os.urandom(MiB * (1 + i % 3) + i) for i in range(12)}
        for k, v in objs.items():
            s3.put_object(Bucket="net", Key=k, Body=v)
        for k, v in objs.items():
            ck.check(s3.get_object(Bucket="net", Key=k)["Body"].read() == v, f"first read {k}")

        load = ReadLoad(lambda i: s3, "net", objs)
        time.sleep(1)
        procs["w0"].send_signal(signal.SIGKILL)
        procs["w0"].wait(timeout=10)
        net.link("w1", "down")
        took = wait_ring(["w2"], 20)
        time.sleep(2)
        load.stop()
        ck.check(took is not None and took <= STATED,
                 f"the ring shows one worker killed and one cut off within {STATED} s: "
                 f"{'never' if took is None else f'{took:.1f} s'}")
        ck.check(not load.errors, f"{len(load.errors)} client errors in {load.reads} reads: "
                 f"{load.errors[:3]}")
        ck.check(not load.wrong, f"wrong bytes: {load.wrong[:3]}")
        ck.check(load.reads > 10, f"reads went on: {load.reads} reads")
        print(f"netns: worker killed and worker cut off: ring updated in "
              f"{took if took is None else round(took, 1)} s, {load.reads} reads, {len(load.errors)} errors",
              flush=True)

        # Back: the link up and the killed worker started again.
        net.link("w1", "up")
        spawn("w0", wargs["w0"], "w0")
        back = wait_ring(["w0", "w1", "w2"], 20)
        ck.check(back is not None and back <= STATED, f"both rejoined the ring: {back}")
        time.sleep(1.5)
        for k, v in objs.items():
            ck.check(s3.get_object(Bucket="net", Key=k)["Body"].read() == v, f"after rejoin {k}")

        # Issue #12 part 2 across hosts: from host r, a real worker with a
        # wrong secret and heartbeats of ours advertising r:9202 never enter
        # the ring, so the gateway never connects there; a replayed or
        # altered heartbeat and unsigned drain and purge change nothing.
        conns = os.path.join(tmp, "rogue-connections")
        spawn("rogue-listen", ["/usr/bin/python3", "-c", LISTEN, ip["r"], conns], "r")
        spawn("rogue-worker", [cachalot, "worker", "--listen", f"{ip['r']}:9201", "--admin-listen",
                               f"{ip['r']}:9001", "--master", master_url, "--worker-id", "rogue-real",
                               "--data-dir", os.path.join(tmp, "rogue"), "--mem-cache", "16M",
                               "--disk-cache", "0"] + common, "r", secret=WRONG)
        wait_tcp(ip["r"], 9201, procs["rogue-worker"], "the wrongly keyed worker")
        r = subprocess.Popen(["ip", "netns", "exec", net.hosts["r"][0], "/usr/bin/python3", "-c", ROGUE,
                              ip["m"], "9100", ip["r"], CLUSTER_SECRET, f"{ip['w2']}:9201"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs["rogue-beats"] = r
        import json
        try:
            st = json.loads(r.stdout.readline())
        except ValueError:
            st = {}
        ck.check(st.get("unsigned") == 401 and st.get("wrong") == 403,
                 f"from another host: unsigned heartbeat 401, wrongly signed 403: {st}")
        ck.check(st.get("drain") == 401 and st.get("purge") == 401, f"unsigned drain, purge: 401: {st}")
        ck.check(st.get("signed") == 200 and st.get("replay") == 403 and st.get("altered") == 403,
                 f"a signed heartbeat is taken once; replayed or altered, refused: {st}")
        time.sleep(1.5)		# the gateway's next ring poll
        ck.check(ring() == ["w0", "w1", "w2"], f"the ring did not move: {ring()}")
        for k, v in objs.items():
            ck.check(s3.get_object(Bucket="net", Key=k)["Body"].read() == v, f"after the rogues {k}")
        n = open(conns).read().count("connection") if os.path.exists(conns) else 0
        ck.check(n == 0, f"the rogue's advertised port saw no connection: {n}")
        with open(os.path.join(tmp, "rogue-worker.log"), errors="replace") as f:
            asked = f.read().count(" op=")
        ck.check(asked == 0, f"the wrongly keyed worker was asked nothing: {asked} requests")
        r.wait(timeout=30)
    finally:
        stop_procs(list(procs.values()), timeout=15)
        for f in logs:
            f.close()
        net.down()
        bad = []
        for n in os.listdir(tmp):
            if n.endswith(".log"):
                with open(os.path.join(tmp, n), errors="replace") as f:
                    bad += [f"{n}: {l}" for l in sanitizer_lines(f.read())]
        if bad or ck.failed:
            for n in sorted(os.listdir(tmp)):
                if n.endswith(".log"):
                    with open(os.path.join(tmp, n), errors="replace") as f:
                        sys.stderr.write(f"--- {n} (tail)\n" + f.read()[-2500:] + "\n")
        ck.check(not bad, f"no sanitizer reports: {bad[:3]}")
        shutil.rmtree(tmp, ignore_errors=True)
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
