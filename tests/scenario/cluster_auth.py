#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Nobody joins the cluster without the cluster's secret (issue #12, part 2),
against a real cluster (the rig: s3rver behind the counting front, a master,
two workers, a gateway, all sharing CACHALOT_CLUSTER_SECRET):

  1. no role starts in a cluster without a secret, saying how to set it;
  2. a rogue worker (a real one with a wrong secret, and heartbeats of ours,
     unsigned or signed with a wrong secret, advertising a port of ours with
     weight 1000) never enters the ring: the gateway's ring keeps two
     workers and, through 40 writes and reads, our port sees no connection;
  3. a heartbeat signed with the secret is taken once: sent again (a replay),
     altered (its body), or out of the date window, it is refused;
  4. drain, undrain and purge without the secret (ctl without it, ctl with a
     wrong one, raw POSTs) change nothing: ring and epoch as they were, a
     cached object still cached; ctl with the secret drains, undrains and
     purges;
  5. a ring answer altered in flight (a proxy of ours between a second
     gateway and the master adds our port with weight 1000) is refused by
     that gateway, which keeps its last good ring: our port sees nothing;
  6. the refusals are counted by reason on the master's /metrics and logged
     once per peer.
"""
import hashlib
import hmac
import http.client
import http.server
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import Checks, free_port, wait_port  # noqa: E402
from cluster import CLUSTER_SECRET, Cluster, metric  # noqa: E402

BUCKET = "authbucket"
WRONG = "not-the-cluster-secret-0123456789"


def sign(secret, method, target, host, ctype, body, date=None, nonce=None):
    """The three headers of cluster/clu_auth.h, computed here independently."""
    date = int(time.time()) if date is None else date
    nonce = nonce or secrets.token_hex(16)
    text = "\n".join(["cachalot-v1-request", method, target, host, ctype,
                      hashlib.sha256(body).hexdigest(), "", str(date), nonce])
    mac = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return {"x-cachalot-date": str(date), "x-cachalot-nonce": nonce, "x-cachalot-auth": "v1 " + mac}


def post(port, target, body=b"", headers=None):
    """(status, text) of a POST to the master, Host and Content-Type as signed."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    h = {"Host": f"127.0.0.1:{port}"}
    if body:
        h["Content-Type"] = "text/plain"
    h.update(headers or {})
    try:
        c.request("POST", target, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        c.close()


def signed_post(port, target, body=b"", secret=CLUSTER_SECRET, **kw):
    hdrs = sign(secret, "POST", target, f"127.0.0.1:{port}", "text/plain" if body else "", body, **kw)
    return post(port, target, body, hdrs), hdrs


class Listener:
    """A port of ours that counts the connections it is sent."""

    def __init__(self):
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(64)
        self.port = self.s.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            self.connections += 1
            c.close()


class RingProxy(http.server.ThreadingHTTPServer):
    """Between a gateway and the master; with tamper set, the ring's answer
    gets a worker of ours (weight 1000) and a higher epoch."""
    daemon_threads = True

    def __init__(self, master_port, rogue):
        self.master_port, self.rogue, self.tamper, self.tampered = master_port, rogue, False, 0
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        hop = {"connection", "keep-alive", "proxy-connection", "transfer-encoding"}
        h = {k: v for k, v in self.headers.items() if k.lower() not in hop}
        c = http.client.HTTPConnection("127.0.0.1", self.server.master_port, timeout=5)
        c.request(self.command, self.path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        if self.server.tamper and self.path.startswith("/v1/ring"):
            text = data.decode()
            text = re.sub(r"^epoch (\d+)", lambda m: f"epoch {int(m.group(1)) + 100}", text)
            data = (text + f"worker rogue 127.0.0.1:{self.server.rogue} 1000\n").encode()
            self.server.tampered += 1
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in hop | {"content-length", "date", "server"}:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        c.close()

    do_GET = do_POST = _forward


def env_without_secret(secret=None):
    env = dict(os.environ)
    env.pop("CACHALOT_CLUSTER_SECRET", None)
    if secret is not None:
        env["CACHALOT_CLUSTER_SECRET"] = secret
    return env


def run_briefly(args, env, timeout=10):
    """(returncode or None if it was still running, output)."""
    try:
        p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stderr + p.stdout
    except subprocess.TimeoutExpired:
        return None, "still running"


def test_no_role_without_secret(ck, cl):
    tmp = cl.tmp
    for role, extra in (("master", ["--data-dir", os.path.join(tmp, "nosecret-m")]),
                        ("worker", ["--master", cl.master_url, "--data-dir",
                                    os.path.join(tmp, "nosecret-w")] + cl.common),
                        ("gateway", ["--master", cl.master_url] + cl.common)):
        args = [cl.cachalot, role, "--listen", f"127.0.0.1:{free_port()}", "--admin-listen",
                f"127.0.0.1:{free_port()}"] + extra
        rc, out = run_briefly(args, env_without_secret())
        ck.check(rc not in (None, 0) and "cluster-secret is required" in out and
                 "CACHALOT_CLUSTER_SECRET" in out,
                 f"{role} without a cluster secret refuses to start, saying how: rc {rc}, {out.strip()[-300:]!r}")
        rc, out = run_briefly(args, env_without_secret("short"))
        ck.check(rc not in (None, 0) and "16 to 256" in out,
                 f"{role} with a 5-character secret refuses to start: rc {rc}, {out.strip()[-200:]!r}")


def gateway_ring(cl, i=0, admin=None):
    text = urllib.request.urlopen(f"http://127.0.0.1:{admin or cl.gateway_ports[i][1]}/metrics",
                                  timeout=5).read().decode()
    return metric(text, "cachalot_cluster_ring_epoch"), metric(text, "cachalot_cluster_ring_workers")


def traffic(g, prefix, n=20):
    for i in range(n):
        k = f"{prefix}/{i}"
        g.put_object(Bucket=BUCKET, Key=k, Body=k.encode() * 300)
        g.get_object(Bucket=BUCKET, Key=k)["Body"].read()


def test_rogue_never_joins(ck, cl, g, rogue):
    before = cl.ring()
    # A real worker with a wrong secret.
    port, admin = free_port(), free_port()
    env = env_without_secret(WRONG)
    p = subprocess.Popen([cl.cachalot, "worker", "--listen", f"127.0.0.1:{port}", "--admin-listen",
                          f"127.0.0.1:{admin}", "--master", cl.master_url, "--worker-id", "rogue-real",
                          "--data-dir", os.path.join(cl.tmp, "rogue-real"), "--mem-cache", "16M",
                          "--disk-cache", "0"] + cl.common,
                         stdout=open(os.path.join(cl.tmp, "rogue-real.log"), "wb"),
                         stderr=subprocess.STDOUT, env=env)
    cl.procs.append(p)
    # Heartbeats of ours: unsigned, and signed with a wrong secret.
    body = f"worker rogue 127.0.0.1:{rogue.port} 1000\npurge-seen 0\n".encode()
    codes = set()
    for i in range(10):
        codes.add(post(cl.master_port, "/v1/heartbeat", body)[0])
        codes.add(signed_post(cl.master_port, "/v1/heartbeat", body, secret=WRONG)[0][0])
        time.sleep(0.3)
    ck.check(codes <= {401, 403} and 401 in codes and 403 in codes,
             f"unsigned heartbeats are answered 401, wrongly signed 403: {sorted(codes)}")
    time.sleep(2)
    after = cl.ring()
    ck.check(after == before and "rogue" not in after[1] and "rogue-real" not in after[1],
             f"the ring did not move: before {before}, after {after}")
    workers = cl.master_get("/v1/workers")
    ck.check("rogue" not in workers, f"the master does not know the rogues: {workers!r}")
    ck.check(gateway_ring(cl)[1] == 2, f"the gateway's ring has the 2 workers: {gateway_ring(cl)}")
    traffic(g, "rogue")
    ck.check(rogue.connections == 0, f"our port saw no connection: {rogue.connections}")
    ck.check(p.poll() is None, "the wrongly keyed worker runs (it cannot know)")
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{admin}/readyz", timeout=5).read().decode()
        st = 200
    except urllib.error.HTTPError as e:
        text, st = e.read().decode(), e.code
    except OSError as e:
        text, st = str(e), None
    ck.check(st == 503 and "cluster-secret" in text,
             f"the wrongly keyed worker is not ready and says why: {st} {text.strip()!r}")
    log = cl.log("rogue-real.log")
    ck.check("refused our request" in log, f"it logs the master's refusal: {log[-300:]!r}")
    p.terminate()
    p.wait(timeout=20)


def test_replay_and_altered_heartbeat(ck, cl, rogue):
    port0 = cl.worker_ports[0][0]
    body = f"worker w0 127.0.0.1:{port0} 1\n".encode()
    (st, text), hdrs = signed_post(cl.master_port, "/v1/heartbeat", body)
    ck.check(st == 200 and text.startswith("epoch "), f"a heartbeat signed with the secret is taken: {st} {text!r}")
    st, text = post(cl.master_port, "/v1/heartbeat", body, hdrs)
    ck.check(st == 403 and "replay" in text, f"the same heartbeat again (a replay) is refused: {st} {text!r}")
    altered = f"worker w0 127.0.0.1:{rogue.port} 1\n".encode()
    hdrs = sign(CLUSTER_SECRET, "POST", "/v1/heartbeat", f"127.0.0.1:{cl.master_port}", "text/plain", body)
    st, text = post(cl.master_port, "/v1/heartbeat", altered, hdrs)
    ck.check(st == 403 and "signature" in text, f"a heartbeat whose body was altered is refused: {st} {text!r}")
    st, text = post(cl.master_port, "/v1/heartbeat?x=1", body,
                    sign(CLUSTER_SECRET, "POST", "/v1/heartbeat", f"127.0.0.1:{cl.master_port}",
                         "text/plain", body))
    ck.check(st == 403, f"a heartbeat whose target was altered is refused: {st} {text!r}")
    (st, text), _ = signed_post(cl.master_port, "/v1/heartbeat", body, date=int(time.time()) - 120)
    ck.check(st == 403 and "window" in text, f"a heartbeat dated 2 minutes ago is refused: {st} {text!r}")
    workers = cl.master_get("/v1/workers")
    ck.check(f"127.0.0.1:{port0}" in workers and str(rogue.port) not in workers,
             f"w0's address is its own: {workers!r}")


def test_drain_purge_without_secret(ck, cl, g):
    g.put_object(Bucket=BUCKET, Key="kept", Body=b"k" * 5000)
    for _ in range(2):
        g.get_object(Bucket=BUCKET, Key="kept")["Body"].read()
    before = cl.ring()
    # ctl without the secret, with a wrong one; raw unsigned POSTs.
    env = env_without_secret()
    for args, env_, what in ((["drain", "w0"], env, "ctl drain without the secret"),
                             (["drain", "w0"], env_without_secret(WRONG), "ctl drain with a wrong secret"),
                             (["purge", BUCKET], env, "ctl purge without the secret"),
                             (["purge", BUCKET], env_without_secret(WRONG), "ctl purge with a wrong secret")):
        p = subprocess.run([cl.cachalot, "ctl", "--master", cl.master_url] + args, env=env_,
                           capture_output=True, text=True, timeout=20)
        ck.check(p.returncode != 0 and "cluster-secret" in p.stderr.lower() + p.stdout.lower(),
                 f"{what} fails, naming the secret: rc {p.returncode} {p.stderr.strip()!r}")
    for target in ("/v1/drain?worker=w0", "/v1/drain?worker=w1", f"/v1/purge?bucket={BUCKET}"):
        st, text = post(cl.master_port, target)
        ck.check(st == 401, f"unsigned POST {target}: 401 ({st} {text.strip()!r})")
        (st, text), _ = signed_post(cl.master_port, target, secret=WRONG)
        ck.check(st == 403, f"POST {target} signed with a wrong secret: 403 ({st} {text.strip()!r})")
    time.sleep(2.5)		# purges would reach the workers at their next heartbeat
    ck.check(cl.ring() == before, f"ring and epoch unchanged: {before} -> {cl.ring()}")
    cl.reset()
    g.get_object(Bucket=BUCKET, Key="kept")["Body"].read()
    ck.check(cl.counts()["requests"] == 0, f"the object is still cached: {cl.counts()}")
    # With the secret (the rig's environment), ctl works.
    rc, out, err = cl.ctl("drain", "w0")
    ck.check(rc == 0, f"ctl drain w0 with the secret: {rc} {out} {err}")
    ck.check(cl.ring()[1] == ["w1"] and cl.ring()[0] > before[0], f"w0 drained: {cl.ring()}")
    rc, out, err = cl.ctl("undrain", "w0")
    ck.check(rc == 0 and cl.wait_ring(2, timeout=10) < 10, f"ctl undrain w0: {rc} {out} {err}")
    rc, out, err = cl.ctl("purge", BUCKET)
    ck.check(rc == 0, f"ctl purge with the secret: {rc} {out} {err}")
    time.sleep(2.5)
    cl.reset()
    g.get_object(Bucket=BUCKET, Key="kept")["Body"].read()
    ck.check(cl.counts()["requests"] > 0, f"after the signed purge it comes from the origin: {cl.counts()}")


def test_altered_ring_refused(ck, cl, rogue):
    proxy = RingProxy(cl.master_port, rogue.port)
    purl = f"http://127.0.0.1:{proxy.server_address[1]}"
    port, admin = free_port(), free_port()
    p = cl._spawn([cl.cachalot, "gateway", "--listen", f"127.0.0.1:{port}", "--admin-listen",
                   f"127.0.0.1:{admin}", "--master", purl] + cl.common, "gateway-proxied.log")
    wait_port(port, p, "the gateway behind the proxy")
    t0 = time.time()		# its first poll comes once its listeners are up
    while gateway_ring(cl, admin=admin)[1] != 2 and time.time() - t0 < 10:
        time.sleep(0.2)
    good = gateway_ring(cl, admin=admin)
    ck.check(good[1] == 2, f"through an honest proxy the gateway has the ring: {good}")
    proxy.tamper = True
    t0 = time.time()
    while proxy.tampered < 3 and time.time() - t0 < 10:
        time.sleep(0.2)
    time.sleep(1.2)
    ck.check(proxy.tampered >= 3, f"the gateway polled through the proxy: {proxy.tampered}")
    now = gateway_ring(cl, admin=admin)
    ck.check(now == good, f"the altered ring is refused, the last good one kept: {good} -> {now}")
    import boto3
    from botocore.config import Config
    from rig import AK, SK
    g2 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=AK,
                      aws_secret_access_key=SK, region_name="us-east-1",
                      config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    traffic(g2, "proxied")
    ck.check(rogue.connections == 0, f"our port saw no connection: {rogue.connections}")
    log = cl.log("gateway-proxied.log")
    ck.check(log.count("refused an answer") == 1,
             f"the gateway says once that it refused the ring: {log.count('refused an answer')}")
    proxy.tamper = False
    proxy.shutdown()


def main():
    ck = Checks("cluster_auth")
    rogue = Listener()
    with Cluster(workers=2, gateways=1) as cl:
        g = cl.client(0)
        g.create_bucket(Bucket=BUCKET)
        for name, t in (("no role without a secret", lambda: test_no_role_without_secret(ck, cl)),
                        ("rogue", lambda: test_rogue_never_joins(ck, cl, g, rogue)),
                        ("replay", lambda: test_replay_and_altered_heartbeat(ck, cl, rogue)),
                        ("drain and purge", lambda: test_drain_purge_without_secret(ck, cl, g)),
                        ("altered ring", lambda: test_altered_ring_refused(ck, cl, rogue))):
            try:
                t()
            except Exception as e:  # a failed part must not hide the others'
                ck.check(False, f"{name}: {type(e).__name__}: {e}")
        m = cl.master_get("/metrics")
        for reason in ("missing", "signature", "replay", "stale"):
            v = metric(m, f'cachalot_master_auth_refused_total{{reason="{reason}"}}')
            ck.check(v >= 1, f"refusals counted, reason {reason}: {v}")
        log = cl.log("master.log")
        n = log.count("master: refused")
        ck.check(n == 1, f"the master logs its refusals once per peer (all ours are 127.0.0.1): {n}")
        ck.check(not cl.sanitizer_reports(), "no sanitizer reports")
    ck.check(not cl.sanitizer, f"no sanitizer reports at exit: {cl.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
