#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Cachalot against nginx proxy_cache on the same origin, in one run.

Starts on 127.0.0.1: the s3rver origin with objects of 4 KiB, 64 KiB, 1 MiB
and 256 MiB; `cachalot serve`; nginx (Debian's) as a caching reverse proxy
configured by bench/nginx.conf (proxy_cache on disk, proxy_cache_lock,
slice 1m, keep-alive to the origin, sendfile, one worker per core). Both are
warmed, then driven alternately by wrk with keep-alive connections at
concurrency 1, 16 and 64, several rounds; Cachalot through a presigned URL,
so that signature verification is on the measured path; nginx unsigned.

Two configurations, each with servers started afresh (BENCH_LOG=on or off
runs only one):
  log on   Cachalot at its defaults (log level info, the access log on
           stderr, here a file), nginx with `access_log FILE buffer=64k
           flush=1s`: what each does as installed, logging every request;
  log off  Cachalot with --log-level error --access-log off, nginx with
           access_log off (the figure of the earlier rounds).
Reports the machine (CPU model, cores, kernel) and, per configuration, size
and concurrency: requests/s, MB/s, p50 and p99 latency, CPU seconds per 10k
requests and peak RSS of each server, medians of the rounds, and the ratio
Cachalot/nginx for each; with logs on, the access lines each wrote. The two
cores are shared by both servers and the load generator; nothing is pinned.
Usage: vs_nginx.py CACHALOT [SECONDS] [ROUNDS]
"""
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "rig"))
from rig import free_port, need_s3rver, start_s3rver, wait_port  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

SIZES = [("4K", 4096), ("64K", 65536), ("1M", 1 << 20), ("256M", 256 << 20)]
# BENCH_SIZES=4K,64K: only those. BENCH_PIN=1: the servers on CPU 0, wrk on
# CPU 1 (each server gets the same one core; the load generator its own).
if os.environ.get("BENCH_SIZES"):
    SIZES = [x for x in SIZES if x[0] in os.environ["BENCH_SIZES"].split(",")]
PIN = os.environ.get("BENCH_PIN") == "1"
SERVER_CPU = ["taskset", "-c", "0"] if PIN else []
CLIENT_CPU = ["taskset", "-c", "1"] if PIN else []
CONC = [int(x) for x in os.environ.get("BENCH_CONC", "1,16,64").split(",")]
LOGS = [x for x in ("on", "off") if os.environ.get("BENCH_LOG", x) == x]
AK, SK = "bench", "bench-secret"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    t = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            t += int(parts[11]) + int(parts[12])
        except OSError:
            pass
    return t / TICK


def hwm(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def nginx_pids(master):
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [master] + [int(p) for p in out.split()]


def to_ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    x = float(m.group(1))
    return x / 1000 if m.group(2) == "us" else x if m.group(2) == "ms" else x * 1000


def to_mb(v):
    m = re.match(r"([\d.]+)([KMG]?)B", v)
    return float(m.group(1)) * {"": 1e-6, "K": 1e-3, "M": 1, "G": 1e3}[m.group(2)] * (1.048576 if m.group(2) else 1)


def wrk(url, conc, secs):
    out = subprocess.run(CLIENT_CPU + ["wrk", f"-t{min(2, conc)}", f"-c{conc}", f"-d{secs}s", "--latency", url],
                         capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    mbs = to_mb(re.search(r"Transfer/sec:\s+(\S+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "mbs": mbs, "p50": p50, "p99": p99, "reqs": reqs,
            "errors": int(errors.group(1)) if errors else 0}


def machine():
    """CPU model, cores and kernel: the figures mean little without them."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores online; Linux {platform.release()}"


def count_lines(path, pattern=None):
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if pattern is None or pattern in line)
    except OSError:
        return 0


def run_config(log, cachalot, tmp, s3p, secs, rounds):
    """Starts Cachalot and nginx logging as log says, measures, prints one
    table, stops both."""
    d = os.path.join(tmp, f"log-{log}")
    os.makedirs(d)
    os.chmod(d, 0o755)
    procs = []
    cerr = open(os.path.join(d, "cachalot.log"), "wb")
    try:
        cp, ca, np_ = free_port(), free_port(), free_port()
        # log on: Cachalot at its defaults, its stderr (log and access log)
        # in a file, as a service manager would keep it.
        quiet = ["--log-level", "error", "--access-log", "off"] if log == "off" else []
        cach = subprocess.Popen(SERVER_CPU + [cachalot, "serve", "--listen", f"127.0.0.1:{cp}",
                                 "--admin-listen", f"127.0.0.1:{ca}",
                                 "--origin", f"http://127.0.0.1:{s3p}", "--origin-access-key", "S3RVER",
                                 "--origin-secret-key", "S3RVER", "--access-key", AK, "--secret-key", SK,
                                 "--mem-cache", "1G", "--disk-cache", "2G", "--data-dir", f"{d}/data",
                                 "--freshness", "3600"] + quiet,
                                stdout=subprocess.DEVNULL, stderr=cerr)
        procs.append(cach)
        wait_port(cp, cach, "cachalot")
        nlog = f"{d}/nginx-access.log"
        with open(os.path.join(HERE, "nginx.conf")) as f:
            conf = f.read().replace("@ACCESS_LOG@", f"access_log {nlog} combined buffer=64k flush=1s"
                                    if log == "on" else "access_log off").replace(
                "@TMP@", d).replace("@PORT@", str(np_)).replace(
                "@ORIGIN@", f"127.0.0.1:{s3p}").replace("@WORKERS@", str(os.cpu_count()))
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(conf)
        os.makedirs(f"{d}/nginx_cache")
        os.chmod(f"{d}/nginx_cache", 0o777)
        ng = subprocess.Popen(SERVER_CPU + ["nginx", "-c", f"{d}/nginx.conf", "-p", d, "-g", "daemon off;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(ng)
        wait_port(np_, ng, "nginx")
        c = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{cp}", aws_access_key_id=AK,
                         aws_secret_access_key=SK, region_name="us-east-1",
                         config=Config(signature_version="s3v4"))
        urls = {}
        for name, _ in SIZES:
            urls[name] = (c.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": name},
                                                   ExpiresIn=7200),
                          f"http://127.0.0.1:{np_}/bench/{name}")
            for u in urls[name]:
                for _ in range(2):	# warm
                    subprocess.run(["curl", "-sf", "-o", "/dev/null", u], check=True)
        rows = []
        sent = {"cachalot": 2 * len(SIZES), "nginx": 2 * len(SIZES)}	# the warm-up GETs
        for name, size in SIZES:
            for conc in CONC:
                res = {"cachalot": [], "nginx": []}
                cpu = {"cachalot": [], "nginx": []}
                for _ in range(rounds):
                    for server, url, pids in (("cachalot", urls[name][0], [cach.pid]),
                                              ("nginx", urls[name][1], nginx_pids(ng.pid))):
                        before = cpu_seconds(pids)
                        # Big objects take seconds a request: give them time.
                        r = wrk(url, conc, secs if size < (64 << 20) else max(4 * secs, 12))
                        used = cpu_seconds(pids) - before
                        res[server].append(r)
                        sent[server] += r["reqs"]
                        cpu[server].append(used / max(r["reqs"], 1) * 10000)
                med = {s: {k: statistics.median(x[k] for x in res[s]) for k in res[s][0]} for s in res}
                for s in med:
                    med[s]["cpu"] = statistics.median(cpu[s])
                rows.append((name, conc, med))
        rss = {"cachalot": hwm([cach.pid]), "nginx": hwm(nginx_pids(ng.pid))}
    finally:
        stop(procs)
        cerr.close()
    if log == "on":
        what = ("Logs on: Cachalot at its defaults (log level info, access log on stderr, "
                "to a file); nginx access_log FILE buffer=64k flush=1s.")
    else:
        what = ("Logs off: Cachalot --log-level error --access-log off; nginx access_log off "
                "(the earlier rounds' figure).")
    print(what)
    print(f"Hits, medians of {rounds} rounds of {secs} s; " +
          ("servers pinned to CPU 0, wrk to CPU 1." if PIN else
           "wrk -t2 on the same 2 cores as the servers."))
    hdr = (f"{'size':>5} {'conc':>4} | {'req/s C':>9} {'req/s N':>9} {'ratio':>5} | {'MB/s C':>7} "
           f"{'MB/s N':>7} {'ratio':>5} | {'p50 C':>7} {'p50 N':>7} | {'p99 C':>7} {'p99 N':>7} "
           f"{'ratio':>5} | {'cpu/10k C':>9} {'cpu/10k N':>9}")
    print(hdr)

    def ratio(a, b):
        return a / b if b else float("nan")

    for name, conc, m in rows:
        C, N = m["cachalot"], m["nginx"]
        print(f"{name:>5} {conc:>4} | {C['rps']:>9.0f} {N['rps']:>9.0f} {ratio(C['rps'], N['rps']):>5.2f} | "
              f"{C['mbs']:>7.0f} {N['mbs']:>7.0f} {ratio(C['mbs'], N['mbs']):>5.2f} | "
              f"{C['p50']:>6.2f}m {N['p50']:>6.2f}m | {C['p99']:>6.2f}m {N['p99']:>6.2f}m "
              f"{ratio(C['p99'], N['p99']):>5.2f} | {C['cpu']:>8.2f}s {N['cpu']:>8.2f}s"
              + (f"  errors C={C['errors']:.0f} N={N['errors']:.0f}" if C['errors'] or N['errors'] else ""))
    print(f"peak RSS: cachalot {rss['cachalot'] >> 20} MiB (1 GiB memory tier configured), "
          f"nginx {rss['nginx'] >> 20} MiB (all processes)")
    # Proof that each logged what it served (counted after both stopped:
    # everything is flushed), or that neither did.
    cl = count_lines(os.path.join(d, "cachalot.log"), b" op=GetObject ")
    nl = count_lines(nlog)
    print(f"access lines: cachalot {cl}, nginx {nl}; requests sent: cachalot {sent['cachalot']}, "
          f"nginx {sent['nginx']} (wrk counts only completed ones)")
    print()


def stop(procs):
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main():
    need_s3rver()
    cachalot = sys.argv[1]
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    tmp = tempfile.mkdtemp(prefix="cachalot-vs-nginx-")
    os.chmod(tmp, 0o755)	# nginx workers run as another user
    procs = []
    try:
        origin, s3p = start_s3rver(tmp, "bench")
        procs.append(origin)
        o = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3p}", aws_access_key_id="S3RVER",
                         aws_secret_access_key="S3RVER", region_name="us-east-1")
        for name, size in SIZES:
            o.put_object(Bucket="bench", Key=name, Body=os.urandom(size))
        print(f"Machine: {machine()}")
        print()
        for log in LOGS:
            run_config(log, cachalot, tmp, s3p, secs, rounds)
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
