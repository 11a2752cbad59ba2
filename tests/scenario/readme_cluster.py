#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The README's one-machine cluster commands, run as they are written
(issue #10, item 3): the ```sh block of README.md's cluster section is taken
line by line, `cachalot` replaced by the binary under test, in a directory
whose cachalot.conf names the real s3rver origin behind the counting front.
A master, two workers and a gateway must come up on their own ports (the
admin ports follow from --listen), the ring must hold both workers, and a
read through the gateway must be served from the workers the second time.
"""
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import (AK, SK, HERE, ORIGIN_AK, ORIGIN_SK, S3RVER, Checks, free_port,  # noqa: E402
                 need_s3rver, stop_procs, wait_port)
from cluster import ring_of  # noqa: E402

BIN = os.environ.get("CACHALOT_BIN", "cachalot")
TOP = os.path.dirname(os.path.dirname(HERE))


def readme_block():
    """The ```sh block after the heading '## The cluster'."""
    with open(os.path.join(TOP, "README.md")) as f:
        text = f.read()
    sec = text[text.index("## The cluster"):]
    m = re.search(r"```sh\n(.*?)```", sec, re.S)
    if m is None:
        raise SystemExit("README.md: no ```sh block in '## The cluster'")
    return [l for l in m.group(1).splitlines() if l.strip()]


def port_in_use(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def main():
    ck = Checks("readme_cluster")
    need_s3rver()
    lines = readme_block()
    ports = sorted({int(p) for l in lines for p in re.findall(r"127\.0\.0\.1:(\d+)", l)})
    ck.check(len(lines) >= 4 and ports, f"the README's block has the cluster commands: {lines}")
    # Another checkout's run of this test may hold them for a while.
    t0 = time.time()
    while True:
        busy = [p for p in ports + [p + 10000 for p in ports] if port_in_use(p)]
        if not busy or time.time() - t0 > 120:
            break
        time.sleep(1)
    if busy:
        # Not a pass: the README's ports must be free for the README to work.
        print(f"FAIL: ports the README uses are taken on this machine: {busy}")
        return 1
    procs, logs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            sp, fp = free_port(), free_port()
            os.makedirs(os.path.join(tmp, "s3rver"))
            for args, port, name in (
                    (["node", "--openssl-legacy-provider", S3RVER, "-d", os.path.join(tmp, "s3rver"),
                      "-a", "127.0.0.1", "-p", str(sp), "--no-vhost-buckets", "--silent"], sp, "s3rver"),
                    (["/usr/bin/python3", os.path.join(HERE, "front.py"), str(fp), str(sp), ORIGIN_AK,
                      ORIGIN_SK], fp, "front")):
                p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                procs.append(p)
                wait_port(port, p, name)
            run = os.path.join(tmp, "run")
            os.makedirs(run)
            with open(os.path.join(run, "cachalot.conf"), "w") as f:
                f.write(f"origin = http://127.0.0.1:{fp}\norigin-access-key = {ORIGIN_AK}\n"
                        f"origin-secret-key = {ORIGIN_SK}\naccess-key = {AK}\nsecret-key = {SK}\n"
                        "mem-cache = 64M\ndisk-cache = 128M\n")
            servers = {}
            ctl_lines = []
            env = dict(os.environ)
            env.pop("CACHALOT_CLUSTER_SECRET", None)
            for i, line in enumerate(lines):
                # `export NAME=VALUE` (VALUE may be `$(command)`): set for
                # the lines after it, as the shell would.
                m = re.fullmatch(r"export ([A-Z_][A-Z0-9_]*)=(.*)", line.strip())
                if m is not None:
                    value = m.group(2)
                    sub = re.fullmatch(r"\$\((.*)\)", value)
                    if sub is not None:
                        value = subprocess.run(shlex.split(sub.group(1)), capture_output=True,
                                               text=True, check=True, timeout=20).stdout.strip()
                    else:
                        value = " ".join(shlex.split(value))
                    ck.check(value != "", f"README line {i + 1} sets {m.group(1)}")
                    env[m.group(1)] = value
                    continue
                words = shlex.split(line)
                ck.check(words[0] == "cachalot", f"README line starts with cachalot: {line!r}")
                if words[-1] == "&":
                    log = os.path.join(tmp, f"role{i}.log")
                    logs.append(log)
                    with open(log, "wb") as lf:
                        p = subprocess.Popen([BIN] + words[1:-1], cwd=run, stdout=lf,
                                             stderr=subprocess.STDOUT, env=env)
                    procs.append(p)
                    port = int(re.search(r"--listen 127\.0\.0\.1:(\d+)", line).group(1))
                    servers[words[1] + str(port)] = (p, port)
                    wait_port(port, p, f"README line {i + 1} ({words[1]})")
                else:
                    ctl_lines.append(words)
            master = next(p for n, (_, p) in servers.items() if n.startswith("master"))
            gw = next(p for n, (_, p) in servers.items() if n.startswith("gateway"))
            t0 = time.time()
            ids = []
            while time.time() - t0 < 15:
                ids = ring_of(f"http://127.0.0.1:{master}")[1]
                if len(ids) == 2:
                    break
                time.sleep(0.2)
            ck.check(len(ids) == 2, f"both workers in the ring: {ids}")
            for name, (p, port) in servers.items():
                ck.check(p.poll() is None, f"{name} still runs")
                if not name.startswith("master"):
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port + 10000}/healthz",
                                                    timeout=5) as r:
                            st = r.status
                    except OSError as e:
                        st = str(e)
                    ck.check(st == 200, f"{name}: /healthz on its --listen port + 10000: {st}")
            for words in ctl_lines:
                c = subprocess.run([BIN] + words[1:], capture_output=True, text=True, timeout=20,
                                   cwd=run, env=env)
                ck.check(c.returncode == 0 and all(i in c.stdout for i in ids),
                         f"README's {' '.join(words[:2])} works and lists the workers: {c.stdout!r} "
                         f"{c.stderr!r}")
            import boto3
            from botocore.config import Config
            s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{gw}", aws_access_key_id=AK,
                              aws_secret_access_key=SK, region_name="us-east-1",
                              config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
            s3.create_bucket(Bucket="readme")
            body = os.urandom(3 * 1024 * 1024 + 5)
            s3.put_object(Bucket="readme", Key="k", Body=body)
            ck.check(s3.get_object(Bucket="readme", Key="k")["Body"].read() == body, "first read")
            with urllib.request.urlopen(f"http://127.0.0.1:{fp}/__counts", timeout=5) as r:
                before = r.read()
            ck.check(s3.get_object(Bucket="readme", Key="k")["Body"].read() == body, "second read")
            with urllib.request.urlopen(f"http://127.0.0.1:{fp}/__counts", timeout=5) as r:
                after = r.read()
            import json
            b, a = json.loads(before), json.loads(after)
            ck.check(a["get_object"] == b["get_object"] and a["bytes_out"] == b["bytes_out"],
                     f"the second read came from the workers, not the origin: {b} -> {a}")
        finally:
            stop_procs(procs)
            if ck.failed:
                for log in logs:
                    with open(log, "rb") as f:
                        sys.stderr.write(f"--- {log}\n{f.read().decode(errors='replace')[-1500:]}\n")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
