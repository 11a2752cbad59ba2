#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The access log (#10 item 18): buffered per loop, written off the data
path, and never lossy.
  1. access-log = FILE: every request gets exactly one complete line in FILE
     (none on stderr); lines show up within a couple of seconds with no
     further traffic; N requests then SIGTERM at once: exactly N lines;
     SIGHUP opens FILE again (after a rotation);
  2. the default (stderr): the same lines, all of them, in the other log,
     also when stderr is a pipe, where no line is torn by the others;
  3. access-log = off: no access lines at all.
Requests come from several threads at once, so that several loops log and
their buffers fill (a buffer holds about 300 lines)."""
import os
import re
import signal
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks, Rig, free_port, sanitizer_lines, wait_port  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info req=\S+ peer=\S+ op=[A-Za-z]+ "
                  r"bucket=\S+ key=\S+ status=\d{3} in=\d+ out=\d+ ms=\d+\.\d "
                  r"origin_ms=\d+\.\d result=\S+$")
# What marks an access line among other log lines (any line with these is one).
MARK = re.compile(r" op=\S+ bucket=")


def client(rig):
    return boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                        aws_secret_access_key=SK, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                      max_pool_connections=16))


def requests(rig, bucket, n, threads=8):
    """n requests (HEADs and GETs of one object, from threads clients at
    once); each is one HTTP request, so one access line."""
    clients = [client(rig) for _ in range(threads)]

    def one(i):
        c = clients[i % threads]
        if i % 2:
            c.head_object(Bucket=bucket, Key="k")
        else:
            c.get_object(Bucket=bucket, Key="k")["Body"].read()
    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(one, range(n)))


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def access_lines(text):
    return [l for l in text.splitlines() if MARK.search(l)]


def wait_lines(path, n, timeout=5.0):
    """Bounded wait until path holds at least n access lines; their count."""
    end = time.time() + timeout
    while True:
        got = len(access_lines(read(path)))
        if got >= n or time.time() > end:
            return got
        time.sleep(0.05)


def stop_gateway(rig):
    rig.gateway.send_signal(signal.SIGTERM)
    return rig.gateway.wait(timeout=30)


def main():
    ck = Checks("accesslog")
    b = "log-bucket"

    # 1. To a FILE.
    tmp = tempfile.mkdtemp(prefix="cachalot-alog-")
    path = os.path.join(tmp, "access.log")
    sanitizer = []
    with Rig(extra=["--access-log", path]) as rig:
        s3 = client(rig)
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="k", Body=b"x" * 3000)
        base = 2
        got = wait_lines(path, base)
        ck.check(got == base, f"the first lines reach FILE within seconds, no more traffic ({got} of {base})")
        n1 = 100
        requests(rig, b, n1)
        got = wait_lines(path, base + n1)
        ck.check(got == base + n1, f"{n1} more requests: their lines within seconds ({got - base})")
        # Rotation: FILE moved away, SIGHUP, the next lines in a new FILE.
        os.rename(path, path + ".1")
        rig.gateway.send_signal(signal.SIGHUP)
        time.sleep(0.5)		# the reopen is asynchronous; lines before it go to .1
        s3.head_object(Bucket=b, Key="k")
        got = wait_lines(path, 1)
        ck.check(got == 1, f"after SIGHUP, lines go to a new FILE ({got})")
        ck.check(rig.alive(), "SIGHUP does not stop cachalot")
        n2 = 1500		# several buffers' worth on each loop
        requests(rig, b, n2)
        rc = stop_gateway(rig)	# at once: lines still in the buffers
        ck.check(rc == 0, f"cachalot exits 0 on SIGTERM ({rc})")
        text = read(path)
        lines = text.splitlines()
        ck.check(text.endswith("\n"), "FILE ends with a whole line")
        bad = [l for l in lines if not LINE.match(l)]
        ck.check(not bad, f"every line is one complete access line: {bad[:3]}")
        ck.check(len(lines) == 1 + n2, f"N requests then SIGTERM: exactly N lines ({len(lines)} of {1 + n2})")
        old = access_lines(read(path + ".1"))
        ck.check(len(old) == base + n1, f"the rotated FILE kept its lines ({len(old)} of {base + n1})")
        ids = [re.search(r" req=(\S+)", l).group(1) for l in lines + old]
        ck.check(len(set(ids)) == len(ids), "no line written twice")
        stderr_lines = access_lines(rig.log())
        ck.check(not stderr_lines, f"with a FILE, no access lines on stderr: {stderr_lines[:2]}")
        ck.check("listening on" in rig.log(), "the other log lines still on stderr")
    sanitizer += rig.sanitizer
    shutil.rmtree(tmp, ignore_errors=True)

    # 2. The default: stderr, with the other log lines.
    with Rig() as rig:
        s3 = client(rig)
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="k", Body=b"y" * 100)
        got = wait_lines(os.path.join(rig.tmp, "cachalot.log"), 2)
        ck.check(got == 2, f"default: lines on stderr within seconds ({got} of 2)")
        n = 700
        requests(rig, b, n)
        rc = stop_gateway(rig)
        ck.check(rc == 0, f"cachalot exits 0 on SIGTERM ({rc})")
        lines = access_lines(rig.log())
        bad = [l for l in lines if not LINE.match(l)]
        ck.check(not bad, f"default: every access line complete on stderr: {bad[:3]}")
        ck.check(len(lines) == 2 + n, f"default: N requests then SIGTERM: N lines ({len(lines)} of {2 + n})")
    sanitizer += rig.sanitizer

    # 2b. stderr a pipe (as under a service manager): the writer writes it
    # in pieces that end at a line's end, so cm_log's lines written to the
    # same pipe meanwhile never land inside an access line.
    with Rig() as rig:
        port, admin = free_port(), free_port()
        args = [a for a in rig.gw_args]
        args[args.index("--listen") + 1] = f"127.0.0.1:{port}"
        args[args.index("--admin-listen") + 1] = f"127.0.0.1:{admin}"
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        chunks = []

        def slow_reader():
            # Slower than the writer: the pipe fills and writes block part
            # way, which is when other writers' lines could land inside.
            while True:
                c = os.read(p.stderr.fileno(), 4096)
                if not c:
                    return
                chunks.append(c)
                time.sleep(0.01)
        reader = threading.Thread(target=slow_reader)
        reader.start()
        try:
            wait_port(port, p, "cachalot (stderr a pipe)")
            rig.endpoint = f"http://127.0.0.1:{port}"
            s3 = client(rig)
            s3.create_bucket(Bucket=b)
            s3.put_object(Bucket=b, Key="k", Body=b"p" * 100)
            n, nbad = 1500, 300
            # Requests refused by the signature check write cm_log lines
            # (info), at the same time as the access lines go out.
            bad = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                               aws_secret_access_key="wrong", region_name="us-east-1",
                               config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
            refused = []

            def refuse():
                for _ in range(nbad):
                    try:
                        bad.head_object(Bucket=b, Key="k")
                    except ClientError:
                        refused.append(1)
            t = threading.Thread(target=refuse)
            t.start()
            requests(rig, b, n)
            t.join()
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=30)
            reader.join(timeout=30)
        ck.check(rc == 0, f"stderr a pipe: cachalot exits 0 on SIGTERM ({rc})")
        text = b"".join(chunks).decode(errors="replace")
        lines = access_lines(text)
        torn = [l for l in lines if not LINE.match(l)]
        ck.check(not torn, f"stderr a pipe: every access line whole: {torn[:3]}")
        ck.check(len(lines) == 2 + n + nbad,
                 f"stderr a pipe: every request logged ({len(lines)} of {2 + n + nbad})")
        ck.check(len(refused) == nbad and text.count(" refused: ") >= nbad,
                 f"stderr a pipe: the other log lines there too ({len(refused)}, {text.count(' refused: ')})")
        other = [l for l in text.splitlines() if not MARK.search(l) and not re.match(
            r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn|info|debug) ", l)]
        ck.check(not other, f"stderr a pipe: no torn line: {other[:3]}")
    sanitizer += rig.sanitizer + sanitizer_lines(text)

    # 3. Off.
    with Rig(extra=["--access-log", "off"]) as rig:
        s3 = client(rig)
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="k", Body=b"z" * 100)
        requests(rig, b, 50)
        time.sleep(1.5)		# past the flush period: nothing may come
        rc = stop_gateway(rig)
        ck.check(rc == 0, f"cachalot exits 0 on SIGTERM ({rc})")
        log = rig.log()
        ck.check("listening on" in log, "off: the other log lines still there")
        ck.check(not access_lines(log), f"off: no access lines: {access_lines(log)[:2]}")
        m = re.search(r"(\d+) bytes could not be written", log)
        ck.check(m is None, "off: nothing reported lost")
    sanitizer += rig.sanitizer
    ck.check(not sanitizer, f"sanitizers quiet: {sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
