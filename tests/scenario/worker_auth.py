#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A worker answers gateways only (issue #12, part 2, gateway to worker):
every request a gateway sends a worker (metadata HEADs, block GETs,
invalidation DELETEs) carries the cluster signature of cluster/clu_auth.h,
and the worker checks it before anything else. The rig's workers are
started without client credentials (--master and the cluster secret only).

  1. gateways' reads through the cluster work, and hit on the worker (a
     second gateway's blocks come from it: its cache_hits_total grows; the
     origin is asked nothing more);
  2. a block GET straight to the worker signed with the client key (SigV4,
     what gateways sent before) is refused: 403 AccessDenied naming the
     cluster signature;
  3. one signed with a wrong cluster secret is refused (403);
  4. one signed with the secret is answered; the same again (a replay) is
     refused (403);
     a valid one whose nonce finds the seen set full gets 503 SlowDown
     (gateways ask the next owner), not 403;
  5. a client's write sent to the worker gets a clear error (405, send it
     to a gateway), and the origin saw nothing of it;
  6. refusals are counted by reason (cachalot_worker_auth_refused_total)
     and logged once per peer.
"""
import http.client
import os
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "rig"))
from rig import AK, SK, Checks  # noqa: E402
from cluster import CLUSTER_SECRET, Cluster, metric  # noqa: E402
from cluster_auth import sign  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


def status_of(fn):
    try:
        fn()
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                e.response["Error"].get("Message", ""))
    return 200, "ok", ""


def get(port, target, headers, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Host": f"127.0.0.1:{port}"}
    h.update(headers)
    try:
        c.request(method, target, headers=h)
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        c.close()


def fetch(url):
    """(status, body) of a GET of a presigned URL (no checksum mode, so
    that the cache answers it)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def hits(cl):
    t = cl.worker_metrics(0)
    return (metric(t, 'cachalot_cache_hits_total{tier="memory"}') +
            metric(t, 'cachalot_cache_hits_total{tier="disk"}'))


def main():
    ck = Checks("worker_auth")
    with Cluster(workers=1, gateways=2) as cl:
        port = cl.worker_ports[0][0]
        gw = cl.client(0)
        pre = boto3.client("s3", endpoint_url=cl.gateway_endpoint(0), aws_access_key_id=AK,
                           aws_secret_access_key=SK, region_name="us-east-1",
                           config=Config(signature_version="s3v4"))
        b, k = "worker-auth", "obj"
        body = os.urandom(300 * 1024)
        gw.create_bucket(Bucket=b)
        gw.put_object(Bucket=b, Key=k, Body=body)

        # 1. Reads through the gateway, the worker without client keys.
        url = pre.generate_presigned_url("get_object", Params={"Bucket": b, "Key": k})
        ck.check(fetch(url) == (200, body), "first read through the gateway")
        cl.reset()
        h0 = hits(cl)
        # The other gateway's staging store is empty: its blocks come from
        # the worker, which has them.
        pre1 = boto3.client("s3", endpoint_url=cl.gateway_endpoint(1), aws_access_key_id=AK,
                            aws_secret_access_key=SK, region_name="us-east-1",
                            config=Config(signature_version="s3v4"))
        url1 = pre1.generate_presigned_url("get_object", Params={"Bucket": b, "Key": k})
        for _ in range(3):
            ck.check(fetch(url) == (200, body), "read again through gateway 0")
            ck.check(fetch(url1) == (200, body), "read through gateway 1")
        h1 = hits(cl)
        ck.check(h1 >= h0 + 1, f"the reads hit on the worker: cache_hits_total {h0} -> {h1}")
        ck.check(cl.counts()["requests"] == 0, f"the origin was asked nothing: {cl.counts()}")

        # 2. The client key, as gateways signed before.
        wk = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1",
                          config=Config(retries={"max_attempts": 0}, signature_version="s3v4"))
        st, text = fetch(wk.generate_presigned_url("get_object", Params={"Bucket": b, "Key": k}))
        text = text.decode(errors="replace")
        ck.check(st == 403 and "<Code>AccessDenied</Code>" in text and "cluster signature" in text,
                 f"a block GET signed with the client key is refused: {st} {text[:300]!r}")
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", target := f"/{b}/{k}", headers={"Host": f"127.0.0.1:{port}", "Range": "bytes=0-1023"})
        r = c.getresponse()
        ck.check(r.status == 403, f"an unsigned block GET is refused: {r.status}")
        r.read()
        c.close()

        # 3. A wrong cluster secret.
        host = f"127.0.0.1:{port}"
        st, text = get(port, target, sign("not-the-cluster-secret-0123456789", "GET", target, host, "", b""))
        ck.check(st == 403 and "AccessDenied" in text and "cluster signature" in text,
                 f"a GET signed with a wrong cluster secret is refused: {st} {text[:200]!r}")

        # 4. The right secret; an invalidation replayed is refused (reads
        # are not remembered: a replayed read changes nothing, and the
        # date's window bounds it).
        hdrs = sign(CLUSTER_SECRET, "GET", target, host, "", b"")
        st, text = get(port, target, hdrs)
        ck.check(st == 200, f"a GET signed with the cluster secret is answered: {st} {text[:200]!r}")
        inval = {"x-cachalot-invalidate": "1"}
        hdrs = dict(sign(CLUSTER_SECRET, "DELETE", target, host, "", b""), **inval)
        st, text = get(port, target, hdrs, "DELETE")
        ck.check(st in (200, 204), f"a signed invalidation is taken: {st} {text[:200]!r}")
        st, text = get(port, target, hdrs, "DELETE")
        ck.check(st == 403 and "AccessDenied" in text, f"the same invalidation replayed is refused: {st} {text[:200]!r}")
        stale = sign(CLUSTER_SECRET, "GET", target, host, "", b"", date=int(time.time()) - 3600)
        st, text = get(port, target, stale)
        ck.check(st == 403, f"a GET signed an hour ago is refused: {st}")
        # Signed over another target than the one sent: refused.
        other = sign(CLUSTER_SECRET, "GET", f"/{b}/other", host, "", b"")
        st, text = get(port, target, other)
        ck.check(st == 403, f"a signature over another target is refused: {st}")

        # The seen set's bucket of a nonce is its first two bytes, four
        # nonces each: a fifth valid invalidation there is not refused as a
        # forgery but answered 503 SlowDown, so that the gateway tries again.
        answers = []
        for i in range(5):
            n = "beef" + f"{i:028x}"
            answers.append(get(port, target, dict(sign(CLUSTER_SECRET, "DELETE", target, host, "", b"",
                                                       nonce=n), **inval), "DELETE")[0])
        st, text = get(port, target, dict(sign(CLUSTER_SECRET, "DELETE", target, host, "", b"",
                                               nonce="beef" + "f" * 28), **inval), "DELETE")
        ck.check(all(a in (200, 204) for a in answers[:4]) and (answers[4], st) == (503, 503) and
                 "SlowDown" in text,
                 f"a full bucket of the seen set answers 503 SlowDown: {answers} {st} {text[:120]!r}")
        # Reads never fill it: many GETs in that one bucket are answered.
        reads = [get(port, target, sign(CLUSTER_SECRET, "GET", target, host, "", b"",
                                         nonce="beef" + f"{i + 100:028x}"))[0] for i in range(8)]
        ck.check(reads == [200] * 8, f"signed reads are not held back by the seen set: {reads}")

        # 5. A client's write to the worker.
        cl.reset()
        st, code, msg = status_of(lambda: wk.put_object(Bucket=b, Key=k, Body=b"thrown away?"))
        ck.check(st == 405 and code == "MethodNotAllowed" and "gateway" in msg,
                 f"a client's PUT straight to the worker gets a clear error: {st} {code} {msg!r}")
        ck.check(cl.counts()["requests"] == 0, f"the origin saw nothing of it: {cl.counts()}")
        ck.check(fetch(url) == (200, body), "the object is untouched")

        # 6. Counted by reason, logged once per peer.
        t = cl.worker_metrics(0)
        for reason, least in (("missing", 2), ("signature", 2), ("replay", 1), ("busy", 2)):
            v = metric(t, f'cachalot_worker_auth_refused_total{{reason="{reason}"}}')
            ck.check(v >= least, f"refusals counted: {reason} = {v} (at least {least})")
        with open(os.path.join(cl.tmp, "worker0.log"), errors="replace") as f:
            n = f.read().count("no valid cluster signature")
        ck.check(n == 1, f"the refusing peer is logged once: {n} lines")
    sys.exit(ck.done())


if __name__ == "__main__":
    main()
