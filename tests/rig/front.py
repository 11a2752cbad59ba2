#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A verifying, counting front for the s3rver test origin.

s3rver does not check SigV4 as AWS does, so tests put this in front of it:
every request is verified with a SigV4 implementation written here with
hashlib/hmac (independent of Cachalot's s3sig), refused with AWS's 403
SignatureDoesNotMatch when it does not verify, counted, and otherwise
forwarded to s3rver with the origin credentials' signature as is (s3rver
ignores it). A signed payload hash is checked against the body too.

In OSS mode the front plays an Alibaba OSS endpoint instead: requests
must be virtual-hosted (BUCKET.oss.localhost), signed OSS4-HMAC-SHA256
(verified with an implementation written here from Alibaba's documentation),
carry x-oss-* headers and no x-amz-* ones, x-oss-range-behavior: standard,
and Content-MD5 on DeleteObjects; they reach s3rver path-style with the
metadata headers renamed, and answers come back with OSS's names.

Control endpoints (not S3): GET /__counts (JSON), POST /__reset.
Usage: front.py LISTEN_PORT S3RVER_PORT ACCESS_KEY SECRET_KEY [oss]
"""
import base64
import calendar
import hashlib
import hmac
import http.client
import http.server
import json
import os
import sys
import threading
import time
from urllib.parse import quote, unquote, unquote_plus

LOCK = threading.Lock()
# One request at a time per object at s3rver: it is not atomic under a
# rewrite (a GET or HEAD during a PUT of the key may see an empty or
# half-written object under either ETag), where S3 is. Held only around
# the request to s3rver and the reading of its whole answer.
KEY_LOCKS = {}
# Faults injected into the next answers: POST /__fault?mode=M&count=N with
# M one of status500 (an S3 InternalError), reset_mid_body (half the body,
# then the connection dropped), stall (no answer for 30 s), replace (after
# answering the next ranged GET, the object is rewritten at the origin:
# same size, other bytes, another ETag).
FAULT = {"mode": None, "count": 0}
COUNTS = {"requests": 0, "bad_signature": 0, "by_method": {}, "get_object": 0, "bytes_out": 0,
          "oss_violations": 0}
OSS_DOMAIN = "oss.localhost"


def canonical_query(q):
    pairs = []
    for part in q.split("&") if q else []:
        if not part:
            continue
        k, _, v = part.partition("=")
        pairs.append((quote(unquote_plus(k), safe="-_.~"), quote(unquote_plus(v), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def sign_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def verify(method, target, headers, body, ak, sk):
    """Returns None when the request verifies, else the reason."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    cred = fields["Credential"].split("/")
    if cred[0] != ak:
        return "unknown access key " + cred[0]
    signed = fields["SignedHeaders"].split(";")
    path, _, query = target.partition("?")
    curi = quote(unquote(path), safe="/~")
    chdrs = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed)
    payload = headers.get("x-amz-content-sha256", "")
    if payload not in ("UNSIGNED-PAYLOAD",) and hashlib.sha256(body).hexdigest() != payload:
        return "payload hash mismatch"
    creq = "\n".join([method, curi, canonical_query(query), chdrs, ";".join(signed), payload])
    amz_date = headers.get("x-amz-date", "")
    scope = "/".join(cred[1:])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(sign_key(sk, cred[1], cred[2], cred[3]), sts.encode(),
                   hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, fields["Signature"]):
        return "signature mismatch"
    t = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    if abs(time.time() - t) > 900:
        return "clock skew"
    return None


def oss_key(secret, date, region):
    k = hmac.new(("aliyun_v4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, "oss", "aliyun_v4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def verify_oss(method, bucket, target, headers, ak, sk):
    """OSS V4 as Alibaba documents it; None when the request verifies."""
    auth = headers.get("authorization", "")
    if not auth.startswith("OSS4-HMAC-SHA256 "):
        return "no OSS4-HMAC-SHA256 Authorization"
    fields = dict(p.strip().split("=", 1) for p in auth[len("OSS4-HMAC-SHA256 "):].split(","))
    cred = fields["Credential"].split("/")
    if cred[0] != ak or cred[3] != "oss" or cred[4] != "aliyun_v4_request":
        return "bad credential " + fields["Credential"]
    path, _, query = target.partition("?")
    uri = "/" + (bucket + "/" if bucket else "") + unquote(path)[1:]
    curi = quote(uri, safe="/")
    params = []
    for part in query.replace("+", "%20").split("&") if query else []:
        if part:
            k, _, v = part.partition("=")
            params.append((k, v))
    cq = "&".join(k + ("=" + v if v else "") for k, v in sorted(params))
    extra = [h for h in fields.get("AdditionalHeaders", "").split(";") if h]
    names = sorted(h for h in headers if h.startswith("x-oss-") or
                   h in ("content-type", "content-md5") or h in extra)
    ch = "".join(f"{h}:{headers[h].strip()}\n" for h in names)
    creq = "\n".join([method, curi, cq, ch, ";".join(extra),
                      headers.get("x-oss-content-sha256", "UNSIGNED-PAYLOAD")])
    scope = "/".join(cred[1:])
    sts = "\n".join(["OSS4-HMAC-SHA256", headers.get("x-oss-date", ""), scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(oss_key(sk, cred[1], cred[2]), sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, fields.get("Signature", "")):
        return "signature mismatch"
    return None


class Front(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream_port = 0
    ak = sk = ""
    oss = False

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if len(body) < n:
            # The sender went away mid-body: like S3, store nothing.
            with LOCK:
                COUNTS["truncated"] = COUNTS.get("truncated", 0) + 1
            self.close_connection = True
            return None
        if self.path == "/__counts":
            with LOCK:
                return self.reply(200, json.dumps(COUNTS).encode(), "application/json")
        if self.path.startswith("/__fault"):
            q = dict(p.split("=", 1) for p in self.path.partition("?")[2].split("&") if "=" in p)
            with LOCK:
                FAULT.update({"mode": q.get("mode"), "count": int(q.get("count", "1"))})
            return self.reply(200, b"{}", "application/json")
        if self.path == "/__reset":
            with LOCK:
                COUNTS.update({"requests": 0, "bad_signature": 0, "by_method": {},
                               "get_object": 0, "bytes_out": 0, "oss_violations": 0})
            return self.reply(200, b"{}", "application/json")
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        path = self.path
        fwd = {k: v for k, v in self.headers.items()
               if k.lower() not in ("connection", "keep-alive", "transfer-encoding")}
        if self.oss:
            host = hdrs.get("host", "").split(":")[0]
            bucket = host[:-len(OSS_DOMAIN) - 1] if host.endswith("." + OSS_DOMAIN) else ""
            why = verify_oss(self.command, bucket, self.path, hdrs, self.ak, self.sk)
            rules = []
            if any(h.startswith("x-amz-") for h in hdrs):
                rules.append("x-amz-* header sent to OSS")
            if hdrs.get("x-oss-range-behavior") != "standard" and "range" in hdrs:
                rules.append("ranged GET without x-oss-range-behavior: standard")
            if self.command == "POST" and "delete" in self.path.partition("?")[2].split("&") and \
                    hdrs.get("content-md5") != base64.b64encode(hashlib.md5(body).digest()).decode():
                rules.append("DeleteObjects without a correct Content-MD5")
            if rules:
                with LOCK:
                    COUNTS["oss_violations"] += 1
                sys.stderr.write(f"front: OSS rules broken: {rules}\n")
                why = why or "; ".join(rules)
            path = ("/" + bucket if bucket else "") + self.path
            fwd = {}
            for k, v in self.headers.items():
                lk = k.lower()
                if lk in ("connection", "keep-alive", "transfer-encoding", "authorization", "host"):
                    continue
                if lk.startswith("x-oss-meta-"):
                    fwd["x-amz-meta-" + lk[11:]] = v
                elif lk == "x-oss-copy-source":
                    fwd["x-amz-copy-source"] = v
                elif not lk.startswith("x-oss-"):
                    fwd[k] = v
        else:
            why = verify(self.command, self.path, hdrs, body, self.ak, self.sk)
        with LOCK:
            COUNTS["requests"] += 1
            COUNTS["by_method"][self.command] = COUNTS["by_method"].get(self.command, 0) + 1
            if why:
                COUNTS["bad_signature"] += 1
        with LOCK:
            fault = FAULT["mode"] if FAULT["count"] > 0 and not why else None
            if fault in ("replace", "resize") and not (self.command == "GET" and "range" in hdrs):
                fault = None	# waits for a ranged GET (a block fill)
            if fault:
                FAULT["count"] -= 1
        if fault == "status500":
            return self.reply(500, b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                              b"InternalError</Code><Message>injected</Message></Error>")
        if fault == "stall":
            time.sleep(30)
            self.close_connection = True
            return None
        if why:
            sys.stderr.write(f"front: refused {self.command} {self.path}: {why}\n")
            return self.reply(403, b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                              b"SignatureDoesNotMatch</Code><Message>" + why.encode() +
                              b"</Message></Error>")
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=120)
        with LOCK:
            klock = KEY_LOCKS.setdefault(path.partition("?")[0], threading.Lock())
        with klock:
            conn.request(self.command, path, body=body if (n or self.command in ("PUT", "POST"))
                         else None, headers=fwd)
            resp = conn.getresponse()
            data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length",
                                 "date", "server"):
                if self.oss and k.lower().startswith("x-amz-meta-"):
                    k = "x-oss-meta-" + k[11:]
                elif self.oss and k.lower() == "x-amz-request-id":
                    k = "x-oss-request-id"
                if fault == "resize" and k.lower() == "content-range" and "/" in v:
                    # Another size under the same ETag: an origin that
                    # ignored If-Match and answered another version.
                    v = v.rsplit("/", 1)[0] + "/" + str(int(v.rsplit("/", 1)[1]) + 1)
                self.send_header(k, v)
        self.send_header("Content-Length", resp.getheader("Content-Length") or str(len(data)))
        self.end_headers()
        if fault == "reset_mid_body" and self.command != "HEAD":
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            import socket as _s
            self.connection.shutdown(_s.SHUT_RDWR)
            conn.close()
            return None
        if self.command != "HEAD":
            self.wfile.write(data)
        if fault == "replace":
            whole = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
            whole.request("GET", path)
            old = whole.getresponse().read()
            whole.close()
            put = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
            put.request("PUT", path, body=bytes(b ^ 0x55 for b in old))
            put.getresponse().read()
            put.close()
        with LOCK:
            COUNTS["bytes_out"] += len(data)
            if self.command == "GET" and resp.status in (200, 206):
                COUNTS["get_object"] += 1
        conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def main():
    port, up, ak, sk = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    Front.upstream_port, Front.ak, Front.sk = up, ak, sk
    Front.oss = len(sys.argv) > 5 and sys.argv[5] == "oss"
    # FRONT_BIND: another local address (the network-namespace test binds
    # the bridge's address so that test hosts reach it).
    srv = http.server.ThreadingHTTPServer((os.environ.get("FRONT_BIND", "127.0.0.1"), port), Front)
    srv.daemon_threads = True
    print(f"front listening on {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
