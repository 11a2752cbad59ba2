#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile HTTP against the gateway's data path: oversized and endless
headers, a too-long URL, a slowloris client, a body longer than its
Content-Length, garbage bytes, a thousand idle connections and one
connection over the cap. Each gets its status or is closed, and a
well-behaved client working at the same time sees no error."""
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks, Rig  # noqa: E402

import boto3  # noqa: E402

CAP = 1100


def conn(rig):
    s = socket.create_connection(("127.0.0.1", rig.port), timeout=10)
    return s


def read_all(s, limit=10.0):
    """Reads until the server closes (or limit seconds)."""
    s.settimeout(limit)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionResetError):
        pass
    return out


def status_of(data):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


def closed(s, limit=10.0):
    s.settimeout(limit)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


class Good(threading.Thread):
    """A well-behaved client reading and writing all the while."""

    def __init__(self, rig):
        super().__init__(daemon=True)
        self.s3 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                               aws_secret_access_key=SK, region_name="us-east-1")
        self.stop = threading.Event()
        self.ok = self.errors = 0
        self.last_error = None

    def run(self):
        i = 0
        sent = {}
        while not self.stop.is_set():
            try:
                # A key of its own each time: what comes back can only be
                # this body, whatever the origin's consistency.
                body = os.urandom(1000 + i % 5000)
                key = f"good/{i}"
                sent[key] = body
                self.s3.put_object(Bucket="hostile-bucket", Key=key, Body=body)
                got = self.s3.get_object(Bucket="hostile-bucket", Key=key)["Body"].read()
                if got != body:
                    other = [k for k, v in sent.items() if v == got]
                    raise ValueError(f"bytes differ for {key}: {len(got)} bytes, want {len(body)}; "
                                     f"they are the body of {other or 'no key sent'}")
                self.ok += 1
            except Exception as e:  # counted, not raised
                self.errors += 1
                self.last_error = f"{type(e).__name__}: {e}"
            i += 1
            time.sleep(0.02)


def main():
    ck = Checks("hostile")
    with Rig(extra=["--header-timeout", "2", "--idle-timeout", "30",
                    "--max-connections", str(CAP)]) as rig:
        boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK, aws_secret_access_key=SK,
                     region_name="us-east-1").create_bucket(Bucket="hostile-bucket")
        good = Good(rig)
        good.start()

        s = conn(rig)
        s.sendall(b"GET /hostile-bucket/k HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
        d = read_all(s)
        ck.check(status_of(d) == 431, f"oversized header: {d[:80]!r}")
        s.close()

        s = conn(rig)
        s.sendall(b"GET /hostile-bucket/k HTTP/1.1\r\nHost: x\r\n")
        st = None
        try:
            for i in range(100000):
                s.sendall(b"X-H%d: v\r\n" % i)
        except (BrokenPipeError, ConnectionResetError):
            pass
        d = read_all(s)
        st = status_of(d)
        ck.check(st == 431, f"endless headers: {d[:80]!r}")
        s.close()

        s = conn(rig)
        s.sendall(b"GET /" + b"k" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        d = read_all(s)
        ck.check(status_of(d) == 414, f"URL too long: {d[:80]!r}")
        s.close()

        s = conn(rig)
        t0 = time.time()
        got = b""
        try:
            for c in b"GET /hostile-bucket/k HTTP/1.1\r\nHost: slow\r\n":
                s.sendall(bytes([c]))
                time.sleep(0.25)
                s.settimeout(0.01)
                try:
                    got += s.recv(4096)
                    if got:
                        break
                except socket.timeout:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            pass
        got += read_all(s)
        ck.check(status_of(got) == 408 and time.time() - t0 < 6, f"slowloris: {got[:80]!r} after "
                 f"{time.time() - t0:.1f}s")
        s.close()

        # Pipelining: three requests in one write, a HEAD among them (no
        # body may follow its head), answered in order on one connection.
        s = conn(rig)
        s.sendall(b"GET /hostile-bucket/a HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"HEAD /hostile-bucket/b HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /hostile-bucket/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        d = read_all(s)
        heads = re.findall(rb"HTTP/1\.1 (\d{3})", d)
        bodies = re.findall(rb"<Resource>([^<]*)</Resource>", d)
        ids = re.findall(rb"x-amz-request-id: (\w+)", d)
        ck.check(heads == [b"403", b"403", b"403"], f"pipelined answers: {heads}")
        ck.check(bodies == [b"/hostile-bucket/a", b"/hostile-bucket/c"],
                 f"pipelined answers in order, none for HEAD: {bodies}")
        ck.check(len(set(ids)) == 3, "each pipelined answer has its own request id")
        s.close()

        s = conn(rig)
        s.sendall(b"PUT /hostile-bucket/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                  b"12345THIS IS NOT HTTP AT ALL\r\n\r\n")
        d = read_all(s)
        ck.check(status_of(d) == 403, f"body longer than Content-Length: first answer {d[:60]!r}")
        ck.check(b"<Code>AccessDenied</Code>" in d, "unsigned PUT is AccessDenied")
        s.close()

        s = conn(rig)
        s.sendall(os.urandom(3000).replace(b"\n", b"x"))
        d = read_all(s)
        ck.check(status_of(d) in (400, 431) or d == b"", f"garbage bytes: {d[:60]!r}")
        s.close()

        s = conn(rig)
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200))
        d = read_all(s)
        ck.check(status_of(d) == 400 or d == b"", f"a TLS hello on the plain port: {d[:60]!r}")
        s.close()

        # A thousand idle connections; the good client keeps working.
        idle = []
        for _ in range(1000):
            idle.append(conn(rig))
        time.sleep(1.0)
        ok_before = good.ok
        time.sleep(2.0)
        ck.check(good.ok > ok_before, f"good client progressed with 1000 idle connections open "
                 f"({good.ok - ok_before} round trips)")
        # Over the cap: answered 503 and closed.
        over = [conn(rig) for _ in range(CAP - 1000 + 20)]
        refused = 0
        for s in over[-20:]:
            d = read_all(s, 3.0)
            if status_of(d) == 503 and b"SlowDown" in d:
                refused += 1
        m = rig.metrics()
        held = re.search(r"^cachalot_open_connections (\d+)$", m, re.M)
        ck.check(refused >= 1, f"connections over the cap answered 503 SlowDown: {refused} of the last 20")
        ck.check(held is not None and int(held.group(1)) <= CAP,
                 f"never more than {CAP} connections held: {held.group(1) if held else None}")
        for s in over + idle:
            s.close()
        time.sleep(1.0)
        ok_before = good.ok
        time.sleep(1.5)
        ck.check(good.ok > ok_before, "good client progressed after the flood")

        # An idle connection is closed by the header timeout once it sends
        # a byte, by the idle timeout otherwise; a half-open request line
        # gets 408.
        s = conn(rig)
        s.sendall(b"G")
        d = read_all(s, 6.0)
        ck.check(status_of(d) == 408, f"partial request line: {d[:60]!r}")
        s.close()

        good.stop.set()
        good.join(timeout=30)
        ck.check(good.errors == 0, f"the good client saw {good.errors} errors: {good.last_error}")
        ck.check(good.ok > 20, f"the good client did {good.ok} round trips")
        m = rig.metrics()
        ck.check("cachalot_open_connections" in m, "metrics report open connections")
        ck.check(rig.alive(), "cachalot still running")
        log = rig.log()
        ck.check("431" in log and "408" in log, "limit violations are logged")
    ck.check(not rig.sanitizer, f"sanitizers quiet: {rig.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
