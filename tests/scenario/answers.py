#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What Cachalot answers, as a new user meets it (issue #10, items 10-13):
  10. a missing bucket or key is answered with the origin's own error code
      and message (NoSuchBucket, NoSuchKey), on the cached path (`serve`)
      as on the pass-through, for GET and HEAD, with S3 and OSS origins;
  11. a header with an empty value (x-amz-meta-foo:) survives the PUT
      toward the origin and comes back on GET and HEAD, on misses and on
      hits (proved by origin counts);
  12. every error body the gateway writes itself is well-formed XML, and
      what it echoes (the Range of a 416) is escaped;
  13. DeleteObjects of one key and a purge of a prefix forget those keys
      and nothing else: the bucket's other objects still hit (origin counts
      unchanged); in a cluster also a DeleteObjects of 32 keys, each of
      which is gone (and of 33, which the workers forget by bucket).
Each test_* function guards one defect; main() runs them against real
s3rver (behind the counting front), Cachalot and boto3.
"""
import os
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, Checks, Rig  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

BUCKET = "answers-bucket"
FRESH = 300		# long: a hit is a hit for the whole test


def client(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=AK,
                        aws_secret_access_key=SK, region_name="us-east-1",
                        config=Config(signature_version="s3v4",
                                      retries={"total_max_attempts": 1, "mode": "standard"}))


def error_of(call, **kw):
    """(status, Error dict, headers) of a call that must fail; None if it succeeded."""
    try:
        call(**kw)
    except ClientError as e:
        md = e.response["ResponseMetadata"]
        return md["HTTPStatusCode"], e.response["Error"], md["HTTPHeaders"]
    return None


def fetch(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


# ---- 10: the origin's errors ----

def check_errors_like_origin(ck, rig, s3, where):
    """GET and HEAD of a missing bucket and of a missing key answer what
    the origin answers: status, Code, Message (and the origin's extra
    fields), not a NoSuchKey made up by the gateway."""
    origin = rig.origin_client()
    for bucket, key, code in (("no-such-bucket-here", "k", "NoSuchBucket"),
                              (BUCKET, "no-such-key", "NoSuchKey")):
        want = error_of(origin.get_object, Bucket=bucket, Key=key)
        got = error_of(s3.get_object, Bucket=bucket, Key=key)
        ck.check(want is not None and want[1]["Code"] == code,
                 f"(the origin itself answers {code}: {want and want[1]})")
        ck.check(got is not None and got[0] == want[0] and got[1].get("Code") == code and
                 got[1].get("Message") == want[1].get("Message"),
                 f"{where}: GET {bucket}/{key}: {want and (want[0], want[1])} from the origin, "
                 f"got {got and (got[0], got[1])}")
        for field in ("BucketName", "Key"):
            if field in want[1]:
                ck.check(got is not None and got[1].get(field) == want[1][field],
                         f"{where}: GET {bucket}/{key}: the origin's <{field}> relayed: "
                         f"{got and got[1]}")
        # The second time too (nothing negative is cached as something else).
        again = error_of(s3.get_object, Bucket=bucket, Key=key)
        ck.check(again is not None and again[1].get("Code") == code,
                 f"{where}: GET {bucket}/{key} again: {again and again[1]}")
        want = error_of(origin.head_object, Bucket=bucket, Key=key)
        got = error_of(s3.head_object, Bucket=bucket, Key=key)
        ck.check(got is not None and got[0] == want[0] and got[1].get("Code") == str(want[0]),
                 f"{where}: HEAD {bucket}/{key}: status {want and want[0]} as the origin's, "
                 f"got {got and (got[0], got[1])}")
        ck.check(got is not None and "x-amz-request-id" in got[2],
                 f"{where}: HEAD {bucket}/{key}: x-amz-request-id: {got and got[2]}")


def test_missing_bucket_is_nosuchbucket_on_cached_get(ck, rig, s3):
    check_errors_like_origin(ck, rig, s3, "serve")


def test_missing_bucket_is_nosuchbucket_on_passthrough(ck, rig, s3):
    check_errors_like_origin(ck, rig, s3, "pass-through")


def test_missing_bucket_is_nosuchbucket_on_cached_get_oss(ck, rig, s3):
    for bucket, key, code in (("no-such-bucket-here", "k", "NoSuchBucket"),
                              (BUCKET, "no-such-key", "NoSuchKey")):
        got = error_of(s3.get_object, Bucket=bucket, Key=key)
        ck.check(got is not None and got[0] == 404 and got[1].get("Code") == code and
                 got[1].get("Message", "").startswith("The specified"),
                 f"serve, OSS origin: GET {bucket}/{key}: {code}, got {got and got[1]}")
        got = error_of(s3.head_object, Bucket=bucket, Key=key)
        ck.check(got is not None and got[0] == 404, f"serve, OSS origin: HEAD {bucket}/{key}: "
                 f"404, got {got and got[0]}")


def test_origin_403_is_relayed_not_bare_accessdenied(ck, rig, s3):
    """An origin that refuses the gateway's own signature (a wrong origin
    secret): its 403 reaches the client with its Code and Message."""
    got = error_of(s3.get_object, Bucket=BUCKET, Key="k")
    ck.check(got is not None and got[0] == 403 and got[1].get("Code") == "SignatureDoesNotMatch" and
             got[1].get("Message", "") not in ("", "Access Denied"),
             f"serve, wrong origin secret: GET: the origin's SignatureDoesNotMatch and message, got "
             f"{got and (got[0], got[1])}")
    got = error_of(s3.head_object, Bucket=BUCKET, Key="k")
    ck.check(got is not None and got[0] == 403, f"serve, wrong origin secret: HEAD: 403, got "
             f"{got and got[0]}")


# ---- 11: empty header values ----

def test_empty_metadata_value_survives_put_get_head(ck, rig, s3, cached):
    where = "serve" if cached else "pass-through"
    origin = rig.origin_client()
    s3.put_object(Bucket=BUCKET, Key="empty-meta", Body=b"x" * 1000,
                  Metadata={"foo": "", "bar": "1"})
    h = origin.head_object(Bucket=BUCKET, Key="empty-meta")
    ck.check(h["Metadata"] == {"foo": "", "bar": "1"},
             f"{where}: PUT with x-amz-meta-foo: (empty) reaches the origin: {h['Metadata']}")
    # Written at the origin itself: only the way back is tested.
    origin.put_object(Bucket=BUCKET, Key="empty-meta-o", Body=b"y" * 1000,
                      Metadata={"foo": "", "bar": "1"})
    for key in ("empty-meta", "empty-meta-o"):
        rig.reset()
        r = s3.get_object(Bucket=BUCKET, Key=key)
        r["Body"].read()
        ck.check(r["Metadata"] == {"foo": "", "bar": "1"},
                 f"{where}: first GET of {key}: {r['Metadata']}")
        first = rig.counts()["requests"]
        rig.reset()
        r = s3.get_object(Bucket=BUCKET, Key=key)
        r["Body"].read()
        ck.check(r["Metadata"] == {"foo": "", "bar": "1"},
                 f"{where}: second GET of {key}: {r['Metadata']}")
        h = s3.head_object(Bucket=BUCKET, Key=key)
        ck.check(h["Metadata"] == {"foo": "", "bar": "1"},
                 f"{where}: HEAD of {key}: {h['Metadata']}")
        c = rig.counts()["requests"]
        if cached:
            ck.check(first >= 1 and c == 0, f"{where}: {key}: the first GET a miss ({first} origin "
                     f"requests), the second GET and the HEAD hits ({c})")


# ---- 12: error bodies are XML, echoes escaped ----

def test_range_416_body_is_xml_and_escapes_the_range(ck, rig, s3):
    s3.put_object(Bucket=BUCKET, Key="small", Body=b"0123456789")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "small"},
                                    ExpiresIn=600)
    for rng in ("bytes=100-", "bytes=100- ", "bytes=-0"):
        st, hd, body = fetch(url, {"Range": rng})
        ck.check(st == 416, f"Range {rng!r} past the end: 416, got {st}")
        try:
            doc = ET.fromstring(body)
        except ET.ParseError as e:
            ck.check(False, f"Range {rng!r}: the 416 body is not XML ({e}): {body!r}")
            continue
        ck.check(doc.findtext("Code") == "InvalidRange" and
                 doc.findtext("RangeRequested") == rng.strip() and
                 doc.findtext("ActualObjectSize") == "10",
                 f"Range {rng!r}: InvalidRange, RangeRequested echoed, size: {body!r}")
    # Bytes XML must escape. AWS ignores a Range it cannot parse (200, the
    # whole object), and so does Cachalot: whatever the answer, it is
    # well-formed, and a 416 would echo the value escaped.
    for rng in ('bytes=100-<&">', 'bytes=<&">-', "bytes=100-'<\u00e9>"):
        st, hd, body = fetch(url, {"Range": rng})
        if st == 416:
            try:
                doc = ET.fromstring(body)
                ok = doc.findtext("RangeRequested") == rng
            except ET.ParseError:
                ok = False
            ck.check(ok, f"Range {rng!r}: a 416 that is XML and echoes the value: {body!r}")
        else:
            ck.check(st == 200 and body == b"0123456789",
                     f"Range {rng!r} (unparseable): the whole object as AWS answers, got {st}")
    # Errors the gateway writes itself, with hostile request bytes in them.
    st, hd, body = fetch(rig.endpoint + "/" + BUCKET + "/%3C%26%22?x-id=GetObject")
    try:
        doc = ET.fromstring(body)
        ck.check(doc.findtext("Code") in ("AccessDenied", "InvalidRequest", "MissingSecurityHeader")
                 and doc.findtext("Resource") == "/" + BUCKET + "/%3C%26%22",
                 f"an unsigned request: an S3 error with its Resource: {body!r}")
    except ET.ParseError as e:
        ck.check(False, f"an unsigned request: the error body is not XML ({e}): {body!r}")


# ---- 13: DeleteObjects and prefix purges forget what they name ----

def warm(s3, keys):
    for k in keys:
        s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()


def test_delete_objects_of_one_key_keeps_the_rest_cached(ck, rig, s3):
    keys = ["keep/a", "keep/b", "gone", "a&b<c>\"'", "a&b", "sp ace/é"]
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=k.encode() * 100)
    warm(s3, keys)
    warm(s3, keys)
    rig.reset()
    warm(s3, keys)
    ck.check(rig.counts()["requests"] == 0, f"warm: no origin request ({rig.counts()})")
    for victim in ("gone", "a&b<c>\"'", "sp ace/é"):
        r = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": victim}]})
        ck.check([d["Key"] for d in r.get("Deleted", [])] == [victim], f"deleted {victim!r}: {r}")
        keys.remove(victim)
        rig.reset()
        warm(s3, keys)
        c = rig.counts()
        ck.check(c["requests"] == 0, f"after DeleteObjects of {victim!r}: the other keys still hit "
                 f"(origin requests {c['requests']}: {c['by_method']})")
        got = error_of(s3.get_object, Bucket=BUCKET, Key=victim)
        want = error_of(rig.origin_client().get_object, Bucket=BUCKET, Key=victim)
        ck.check(got is not None and want is not None and got[0] == 404 and
                 got[1].get("Code") == want[1].get("Code"),
                 f"after DeleteObjects: {victim!r} is gone: {got and got[1]} (the origin: "
                 f"{want and want[1]})")
    # Several keys in one request, one of them missing.
    r = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "keep/a"}, {"Key": "nope"}]})
    keys.remove("keep/a")
    rig.reset()
    warm(s3, keys)
    ck.check(rig.counts()["requests"] == 0, f"after a batch of two: the others hit ({rig.counts()})")
    ck.check(error_of(s3.get_object, Bucket=BUCKET, Key="keep/a") is not None, "keep/a is gone")


def test_delete_objects_hostile_bodies(ck, rig, s3):
    """Bodies the parser must not trust: wrong XML, a DOCTYPE with
    entities, too many bytes. Whatever S3 answers, what Cachalot keeps
    cached is right afterwards (the key is gone or the bucket forgotten)."""
    s3.put_object(Bucket=BUCKET, Key="hostile", Body=b"h" * 100)
    warm(s3, ["hostile", "hostile"])
    bodies = [
        b"<Delete><Object><Key>hostile</Key></Object>",		# unterminated
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "hostile">]>'
        b"<Delete><Object><Key>&e;</Key></Object></Delete>",
        b"<Delete>" + b"<Object><Key>x</Key></Object>" * 100000 + b"</Delete>",
        b"<Delete><Object><Key>host&#105;le</Key></Object></Delete>",
        b"\xff\xfe<Delete/>",
    ]
    for i, body in enumerate(bodies):
        def add_body(request, body=body, **_):
            request.data = body
            request.headers["Content-Length"] = str(len(body))
            for h in list(request.headers.keys()):
                if h.lower() == "content-md5" or h.lower().startswith("x-amz-checksum") or \
                        h.lower() == "x-amz-sdk-checksum-algorithm":
                    del request.headers[h]
        s3.meta.events.register_first("before-sign.s3.DeleteObjects", add_body)
        try:
            s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "zzz"}]})
            status = 200
        except ClientError as e:
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        s3.meta.events.unregister("before-sign.s3.DeleteObjects", add_body)
        ck.check(status != 0, f"hostile body {i}: answered ({status})")
        still = rig.origin_client().list_objects_v2(Bucket=BUCKET, Prefix="hostile").get("KeyCount", 0)
        got = error_of(s3.get_object, Bucket=BUCKET, Key="hostile")
        ck.check((still == 1 and got is None) or (still == 0 and got is not None),
                 f"hostile body {i}: what the cache answers matches the origin "
                 f"(origin has it: {still}, cache error: {got and got[1]})")
        if still == 0:
            s3.put_object(Bucket=BUCKET, Key="hostile", Body=b"h" * 100)
        ck.check(rig.alive(), f"hostile body {i}: cachalot still running")


def test_missing_bucket_is_nosuchbucket_on_cluster_gateway(ck, cl, g):
    """A cluster gateway asks the owner worker's HEAD first: the worker's
    404 must end as the origin's own error, not a NoSuchKey."""
    origin = cl.origin_client()
    for bucket, key, code in (("no-such-bucket-here", "k", "NoSuchBucket"),
                              (BUCKET, "no-such-key", "NoSuchKey")):
        want = error_of(origin.get_object, Bucket=bucket, Key=key)
        got = error_of(g.get_object, Bucket=bucket, Key=key)
        ck.check(got is not None and want is not None and got[1].get("Code") == code and
                 got[1].get("Message") == want[1].get("Message"),
                 f"cluster: GET {bucket}/{key}: {code} with the origin's message, got {got and got[1]}")
        got = error_of(g.head_object, Bucket=bucket, Key=key)
        ck.check(got is not None and got[0] == 404, f"cluster: HEAD {bucket}/{key}: 404, got "
                 f"{got and got[0]}")


def test_prefix_purge_keeps_other_prefixes_cached(ck, cl, g):
    keys = ["p/a", "p/b", "q/a", "pp"]
    for k in keys:
        g.put_object(Bucket=BUCKET, Key=k, Body=k.encode() * 1000)
    for _ in range(2):
        for k in keys:
            g.get_object(Bucket=BUCKET, Key=k)["Body"].read()
    cl.reset()
    for k in keys:
        g.get_object(Bucket=BUCKET, Key=k)["Body"].read()
    ck.check(cl.counts()["requests"] == 0, f"cluster warm: {cl.counts()}")
    rc, out, err = cl.ctl("purge", f"{BUCKET}/p/")
    ck.check(rc == 0, f"ctl purge {BUCKET}/p/: {out} {err}")
    time.sleep(2.5)		# applied at the workers' next heartbeat
    cl.reset()
    for k in ("q/a", "pp"):
        g.get_object(Bucket=BUCKET, Key=k)["Body"].read()
    c = cl.counts()
    ck.check(c["requests"] == 0, f"after a purge of p/: q/a and pp still hit ({c['by_method']})")
    cl.reset()
    for k in ("p/a", "p/b"):
        g.get_object(Bucket=BUCKET, Key=k)["Body"].read()
    c = cl.counts()
    ck.check(c["by_method"].get("HEAD", 0) >= 2, f"after a purge of p/: p/a and p/b come from "
             f"the origin again ({c['by_method']})")


def test_cluster_delete_objects_of_one_key_keeps_the_rest_cached(ck, cl, g):
    keys = ["d/keep1", "d/keep2", "d/gone&<>"]
    for k in keys:
        g.put_object(Bucket=BUCKET, Key=k, Body=k.encode() * 1000)
    for _ in range(2):
        for k in keys:
            g.get_object(Bucket=BUCKET, Key=k)["Body"].read()
    g.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "d/gone&<>"}]})
    cl.reset()
    for k in ("d/keep1", "d/keep2"):
        g.get_object(Bucket=BUCKET, Key=k)["Body"].read()
    c = cl.counts()
    ck.check(c["requests"] == 0, f"cluster: after DeleteObjects of one key the others still hit "
             f"({c['by_method']})")
    got = error_of(g.get_object, Bucket=BUCKET, Key="d/gone&<>")
    ck.check(got is not None and got[1].get("Code") == "NoSuchKey",
             f"cluster: the deleted key is gone: {got and got[1]}")


def test_cluster_delete_objects_of_many_keys(ck, cl, g):
    """A DeleteObjects of 32 keys (INVAL_KEYS_MAX) reaches every worker key
    by key: each is gone, the bucket's other keys still hit. One of 33 keys
    (the workers then forget the bucket): each is gone too."""
    for n in (32, 33):
        gone = [f"m{n}/gone {i}&" for i in range(n)]
        keep = [f"m{n}/keep1", f"m{n}/keep2"]
        for k in gone + keep:
            g.put_object(Bucket=BUCKET, Key=k, Body=k.encode() * 100)
        for _ in range(2):
            for k in gone + keep:
                g.get_object(Bucket=BUCKET, Key=k)["Body"].read()
        r = g.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in gone]})
        ck.check(len(r.get("Deleted", [])) == n, f"cluster: DeleteObjects of {n} keys: {r}")
        if n == 32:
            cl.reset()
            for k in keep:
                g.get_object(Bucket=BUCKET, Key=k)["Body"].read()
            c = cl.counts()
            ck.check(c["requests"] == 0, f"cluster: after DeleteObjects of {n} keys the others "
                     f"still hit ({c['by_method']})")
        stale = [k for k in gone if error_of(g.get_object, Bucket=BUCKET, Key=k) is None]
        ck.check(not stale, f"cluster: after DeleteObjects of {n} keys each is gone "
                 f"(still served: {stale[:3]})")


def cluster_tests(ck):
    from cluster import Cluster
    with Cluster(workers=2, gateways=1) as cl:
        g = cl.client(0)
        g.create_bucket(Bucket=BUCKET)
        test_missing_bucket_is_nosuchbucket_on_cluster_gateway(ck, cl, g)
        test_prefix_purge_keeps_other_prefixes_cached(ck, cl, g)
        test_cluster_delete_objects_of_one_key_keeps_the_rest_cached(ck, cl, g)
        test_cluster_delete_objects_of_many_keys(ck, cl, g)
        ck.check(not any(p.poll() is not None for p in cl.workers + cl.gateways),
                 "cluster: every process still running")
    ck.check(not cl.sanitizer, f"cluster: sanitizers quiet: {cl.sanitizer[:3]}")


def main():
    ck = Checks("answers")
    only = sys.argv[1:]

    def want(name):
        return not only or any(o in name for o in only)

    if want("serve"):
        with Rig(role="serve", extra=["--block-size", "256K", "--freshness", str(FRESH)]) as rig:
            s3 = client(rig.endpoint)
            s3.create_bucket(Bucket=BUCKET)
            test_missing_bucket_is_nosuchbucket_on_cached_get(ck, rig, s3)
            test_empty_metadata_value_survives_put_get_head(ck, rig, s3, cached=True)
            test_range_416_body_is_xml_and_escapes_the_range(ck, rig, s3)
            test_delete_objects_of_one_key_keeps_the_rest_cached(ck, rig, s3)
            test_delete_objects_hostile_bodies(ck, rig, s3)
            ck.check(rig.alive(), "serve: cachalot still running")
            if ck.failed:
                sys.stderr.write(rig.log()[-5000:])
        ck.check(not rig.sanitizer, f"serve: sanitizers quiet: {rig.sanitizer[:3]}")
    if want("serve"):
        with Rig(role="serve", extra=["--origin-secret-key", "not-the-origin-secret"]) as rig:
            test_origin_403_is_relayed_not_bare_accessdenied(ck, rig, client(rig.endpoint))
        ck.check(not rig.sanitizer, f"serve (403): sanitizers quiet: {rig.sanitizer[:3]}")
    if want("pass"):
        with Rig(role="gateway") as rig:
            s3 = client(rig.endpoint)
            s3.create_bucket(Bucket=BUCKET)
            test_missing_bucket_is_nosuchbucket_on_passthrough(ck, rig, s3)
            test_empty_metadata_value_survives_put_get_head(ck, rig, s3, cached=False)
        ck.check(not rig.sanitizer, f"pass-through: sanitizers quiet: {rig.sanitizer[:3]}")
    if want("oss"):
        with Rig(role="serve", oss=True, extra=["--freshness", str(FRESH)]) as rig:
            s3 = client(rig.endpoint)
            s3.create_bucket(Bucket=BUCKET)
            test_missing_bucket_is_nosuchbucket_on_cached_get_oss(ck, rig, s3)
        ck.check(not rig.sanitizer, f"serve, OSS: sanitizers quiet: {rig.sanitizer[:3]}")
    if want("cluster"):
        cluster_tests(ck)
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
