#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Cachalot's signatures against an independent implementation: botocore.

Generates random S3 requests (methods, awkward keys with spaces, '+', '%',
unicode, '~', '=', '&'; queries; headers; bodies) and checks that
  1. s3sig_sign_v4 makes exactly botocore's Authorization (S3SigV4Auth);
  2. s3sig_presign_v4 makes botocore's X-Amz-Signature (S3SigV4QueryAuth);
  3. s3sig_verify accepts what botocore signed, in both forms and in SigV2
     (HmacV1Auth, HmacV1QueryAuth), and refuses each single-byte tampering
     of the method, path, query, a signed header, the body or the signature.
Runs tests/sigcompare/sigtool through a pipe. Prints "N passed, N failed".
Usage: compare.py SIGTOOL [COUNT] [SEED]
"""
import binascii
import calendar
import email.utils
import random
import subprocess
import sys
import time
from urllib.parse import quote, urlsplit

from botocore.auth import HmacV1Auth, HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AK, SK = "AKIDCACHALOT", "sEcReT/with+slash=and"
REGIONS = ["us-east-1", "eu-central-1", "cn-north-1"]
KEY_CHARS = list("abcXYZ019 +%~=&!$'()*,;:@/._-") + ["é", "ሴ", "日本", "🐋", "\u00a0"]
HDR_CHARS = list("abc XYZ019-_.:;/=+,\"'") + ["  ", "\t"]


def rnd_text(r, chars, lo, hi):
    return "".join(r.choice(chars) for _ in range(r.randint(lo, hi)))


def rnd_key(r):
    k = rnd_text(r, KEY_CHARS, 1, 24).strip("/") or "k"
    return k


def rnd_query(r):
    # S3 never repeats a parameter (and botocore's presigner keeps one of
    # each), so names are drawn without replacement.
    params = []
    names = r.sample(["prefix", "marker", "x-id", "list-type", "acl", "tagging",
                      "versionId", "response-content-type", "partNumber",
                      "uploadId", "encoding-type", "max-keys"], r.randint(0, 4))
    for name in names:
        if r.random() < 0.2:
            params.append(quote(name, safe="-_.~"))
        else:
            params.append(quote(name, safe="-_.~") + "=" +
                          quote(rnd_text(r, KEY_CHARS, 0, 10), safe="-_.~"))
    return "&".join(params)


def rnd_headers(r):
    h = {}
    for _ in range(r.randint(0, 4)):
        name = r.choice(["x-amz-meta-" + rnd_text(r, list("abcxyz0189-"), 1, 8),
                         "Content-Type", "x-amz-storage-class", "Range", "If-Match",
                         "X-Amz-Tagging", "Cache-Control", "Content-MD5"])
        h[name] = rnd_text(r, HDR_CHARS, 1, 20).strip() or "v"
    return h


def hx(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return binascii.hexlify(b).decode() if b else "-"


class Tool:
    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def ask(self, op, now, region, method, path, query, body, payload_hash, expires, headers):
        fields = [op, str(now), AK, SK, region, hx(method), hx(path), hx(query), hx(body),
                  payload_hash or "-", str(expires)]
        for n, v in headers:
            fields += [hx(n), hx(v)]
        self.p.stdin.write("\t".join(fields) + "\n")
        return self.p.stdout.readline().rstrip("\n")


def wire(url):
    s = urlsplit(url)
    return s.path, s.query, s.netloc


def amz_epoch(s):
    return calendar.timegm(time.strptime(s, "%Y%m%dT%H%M%SZ"))


def tamper_positions(r, text, skip_escapes=True):
    """Indexes whose change alters the meaning: not inside %XX, not blanks."""
    ok = []
    for i, c in enumerate(text):
        if c in " \t":
            continue
        if skip_escapes and (c == "%" or (i >= 1 and text[i - 1] == "%") or
                             (i >= 2 and text[i - 2] == "%")):
            continue
        ok.append(i)
    return ok


def flip(r, text, i):
    c = text[i]
    repl = r.choice([x for x in "qwz7" if x != c.lower() and x != c])
    return text[:i] + repl + text[i + 1:]


def main():
    tool_path = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261126
    r = random.Random(seed)
    tool = Tool(tool_path)
    creds = Credentials(AK, SK)
    passed = failed = 0
    failures = []

    def check(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            if len(failures) < 20:
                failures.append(what)

    for n in range(count):
        region = r.choice(REGIONS)
        method = r.choice(["GET", "HEAD", "PUT", "POST", "DELETE"])
        key = rnd_key(r)
        bucket = r.choice(["b", "my-bucket", "data.set"])
        host = r.choice(["127.0.0.1:9000", "cache.local:8080", "localhost"])
        path = "/" + bucket + "/" + quote(key, safe="/~")
        query = rnd_query(r)
        url = "http://" + host + path + ("?" + query if query else "")
        body = r.randbytes(r.randint(0, 64)) if method in ("PUT", "POST") else b""

        # 1. Header form: the same Authorization.
        req = AWSRequest(method=method, url=url, headers=rnd_headers(r), data=body)
        S3SigV4Auth(creds, "s3", region).add_auth(req)
        want = req.headers["Authorization"]
        now = amz_epoch(req.headers["X-Amz-Date"])
        wpath, wquery, netloc = wire(req.url)
        hdrs = [("host", netloc)] + [(k, v) for k, v in req.headers.items()
                                     if k.lower() != "authorization"]
        if isinstance(hdrs[-1][1], bytes):
            hdrs = [(k, v.decode()) if isinstance(v, bytes) else (k, v) for k, v in hdrs]
        got = tool.ask("SIGN", now, region, method, wpath, wquery, body,
                       req.headers["X-Amz-Content-SHA256"], 0, hdrs)
        check(got == want, f"sign #{n} {method} {url}\n  botocore {want}\n  cachalot {got}")

        # 2. Verification of botocore's request, then one tampering.
        full = hdrs + [("Authorization", want)]
        got = tool.ask("VERIFY", now, region, method, wpath, wquery, body, "", 0, full)
        check(got == "OK", f"verify #{n} {method} {url}: {got}")
        what = r.choice(["method", "path", "query", "header", "body", "signature", "host"])
        tm, tp, tq, tb, th = method, wpath, wquery, body, list(full)
        if what == "method":
            tm = "PATCH" if method != "PATCH" else "GET"
        elif what == "path":
            pos = tamper_positions(r, wpath)
            tp = flip(r, wpath, r.choice(pos))
        elif what == "query" and wquery:
            pos = tamper_positions(r, wquery)
            tq = flip(r, wquery, r.choice(pos)) if pos else wquery + "&x"
        elif what == "query":
            tq = "x=1"
        elif what == "body" and body:
            i = r.randrange(len(body))
            tb = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
        elif what in ("body", "host"):
            th[0] = ("host", netloc + "0")
        elif what == "header":
            signed = [h for h in th if h[0].lower() not in ("authorization",)]
            k, v = r.choice(signed)
            pos = tamper_positions(r, v, skip_escapes=False)
            nv = flip(r, v, r.choice(pos)) if pos else v + "x"
            th = [(kk, nv if (kk, vv) == (k, v) else vv) for kk, vv in th]
        else:
            a = want
            i = len(a) - r.randint(1, 64)
            th[-1] = ("Authorization", flip(r, a, i))
        got = tool.ask("VERIFY", now, region, tm, tp, tq, tb, "", 0, th)
        check(got != "OK", f"tamper #{n} {what} {url}: accepted")

        # 3. Presigned (query) form: the same signature, verified, tampered.
        qreq = AWSRequest(method="GET", url="http://" + host + path +
                          ("?" + query if query else ""))
        expires = r.randint(1, 604800)
        S3SigV4QueryAuth(creds, "s3", region, expires=expires).add_auth(qreq)
        qpath, qquery, _ = wire(qreq.url)
        params = dict(p.split("=", 1) for p in qquery.split("&") if "=" in p)
        qnow = amz_epoch(params["X-Amz-Date"])
        got = tool.ask("PRESIGN", qnow, region, "GET", path, query, b"", "", expires,
                       [("host", netloc)])
        mine = dict(p.split("=", 1) for p in got.split("&") if "=" in p)
        check(mine.get("X-Amz-Signature") == params["X-Amz-Signature"],
              f"presign #{n} {url}\n  botocore {qquery}\n  cachalot {got}")
        got = tool.ask("VERIFY", qnow + r.randint(0, expires), region, "GET", qpath, qquery,
                       b"", "", 0, [("host", netloc)])
        check(got == "OK", f"verify presigned #{n} {qreq.url}: {got}")
        got = tool.ask("VERIFY", qnow + expires + 1, region, "GET", qpath, qquery, b"", "", 0,
                       [("host", netloc)])
        check(got == "EXPIRED", f"expired presigned #{n}: {got}")
        pos = tamper_positions(r, qquery)
        got = tool.ask("VERIFY", qnow, region, "GET", qpath, flip(r, qquery, r.choice(pos)),
                       b"", "", 0, [("host", netloc)])
        check(got != "OK", f"tamper presigned #{n} {qreq.url}: accepted")

        # 4. SigV2, header and query forms, every 4th request.
        if n % 4 == 0:
            v2 = AWSRequest(method=method, url=url, headers=rnd_headers(r), data=body)
            HmacV1Auth(creds).add_auth(v2)
            v2now = calendar.timegm(email.utils.parsedate(v2.headers["Date"]))
            h2 = [("host", netloc)] + list(v2.headers.items())
            got = tool.ask("VERIFY", v2now, region, method, wpath, wquery, body, "", 0, h2)
            check(got == "OK", f"v2 verify #{n} {url}: {got}")
            h2t = [(k, flip(r, v, len(v) - 3) if k == "Authorization" else v) for k, v in h2]
            got = tool.ask("VERIFY", v2now, region, method, wpath, wquery, body, "", 0, h2t)
            check(got != "OK", f"v2 tamper #{n}: accepted")
            v2q = AWSRequest(method="GET", url=url)
            HmacV1QueryAuth(creds, expires=600).add_auth(v2q)
            qp, qq, _ = wire(v2q.url)
            got = tool.ask("VERIFY", int(time.time()), region, "GET", qp, qq, b"", "", 0,
                           [("host", netloc)])
            check(got == "OK", f"v2 presigned #{n} {v2q.url}: {got}")

    for f in failures:
        print("FAIL:", f)
    print(f"sigcompare: {count} random requests against botocore")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
