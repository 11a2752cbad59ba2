#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The block cache of `cachalot serve`, proved by counting origin requests:
  1. a second GET costs no origin GET, a HEAD after a GET no origin request;
  2. 50 concurrent cold GETs of a 64 MiB object: each block fetched once
     (origin bytes equal to the object's size, at most one origin GET per
     block: runs of missing blocks share one), every client the right sha256;
  3. ranged and conditional reads answered as AWS S3 answers them (status,
     Content-Range, bytes), on misses and hits alike, where the s3rver
     origin itself answers some of them wrongly;
  4. writes through Cachalot are seen at once; a write behind its back is
     seen after the freshness time and not before; never a mix.
"""
import hashlib
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import read_cut, AK, SK, Checks, Rig  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, ConnectionClosedError  # noqa: E402

MiB = 1024 * 1024
FRESH = 3


def sha(b):
    return hashlib.sha256(b).hexdigest()


def expect_range(spec, size):
    """AWS S3's answer to Range: spec on an object of size bytes:
    (status, first, last) with last inclusive."""
    if not spec.startswith("bytes=") or "," in spec:
        return (200, 0, size - 1)
    a, _, b = spec[6:].partition("-")
    if a == "":
        n = int(b)
        if size == 0:
            return (200, 0, -1)
        if n == 0:
            return (416, 0, 0)
        return (206, max(0, size - n), size - 1)
    first = int(a)
    if b and int(b) < first:
        return (200, 0, size - 1)	# first > last: the header is ignored
    if first >= size:
        return (416, 0, 0)
    last = int(b) if b else size - 1
    return (206, first, min(last, size - 1))


def fetch(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def main():
    ck = Checks("cache")
    obj = os.urandom(3 * MiB + 12345)
    big = os.urandom(64 * MiB)
    with Rig(role="serve", extra=["--block-size", "1M", "--mem-cache", "512M",
                                  "--freshness", str(FRESH)]) as rig:
        s3 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1",
                          config=Config(signature_version="s3v4"))
        b = "cache-bucket"
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="obj", Body=obj, ContentType="application/x-test",
                      Metadata={"color": "blue"})
        s3.put_object(Bucket=b, Key="empty", Body=b"")
        s3.put_object(Bucket=b, Key="big", Body=big)

        # 1. Second GET: no origin GET. HEAD after GET: no origin request.
        rig.reset()
        r = s3.get_object(Bucket=b, Key="obj")
        ck.check(r["Body"].read() == obj, "first GET: right bytes")
        ck.check(r["ContentType"] == "application/x-test" and r["Metadata"].get("color") == "blue",
                 "first GET: the origin's headers")
        c = rig.counts()
        first = c["by_method"].get("GET", 0)
        ck.check(1 <= first <= 4 and c["bytes_out"] == len(obj),
                 f"a cold 3 MiB object: each of its 4 blocks fetched once: {first} GETs, "
                 f"{c['bytes_out']} bytes")
        rig.reset()
        r = s3.get_object(Bucket=b, Key="obj")
        ck.check(r["Body"].read() == obj and r["Metadata"].get("color") == "blue", "second GET: right bytes")
        h = s3.head_object(Bucket=b, Key="obj")
        ck.check(h["ContentLength"] == len(obj) and h["ETag"] == r["ETag"], "HEAD from the cache")
        c = rig.counts()
        ck.check(c["requests"] == 0, f"second GET and HEAD reached the origin {c['requests']} times")

        # 2. 50 concurrent cold GETs of 64 MiB.
        url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "big"}, ExpiresIn=600)
        rig.reset()

        def one(_):
            p = subprocess.run(f"curl -sf '{url}' | sha256sum", shell=True, capture_output=True,
                               text=True, timeout=300)
            return p.stdout.split()[0] if p.stdout else ""
        with ThreadPoolExecutor(50) as pool:
            sums = list(pool.map(one, range(50)))
        ck.check(sums.count(sha(big)) == 50, f"50 concurrent readers got the right sha256: "
                 f"{sums.count(sha(big))}")
        c = rig.counts()
        ck.check(1 <= c["by_method"].get("GET", 0) <= 64, f"origin GETs for 64 one-MiB blocks: "
                 f"{c['by_method'].get('GET', 0)}")
        ck.check(c["bytes_out"] == len(big), f"origin bytes {c['bytes_out']} for {len(big)}: each block once")
        m = rig.metrics()
        ck.check("cachalot_cache_singleflight_waiters_total" in m and
                 "cachalot_cache_singleflight_waiters_total 0\n" not in m, "single-flight waiters counted")

        # 3. Ranges and conditionals, misses and hits alike.
        rnd = random.Random(5)
        size = len(obj)
        specs = ["bytes=0-0", "bytes=0-99", "bytes=1048570-1048590", "bytes=-1", "bytes=-100",
                 f"bytes=-{size + 10}", f"bytes={size - 1}-", f"bytes={size}-", f"bytes={size + 5}-7",
                 "bytes=100-", "bytes=-0", "bytes=5-2", "bytes=2097151-2097152", "bytes=0-",
                 f"bytes=0-{size * 2}"]
        for _ in range(20):
            a = rnd.randrange(size)
            specs.append(f"bytes={a}-{a + rnd.randrange(3 * MiB)}")
        s3.put_object(Bucket=b, Key="ranged", Body=obj)
        rurl = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "ranged"},
                                         ExpiresIn=600)
        for rounds in ("miss", "hit"):
            for spec in specs:
                st, hd, body = fetch(rurl, {"Range": spec})
                want, a, z = expect_range(spec, size)
                ok = st == want
                if want == 206:
                    ok = ok and body == obj[a:z + 1] and hd.get("content-range") == f"bytes {a}-{z}/{size}"
                elif want == 200:
                    ok = ok and body == obj and "content-range" not in hd
                else:
                    ok = ok and hd.get("content-range") == f"bytes */{size}" and b"InvalidRange" in body
                ck.check(ok, f"{rounds} {spec}: {st} {hd.get('content-range')} ({len(body)} bytes), "
                         f"want {want} {a}-{z}")
            eurl = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "empty"})
            st, hd, body = fetch(eurl, {"Range": "bytes=-5"})
            ck.check(st == 200 and body == b"", f"{rounds}: suffix range of an empty object: {st}")
            st, hd, body = fetch(eurl, {"Range": "bytes=0-"})
            ck.check(st == 416 and hd.get("content-range") == "bytes */0", f"{rounds}: bytes=0- of empty: {st}")
            etag = s3.head_object(Bucket=b, Key="ranged")["ETag"]
            st, hd, body = fetch(rurl, {"If-None-Match": etag})
            ck.check(st == 304 and body == b"" and hd.get("etag") == etag, f"{rounds}: If-None-Match: {st}")
            st, hd, body = fetch(rurl, {"If-Match": '"nope"'})
            ck.check(st == 412 and b"PreconditionFailed" in body, f"{rounds}: If-Match other: {st}")
            st, hd, body = fetch(rurl, {"If-Match": etag, "Range": "bytes=10-19"})
            ck.check(st == 206 and body == obj[10:20], f"{rounds}: ranged GET with If-Match (s3a, aws-cli)")
            st, hd, body = fetch(rurl, {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
            ck.check(st == 200 and body == obj, f"{rounds}: If-Modified-Since in the past: {st}")
            st, hd, body = fetch(rurl, {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
            ck.check(st == 304, f"{rounds}: If-Modified-Since in the future: {st}")
        st, hd, body = fetch(rurl)
        ck.check(st == 200 and hd.get("accept-ranges") == "bytes", "Accept-Ranges on a hit")

        # 4. Writes through Cachalot: seen at once. Behind its back: after
        # the freshness time, not before.
        for i in range(3):
            new = os.urandom(MiB + i)
            s3.put_object(Bucket=b, Key="obj", Body=new)
            ck.check(s3.get_object(Bucket=b, Key="obj")["Body"].read() == new,
                     f"PUT through Cachalot then GET: new bytes ({i})")
        s3.copy_object(Bucket=b, Key="obj", CopySource={"Bucket": b, "Key": "ranged"})
        ck.check(s3.get_object(Bucket=b, Key="obj")["Body"].read() == obj, "COPY onto it: new bytes")
        s3.upload_fileobj(__import__("io").BytesIO(big[:20 * MiB]), b, "obj")
        ck.check(sha(s3.get_object(Bucket=b, Key="obj")["Body"].read()) == sha(big[:20 * MiB]),
                 "multipart upload onto it: new bytes")
        s3.delete_object(Bucket=b, Key="obj")
        try:
            s3.get_object(Bucket=b, Key="obj")
            ck.check(False, "GET after DELETE served the old bytes")
        except ClientError as e:
            ck.check(e.response["Error"]["Code"] == "NoSuchKey", "GET after DELETE: NoSuchKey")
        s3.put_object(Bucket=b, Key="batch", Body=b"one")
        s3.get_object(Bucket=b, Key="batch")["Body"].read()
        s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "batch"}]})
        try:
            s3.head_object(Bucket=b, Key="batch")
            ck.check(False, "HEAD after batch DELETE served the old object")
        except ClientError as e:
            ck.check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, "HEAD after batch DELETE: 404")

        s3.put_object(Bucket=b, Key="behind", Body=b"old" * 1000)
        ck.check(s3.get_object(Bucket=b, Key="behind")["Body"].read() == b"old" * 1000, "behind: cached")
        rig.origin_client().put_object(Bucket=b, Key="behind", Body=b"new" * 2000)
        ck.check(s3.get_object(Bucket=b, Key="behind")["Body"].read() == b"old" * 1000,
                 "written behind Cachalot's back: old bytes before the freshness time")
        time.sleep(FRESH + 0.5)
        ck.check(s3.get_object(Bucket=b, Key="behind")["Body"].read() == b"new" * 2000,
                 "after the freshness time: new bytes")
        m = rig.metrics()
        ck.check('cachalot_revalidations_total{result="changed"} 1' in m, "revalidation counted as changed")

        # Replaced at the origin in the middle of a cold multi-block read:
        # that answer fails (never mixed bytes), the next one is all new.
        # 24 blocks: more than the runs of blocks that readahead asks for
        # at once, so that a later run meets the new version.
        four = os.urandom(24 * MiB)
        s3.put_object(Bucket=b, Key="mixed", Body=four)
        rig.fault("replace")
        once = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                            aws_secret_access_key=SK, region_name="us-east-1",
                            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        # The answer started as 200 with the old object's length, so when a
        # later run of blocks meets the new version, all the gateway may do
        # is end it short: the client must get a strict prefix of the old
        # bytes, then botocore's truncated-body error. A whole body (old,
        # new or mixed: the change was not seen, or was served), other bytes
        # or any other exception fail.
        resp = once.get_object(Bucket=b, Key="mixed")
        ck.check(resp["ResponseMetadata"]["HTTPStatusCode"] == 200 and
                 resp["ContentLength"] == len(four), "a read across the change: 200, the old length")
        got, err = read_cut(resp["Body"])
        new = bytes(x ^ 0x55 for x in four)
        ck.check(err is not None, "a read across the change ends in an error, not a whole body "
                 f"(got {'the old' if got == four else 'the new' if got == new else 'mixed'} "
                 f"bytes, {len(got)})")
        ck.check(len(got) < len(four) and got == four[:len(got)],
                 f"a read across the change: only old bytes, a strict prefix ({len(got)} bytes)")
        time.sleep(FRESH + 0.5)
        got = s3.get_object(Bucket=b, Key="mixed")["Body"].read()
        ck.check(got == bytes(x ^ 0x55 for x in four), "after the change: the new bytes, whole")

        # A fill answered with another size under the ETag asked for (an
        # origin that ignores If-Match, as s3rver does, and answers another
        # version): neither served whole nor stored as that version.
        sized = os.urandom(3 * MiB)
        s3.put_object(Bucket=b, Key="sized", Body=sized)
        s3.head_object(Bucket=b, Key="sized")
        rig.fault("resize")
        try:
            resp = once.get_object(Bucket=b, Key="sized")
            got, err = read_cut(resp["Body"])
            outcome = ("whole" if err is None else "cut" if len(got) < len(sized) and
                       got == sized[:len(got)] else "other bytes")
        except ClientError as e:
            outcome = str(e.response["ResponseMetadata"]["HTTPStatusCode"])
        except ConnectionClosedError:
            # The first block failed before a byte of the body had left:
            # the connection ends with nothing.
            outcome = "closed"
        ck.check(outcome in ("cut", "closed") or outcome.startswith("5"),
                 f"a fill of another size is not served as the version: {outcome}")
        rig.reset()
        got = s3.get_object(Bucket=b, Key="sized")["Body"].read()
        ck.check(got == sized, "after a fill of another size: the right bytes, whole")
        ck.check(rig.counts()["get_object"] >= 1,
                 f"the blocks of the fill of another size were not stored: "
                 f"{rig.counts()['get_object']} origin GETs to read them again")
        ck.check(rig.alive(), "cachalot still running")
        if ck.failed:
            sys.stderr.write(rig.log()[-5000:])
    ck.check(not rig.sanitizer, f"sanitizers quiet: {rig.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
