#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What Cachalot says about itself, checked against what happened (#10
items 14, 15, 16), with the real s3rver origin behind the counting front,
real Cachalot processes and boto3:

  disk_hits_are_not_misses          serve: a read through memory, through the
                                    disk tier (restarted, memory cold) and
                                    from the origin: hits by tier and misses
                                    on /metrics agree with the origin's count
  hit_ratio_agrees_everywhere       cluster: worker /metrics, the gateway's
                                    staging store, the master's /metrics,
                                    `ctl stats`, its status page, the origin
  metrics_match_the_document        /metrics of serve, gateway, worker and
                                    master against docs/METRICS.md; promtool
                                    (when installed) and a strict parser
  readyz_names_the_unreachable_origin  /readyz 200, 503 naming the origin
                                    while the front is down, 200 again, the
                                    change logged once; /healthz stays 200
  evictions_reach_the_master        the blocks workers evict are reported
                                    (they were always 0 at the master)
  readyz_names_the_unreachable_master  a gateway whose master is gone says
                                    so on /readyz and in its log, once
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "rig"))
from rig import AK, SK, ORIGIN_AK, ORIGIN_SK, Checks, Rig, wait_port  # noqa: E402
from cluster import Cluster  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

MiB = 1 << 20
ROLES = ("serve", "gateway", "worker", "master")


# ---- Prometheus text: a strict parser ----

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(" + NAME + r")(\{(?:" + LABEL + r")(?:," + LABEL + r")*\})? (\S+)$")


def parse_exposition(text):
    """{family: (type, {series: value})}; raises ValueError on anything the
    text format 0.0.4 does not allow, or on a family not printed as one
    group (HELP, TYPE, then all its samples)."""
    fams, cur, done = {}, None, set()
    if not text.endswith("\n"):
        raise ValueError("no final newline")
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in fams or name in done:
                raise ValueError(f"line {n}: second HELP for {name}")
            if cur is not None:
                done.add(cur)
            cur = name
            fams[name] = [None, {}]
        elif line.startswith("# TYPE "):
            f = line.split(" ")
            if len(f) != 4 or f[2] != cur or fams[cur][0] is not None:
                raise ValueError(f"line {n}: TYPE not right after its HELP: {line}")
            if f[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError(f"line {n}: type {f[3]}")
            fams[cur][0] = f[3]
        elif line.startswith("#") or not line:
            raise ValueError(f"line {n}: unexpected {line!r}")
        else:
            m = SAMPLE.match(line)
            if not m:
                raise ValueError(f"line {n}: malformed sample {line!r}")
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            float(value)
            if cur is None or fams[cur][0] is None:
                raise ValueError(f"line {n}: sample before its family's TYPE")
            typ = fams[cur][0]
            ok = name == cur if typ != "histogram" else \
                name in (cur + "_bucket", cur + "_sum", cur + "_count")
            if not ok:
                raise ValueError(f"line {n}: {name} in family {cur} (not grouped)")
            if typ == "counter" and not cur.endswith("_total"):
                raise ValueError(f"line {n}: counter {cur} without _total")
            if name.endswith("_bucket") and 'le="' not in labels:
                raise ValueError(f"line {n}: bucket without le")
            key = name + labels
            if key in fams[cur][1]:
                raise ValueError(f"line {n}: series {key} twice")
            fams[cur][1][key] = float(value)
    return {k: (v[0], v[1]) for k, v in fams.items()}


def promtool(ck, role, text):
    """promtool check metrics, when Debian's prometheus package is there."""
    tool = shutil.which("promtool")
    if tool is None:
        return False
    p = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True)
    ck.check(p.returncode == 0, f"promtool check metrics ({role}): {p.stdout}{p.stderr}"[:2000])
    return True


def documented():
    """{family: (type, {roles})} from the table of docs/METRICS.md."""
    doc = {}
    with open(os.path.join(TOP, "docs", "METRICS.md")) as f:
        for line in f:
            if not line.startswith("| `cachalot_"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            name = cells[0].strip("`")
            roles = {r.strip() for r in cells[3].split(",")}
            doc[name] = (cells[1], roles)
    return doc


def value(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[1])
    return None


def get(url, timeout=5):
    """(status, body) of a GET, 4xx and 5xx included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(fn, timeout=15, step=0.2):
    """fn() until it is true or the time is out; its last value."""
    end = time.time() + timeout
    v = fn()
    while not v and time.time() < end:
        time.sleep(step)
        v = fn()
    return v


def client(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=AK, aws_secret_access_key=SK,
                        region_name="us-east-1",
                        config=Config(signature_version="s3v4",
                                      retries={"total_max_attempts": 1, "mode": "standard"}))


class Tiers:
    """The hit and miss counters of a serve or worker /metrics."""

    def __init__(self, text):
        self.mem = value(text, 'cachalot_cache_hits_total{tier="memory"}')
        self.disk = value(text, 'cachalot_cache_hits_total{tier="disk"}')
        self.miss = value(text, "cachalot_cache_misses_total")
        self.filled = value(text, "cachalot_cache_bytes_filled_total")

    def delta(self, before):
        return tuple((a or 0) - (b or 0) for a, b in ((self.mem, before.mem), (self.disk, before.disk),
                                                     (self.miss, before.miss)))


# ---- serve ----

def disk_hits_are_not_misses(ck, rig, s3, b):
    """8 blocks from the origin, then from memory, then (restarted: memory
    cold) from disk: each read's counts by tier, and the origin's count."""
    blocks = 8
    body = os.urandom(blocks * MiB)
    s3.put_object(Bucket=b, Key="tiers", Body=body)
    rig.reset()
    t0 = Tiers(rig.metrics())
    ck.check(s3.get_object(Bucket=b, Key="tiers")["Body"].read() == body, "cold read: the bytes")
    t1 = Tiers(rig.metrics())
    c = rig.counts()
    ck.check(c["bytes_out"] == blocks * MiB and c["get_object"] >= 1,
             f"cold read: 8 MiB from the origin: {c}")
    ck.check(t1.delta(t0) == (0, 0, blocks),
             f"cold read: memory, disk hits, misses = 0, 0, {blocks}: {t1.delta(t0)}")
    ck.check((t1.filled or 0) - (t0.filled or 0) == c["bytes_out"],
             "bytes filled = bytes from the origin")

    rig.reset()
    ck.check(s3.get_object(Bucket=b, Key="tiers")["Body"].read() == body, "warm read: the bytes")
    t2 = Tiers(rig.metrics())
    ck.check(rig.counts()["get_object"] == 0, "warm read: no GET at the origin")
    ck.check(t2.delta(t1) == (blocks, 0, 0),
             f"warm read: memory, disk hits, misses = {blocks}, 0, 0: {t2.delta(t1)}")

    # The disk tier is written behind the loops: wait until it has it all.
    ck.check(wait_for(lambda: value(rig.metrics(), "cachalot_cache_disk_queue_bytes") == 0),
             "disk write queue empty")
    rig.restart_gateway()
    rig.reset()
    ck.check(s3.get_object(Bucket=b, Key="tiers")["Body"].read() == body, "after restart: the bytes")
    t3 = Tiers(rig.metrics())
    c = rig.counts()
    ck.check(c["get_object"] == 0 and c["bytes_out"] == 0, f"after restart: no bytes from the origin: {c}")
    # Before #10 item 14 this read counted hits 0, misses 8.
    ck.check((t3.mem, t3.disk, t3.miss) == (0, blocks, 0),
             f"after restart (fresh counters): memory, disk hits, misses = 0, {blocks}, 0: "
             f"{(t3.mem, t3.disk, t3.miss)}")
    hits, reads = (t3.mem or 0) + (t3.disk or 0), (t3.mem or 0) + (t3.disk or 0) + (t3.miss or 0)
    ck.check(reads > 0 and hits / reads == 1.0, f"hit ratio after restart 1.0: {hits} of {reads}")


def readyz_names_the_unreachable_origin(ck, rig):
    url = f"http://127.0.0.1:{rig.admin_port}"
    st = wait_for(lambda: get(url + "/readyz")[0] == 200)
    s, body = get(url + "/readyz")
    ck.check(st and s == 200, f"/readyz 200 with the origin up: {s} {body}")
    doc = json.loads(body) if s == 200 else {}
    ck.check(doc.get("ready") is True and doc.get("origin") == "ok" and doc.get("disk") == "ok",
             f"/readyz body: {body}")
    rig.kill_front()
    down = wait_for(lambda: get(url + "/readyz")[0] == 503, timeout=10)
    s, body = get(url + "/readyz")
    ck.check(down and s == 503, f"/readyz 503 with the origin down: {s} {body}")
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    ck.check(doc.get("ready") is False and str(doc.get("origin", "")).startswith("unreachable: ") and
             doc.get("disk") == "ok", f"/readyz names the origin: {body}")
    ck.check(get(url + "/healthz") == (200, "ok\n"), "/healthz stays 200 (liveness)")
    time.sleep(5)		# a few probes and polls more
    for _ in range(5):
        get(url + "/readyz")
    log = rig.log(f"cachalot.{rig.restarts}.log")
    ck.check(log.count("not ready: origin") == 1,
             f"the origin's loss logged once: {log.count('not ready: origin')}")
    ck.check(re.search(r" warn not ready: origin", log) is not None, "... at warn")
    # The front again, on its port.
    p = rig._spawn(["/usr/bin/python3", os.path.join(TOP, "tests", "rig", "front.py"), str(rig.front_port),
                    str(rig.s3rver_port), ORIGIN_AK, ORIGIN_SK], "front.again.log")
    rig.procs[1] = p
    wait_port(rig.front_port, p, "front (again)")
    up = wait_for(lambda: get(url + "/readyz")[0] == 200, timeout=10)
    ck.check(up, f"/readyz 200 again once the origin is back: {get(url + '/readyz')}")
    log = rig.log(f"cachalot.{rig.restarts}.log")
    ck.check(log.count("ready: origin is back") == 1, "the origin's return logged once")


# ---- cluster ----

def hit_ratio_agrees_everywhere(ck, cl):
    b = "ratio-bucket"
    s3 = client(cl.gateway_endpoint(0))
    s3.create_bucket(Bucket=b)
    blocks = 4
    body = os.urandom(blocks * MiB)
    s3.put_object(Bucket=b, Key="obj", Body=body)
    cl.reset()
    for i in range(3):
        ck.check(s3.get_object(Bucket=b, Key="obj")["Body"].read() == body, f"read {i} through the gateway")
    c = cl.counts()
    ws = [Tiers(cl.worker_metrics(i)) for i in range(cl.nworkers)]
    w_hits = sum((w.mem or 0) + (w.disk or 0) for w in ws)
    w_miss = sum(w.miss or 0 for w in ws)
    g = cl.gateway_metrics(0)
    g_hits = value(g, "cachalot_gateway_staging_hits_total") or 0
    g_orig = value(g, 'cachalot_gateway_staging_fills_total{source="origin"}') or 0
    ck.check(value(g, 'cachalot_cache_hits_total{tier="memory"}') is None,
             "the gateway exports no cachalot_cache_* (its staging store has its own names)")
    ck.check(w_miss == blocks and c["bytes_out"] == blocks * MiB,
             f"each block fetched from the origin once, a miss on its worker: misses {w_miss}, "
             f"origin bytes {c['bytes_out']}")
    ck.check(w_hits + g_hits == 2 * blocks,
             f"two warm reads: {2 * blocks} hits (workers {w_hits}, gateway staging {g_hits})")
    hits, misses = w_hits + g_hits, w_miss + g_orig

    def master_totals():
        m = cl.master_get("/metrics")
        return value(m, "cachalot_master_block_hits_total"), value(m, "cachalot_master_block_misses_total")
    # Heartbeats (every second) carry the counts to the master.
    got = wait_for(lambda: master_totals() == (hits, misses), timeout=10)
    ck.check(got, f"master /metrics hits, misses = {hits}, {misses}: {master_totals()}")
    rc, out, _ = cl.ctl("stats", b, "--json")
    st = json.loads(out)["buckets"] if rc == 0 else []
    ck.check(len(st) == 1 and (st[0]["hits"], st[0]["misses"]) == (hits, misses) and
             abs(st[0]["hit_ratio"] - hits / (hits + misses)) < 1e-3 and
             st[0]["bytes_from_origin"] == c["bytes_out"],
             f"ctl stats {b}: hits {hits}, misses {misses}, ratio {hits / (hits + misses):.4f}, "
             f"from origin {c['bytes_out']}: {st}")
    page = cl.master_get("/")
    ck.check(f"hits {int(hits)}, misses {int(misses)}, hit ratio {hits / (hits + misses):.3f}" in page,
             f"the master's status page: {page[:400]}")


class SmallWorkers(Cluster):
    """The rig's cluster with 4 MiB memory tiers on the workers (they
    evict soon)."""

    def _spawn(self, args, log):
        if log.startswith("worker"):
            i = args.index("--mem-cache")
            args = args[:i + 1] + ["4M"] + args[i + 2:]
        return super()._spawn(args, log)


def evictions_reach_the_master(ck, cl):
    b = "evict-bucket"
    s3 = client(cl.gateway_endpoint(0))
    s3.create_bucket(Bucket=b)
    body = os.urandom(16 * MiB)
    s3.put_object(Bucket=b, Key="big", Body=body)
    ck.check(s3.get_object(Bucket=b, Key="big")["Body"].read() == body, "16 MiB through 2 x 4 MiB")

    def workers():
        n = 0
        for i in range(cl.nworkers):
            m = cl.worker_metrics(i)
            n += sum(value(m, f'cachalot_cache_evictions_total{{tier="{t}"}}') or 0
                     for t in ("memory", "disk"))
        return n

    def master():
        return value(cl.master_get("/metrics"), "cachalot_master_evictions_total")
    ev = workers()
    ck.check(ev > 0, f"the workers evicted blocks: {ev}")
    ck.check(wait_for(lambda: master() == workers(), timeout=10),
             f"the master has the workers' evictions: {master()} of {workers()}")
    rc, out, _ = cl.ctl("status", "--json")
    ck.check(rc == 0 and json.loads(out).get("evictions") == workers(),
             f"ctl status --json evictions {workers()}: {out}")


def readyz_names_the_unreachable_master(ck, cl):
    url = f"http://127.0.0.1:{cl.gateway_ports[0][1]}"
    s, body = get(url + "/readyz")
    ck.check(s == 200 and json.loads(body).get("master") == "ok", f"gateway /readyz with the master: {body}")
    wurl = f"http://127.0.0.1:{cl.worker_ports[0][1]}"
    s, body = get(wurl + "/readyz")
    ck.check(s == 200 and json.loads(body).get("disk") == "ok", f"worker /readyz: {body}")
    cl.kill_master()
    down = wait_for(lambda: get(url + "/readyz")[0] == 503, timeout=10)
    s, body = get(url + "/readyz")
    ck.check(down and "\"master\":\"unreachable: " in body, f"gateway /readyz names the master: {body}")
    time.sleep(3)		# more polls of the ring
    log = cl.log("gateway0.log")
    ck.check(log.count("cluster: master ") == 1 and " warn cluster: master " in log,
             f"the gateway says once that its master is unreachable: {log.count('cluster: master ')}")
    cl.start_master()
    up = wait_for(lambda: get(url + "/readyz")[0] == 200, timeout=10)
    ck.check(up, "gateway /readyz 200 once the master is back")
    ck.check("reachable again" in cl.log("gateway0.log"), "... and says so")


# ---- the document ----

def metrics_match_the_document(ck, texts):
    doc = documented()
    ck.check(len(doc) > 30, f"docs/METRICS.md lists the families: {len(doc)}")
    checked_promtool = False
    for role in ROLES:
        text = texts[role]
        try:
            fams = parse_exposition(text)
        except ValueError as e:
            ck.check(False, f"/metrics of {role}: {e}")
            continue
        ck.check(True, f"/metrics of {role} parses strictly")
        checked_promtool |= promtool(ck, role, text)
        undocumented = sorted(f for f in fams if f not in doc)
        ck.check(not undocumented, f"{role}: exported but not in docs/METRICS.md: {undocumented}")
        missing = sorted(f for f, (_, roles) in doc.items() if role in roles and f not in fams)
        ck.check(not missing, f"{role}: documented for {role} but not exported: {missing}")
        wrong_role = sorted(f for f in fams if f in doc and role not in doc[f][1])
        ck.check(not wrong_role, f"{role}: exported but documented for other roles: {wrong_role}")
        wrong_type = sorted(f for f in fams if f in doc and doc[f][0] != fams[f][0])
        ck.check(not wrong_type, f"{role}: type differs from the document: {wrong_type}")
        info = [k for k in fams.get("cachalot_build_info", (None, {}))[1]]
        ck.check(len(info) == 1 and f'role="{role}"' in info[0] and 'version="' in info[0],
                 f"{role}: cachalot_build_info with version and role: {info}")
    print(f"metrics: promtool {'used' if checked_promtool else 'not installed: strict parser only'}",
          flush=True)


def main():
    ck = Checks("metrics")
    texts = {}
    with Rig(role="serve", extra=["--block-size", "1M", "--mem-cache", "64M", "--disk-cache", "64M",
                                  "--freshness", "3600"]) as rig:
        s3 = client(rig.endpoint)
        b = "metrics-bucket"
        s3.create_bucket(Bucket=b)
        disk_hits_are_not_misses(ck, rig, s3, b)
        texts["serve"] = rig.metrics()
        readyz_names_the_unreachable_origin(ck, rig)
        ck.check(not rig.sanitizer, "serve: no sanitizer reports")
    with SmallWorkers(workers=2, gateways=1) as cl:
        hit_ratio_agrees_everywhere(ck, cl)
        evictions_reach_the_master(ck, cl)
        texts["gateway"] = cl.gateway_metrics(0)
        texts["worker"] = cl.worker_metrics(0)
        texts["master"] = cl.master_get("/metrics")
        readyz_names_the_unreachable_master(ck, cl)
    ck.check(not cl.sanitizer, f"cluster: no sanitizer reports: {cl.sanitizer[:3]}")
    ck.check(not rig.sanitizer, "serve: no sanitizer reports")
    metrics_match_the_document(ck, texts)
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
