#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Unchanged S3 clients through Cachalot's gateway.

Each of aws-cli v2, boto3, s3cmd, rclone and the AWS SDK for JavaScript v3,
with its default settings (checksums, chunked uploads), does through the
gateway: create bucket, put small objects under awkward keys (spaces, '+',
'%', unicode, '='), put a 20 MiB object (multipart for aws-cli and rclone),
list with prefix and delimiter, head, get, ranged get, copy, delete and
batch delete. Bytes are compared by sha256. The origin is s3rver behind the
verifying front: an origin request Cachalot signed wrongly fails there.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from rig import AK, SK, TOP, Checks, Rig  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

KEYS = ["plain.txt", "dir/a b.txt", "dir/plus+sign.txt", "dir/pct%41.txt",
        "dir/\u00fcn\u00ef c\u00f6d\u00e9 \u65e5\u672c.txt", "dir/eq=x&y.txt", "dir/sub/deep.txt"]
DIR_FILES = sorted(k for k in KEYS if k.startswith("dir/") and "/" not in k[4:])
BIG = os.urandom(20 * 1024 * 1024)
SMALL = {k: os.urandom(1000 + i) for i, k in enumerate(KEYS)}


def sha(b):
    return hashlib.sha256(b).hexdigest()


def run(ck, what, args, env=None, stdin=None, timeout=300):
    e = dict(os.environ)
    e.pop("AWS_CA_BUNDLE", None)
    e.update(env or {})
    p = subprocess.run(args, env=e, input=stdin, capture_output=True, timeout=timeout)
    ck.check(p.returncode == 0, f"{what}: exit {p.returncode}: {p.stderr.decode(errors='replace')[-800:]}")
    return p.stdout


def files(tmp):
    paths = {}
    for i, k in enumerate(KEYS):
        paths[k] = os.path.join(tmp, f"small{i}")
        with open(paths[k], "wb") as f:
            f.write(SMALL[k])
    paths["big"] = os.path.join(tmp, "big")
    with open(paths["big"], "wb") as f:
        f.write(BIG)
    return paths


def origin_has(rig, ck, who, bucket):
    """What the origin holds, read with boto3 straight from the front."""
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{rig.front_port}",
                      aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER",
                      region_name="us-east-1")
    for k in KEYS:
        got = s3.get_object(Bucket=bucket, Key=k)["Body"].read()
        ck.check(sha(got) == sha(SMALL[k]), f"{who}: origin holds {k!r} as sent")
    big = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    ck.check(sha(big) == sha(BIG), f"{who}: origin holds big.bin as sent (no aws-chunked framing)")


# ---- boto3 ----

def do_boto3(rig, ck, tmp):
    b = "boto3-bucket"
    s3 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                      aws_secret_access_key=SK, region_name="us-east-1")
    s3.create_bucket(Bucket=b)
    for k in KEYS:
        s3.put_object(Bucket=b, Key=k, Body=SMALL[k])
        ck.check(sha(s3.get_object(Bucket=b, Key=k)["Body"].read()) == sha(SMALL[k]),
                 f"boto3 get {k!r}")
    s3.put_object(Bucket=b, Key="big.bin", Body=BIG)
    ck.check(sha(s3.get_object(Bucket=b, Key="big.bin")["Body"].read()) == sha(BIG), "boto3 big get")
    s3.upload_file(os.path.join(tmp, "big"), b, "big-multipart.bin")  # multipart above 8 MiB
    ck.check(sha(s3.get_object(Bucket=b, Key="big-multipart.bin")["Body"].read()) == sha(BIG),
             "boto3 multipart big get")
    lst = s3.list_objects_v2(Bucket=b, Prefix="dir/", Delimiter="/")
    ck.check(sorted(o["Key"] for o in lst.get("Contents", [])) == DIR_FILES,
             f"boto3 list prefix+delimiter keys: {lst.get('Contents')}")
    ck.check([p["Prefix"] for p in lst.get("CommonPrefixes", [])] == ["dir/sub/"],
             "boto3 list common prefixes")
    ck.check(s3.head_object(Bucket=b, Key="big.bin")["ContentLength"] == len(BIG), "boto3 head")
    loc = s3.get_bucket_location(Bucket=b)
    ck.check(loc.get("LocationConstraint") in (None, ""), f"GetBucketLocation says us-east-1: {loc}")
    hb = s3.head_bucket(Bucket=b)["ResponseMetadata"]["HTTPHeaders"]
    ck.check(hb.get("x-amz-bucket-region") == "us-east-1", "HEAD bucket carries x-amz-bucket-region")
    r = s3.get_object(Bucket=b, Key="big.bin", Range="bytes=1048570-1048609")
    ck.check(r["Body"].read() == BIG[1048570:1048610] and r["ContentRange"] ==
             f"bytes 1048570-1048609/{len(BIG)}", "boto3 ranged get")
    s3.copy_object(Bucket=b, Key="copy of a b.txt", CopySource={"Bucket": b, "Key": "dir/a b.txt"})
    ck.check(s3.get_object(Bucket=b, Key="copy of a b.txt")["Body"].read() == SMALL["dir/a b.txt"],
             "boto3 copy")
    origin_has(rig, ck, "boto3", b)
    s3.delete_object(Bucket=b, Key="copy of a b.txt")
    try:
        s3.head_object(Bucket=b, Key="copy of a b.txt")
        ck.check(False, "boto3 delete: object still there")
    except s3.exceptions.ClientError as e:
        ck.check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, "boto3 head after delete is 404")
    v4 = boto3.client("s3", endpoint_url=rig.endpoint, aws_access_key_id=AK,
                      aws_secret_access_key=SK, region_name="us-east-1",
                      config=Config(signature_version="s3v4"))
    url = v4.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "dir/plus+sign.txt"},
                                    ExpiresIn=300)
    got = subprocess.run(["curl", "-sf", url], capture_output=True).stdout
    ck.check(got == SMALL["dir/plus+sign.txt"], "boto3 presigned URL fetched with curl")
    # Virtual-hosted style (BUCKET.s3.localhost, which curl resolves to
    # loopback): a presigned URL, and curl's own SigV4 signing.
    port = rig.endpoint.rsplit(":", 1)[1]
    vh = boto3.client("s3", endpoint_url=f"http://s3.localhost:{port}", aws_access_key_id=AK,
                      aws_secret_access_key=SK, region_name="us-east-1",
                      config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
    url = vh.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "dir/a b.txt"},
                                    ExpiresIn=300)
    ck.check(url.startswith(f"http://{b}.s3.localhost:{port}/dir/"), f"virtual-hosted URL: {url}")
    got = subprocess.run(["curl", "-sf", url], capture_output=True).stdout
    ck.check(got == SMALL["dir/a b.txt"], "virtual-hosted presigned GET")
    sig = ["curl", "-sf", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{AK}:{SK}"]
    p = subprocess.run(sig + ["-X", "PUT", "--data-binary", "curl-signed", "-H",
                              "x-amz-content-sha256: " + sha(b"curl-signed"),
                              f"http://{b}.s3.localhost:{port}/curl%20put.txt"], capture_output=True)
    ck.check(p.returncode == 0, f"curl --aws-sigv4 virtual-hosted PUT: {p.stderr[-200:]}")
    # As against AWS, a SigV4 request needs x-amz-content-sha256.
    got = subprocess.run(sig + ["-H", "x-amz-content-sha256: " + sha(b""),
                                f"http://{b}.s3.localhost:{port}/curl%20put.txt"],
                         capture_output=True).stdout
    ck.check(got == b"curl-signed", "curl --aws-sigv4 virtual-hosted GET")
    s3.delete_object(Bucket=b, Key="curl put.txt")
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k} for k in KEYS] +
                                              [{"Key": "big.bin"}, {"Key": "big-multipart.bin"}]})
    ck.check(len(out.get("Deleted", [])) == len(KEYS) + 2 and not out.get("Errors"),
             f"boto3 batch delete: {out.get('Errors')}")
    ck.check(s3.list_objects_v2(Bucket=b).get("KeyCount") == 0, "boto3 bucket empty after batch delete")


# ---- aws-cli ----

def do_awscli(rig, ck, tmp, paths):
    b = "awscli-bucket"
    cfg = os.path.join(tmp, "aws-config")
    with open(cfg, "w") as f:
        f.write("[default]\nregion = us-east-1\n")
    env = {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK, "AWS_CONFIG_FILE": cfg,
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"), "AWS_PAGER": "",
           "AWS_EC2_METADATA_DISABLED": "true"}
    aws = ["/usr/bin/aws", "--endpoint-url", rig.endpoint, "--output", "json"]

    def a(what, *args):
        return run(ck, f"aws-cli {what}", aws + list(args), env)

    a("create-bucket", "s3api", "create-bucket", "--bucket", b)
    for k in KEYS:
        a(f"cp {k!r}", "s3", "cp", "--only-show-errors", paths[k], f"s3://{b}/{k}")
        got = a(f"get {k!r}", "s3", "cp", "--only-show-errors", f"s3://{b}/{k}", "-")
        ck.check(sha(got) == sha(SMALL[k]), f"aws-cli get {k!r}")
    a("cp big (multipart)", "s3", "cp", "--only-show-errors", paths["big"], f"s3://{b}/big.bin")
    got = a("get big", "s3", "cp", "--only-show-errors", f"s3://{b}/big.bin", "-")
    ck.check(sha(got) == sha(BIG), "aws-cli big get")
    out = json.loads(a("list", "s3api", "list-objects-v2", "--bucket", b, "--prefix", "dir/",
                       "--delimiter", "/"))
    ck.check(sorted(o["Key"] for o in out.get("Contents", [])) == DIR_FILES, "aws-cli list keys")
    ck.check([p["Prefix"] for p in out.get("CommonPrefixes", [])] == ["dir/sub/"],
             "aws-cli list common prefixes")
    head = json.loads(a("head", "s3api", "head-object", "--bucket", b, "--key", "big.bin"))
    ck.check(head.get("ContentLength") == len(BIG), "aws-cli head length")
    rng = os.path.join(tmp, "range.out")
    a("ranged get", "s3api", "get-object", "--bucket", b, "--key", "big.bin", "--range",
      "bytes=5-1048580", rng)
    with open(rng, "rb") as f:
        ck.check(f.read() == BIG[5:1048581], "aws-cli ranged get bytes")
    # s3rver cannot copy from keys with '=' or '&' (it mis-decodes
    # x-amz-copy-source); a key with a space and a unicode one it can.
    a("copy", "s3", "cp", "--only-show-errors", f"s3://{b}/{KEYS[4]}", f"s3://{b}/copied.txt")
    got = a("get copy", "s3", "cp", "--only-show-errors", f"s3://{b}/copied.txt", "-")
    ck.check(got == SMALL[KEYS[4]], "aws-cli copy")
    origin_has(rig, ck, "aws-cli", b)
    a("rm", "s3", "rm", "--only-show-errors", f"s3://{b}/copied.txt")
    objs = json.dumps({"Objects": [{"Key": k} for k in KEYS + ["big.bin"]]})
    out = json.loads(a("delete-objects", "s3api", "delete-objects", "--bucket", b, "--delete", objs))
    ck.check(len(out.get("Deleted", [])) == len(KEYS) + 1, "aws-cli batch delete")
    out = json.loads(a("list after", "s3api", "list-objects-v2", "--bucket", b) or b"{}")
    ck.check(not out.get("Contents"), "aws-cli bucket empty after deletes")


# ---- s3cmd ----

def do_s3cmd(rig, ck, tmp, paths):
    b = "s3cmd-bucket"
    cfg = os.path.join(tmp, "s3cfg")
    hostport = rig.endpoint[len("http://"):]
    with open(cfg, "w") as f:
        f.write(f"[default]\naccess_key = {AK}\nsecret_key = {SK}\nhost_base = {hostport}\n"
                f"host_bucket = {hostport}\nuse_https = False\nsignature_v2 = False\n"
                "bucket_location = us-east-1\nmultipart_chunk_size_mb = 8\n")
    s = ["s3cmd", "-c", cfg, "--no-progress"]

    def c(what, *args):
        return run(ck, f"s3cmd {what}", s + list(args))

    c("mb", "mb", f"s3://{b}")
    for k in KEYS:
        c(f"put {k!r}", "put", paths[k], f"s3://{b}/{k}")
        out = os.path.join(tmp, "s3cmd.out")
        c(f"get {k!r}", "get", "--force", f"s3://{b}/{k}", out)
        with open(out, "rb") as f:
            ck.check(sha(f.read()) == sha(SMALL[k]), f"s3cmd get {k!r}")
    c("put big (multipart)", "put", paths["big"], f"s3://{b}/big.bin")
    out = os.path.join(tmp, "s3cmd.big")
    c("get big", "get", "--force", f"s3://{b}/big.bin", out)
    with open(out, "rb") as f:
        ck.check(sha(f.read()) == sha(BIG), "s3cmd big get")
    ls = c("ls", "ls", f"s3://{b}/dir/").decode()
    ck.check(all(f"s3://{b}/{k}" in ls for k in DIR_FILES) and f"s3://{b}/dir/sub/" in ls,
             f"s3cmd ls with prefix and delimiter: {ls}")
    # s3cmd info and cp read the object ACL, whose s3rver rendering s3cmd
    # cannot parse; ls answers the head question, cp --acl-private skips it.
    info = c("ls object", "ls", f"s3://{b}/big.bin").decode()
    ck.check(str(len(BIG)) in info, f"s3cmd ls shows the size: {info}")
    c("cp", "cp", "--acl-private", f"s3://{b}/dir/pct%41.txt", f"s3://{b}/copied.txt")
    c("get copy", "get", "--force", f"s3://{b}/copied.txt", out)
    with open(out, "rb") as f:
        ck.check(f.read() == SMALL["dir/pct%41.txt"], "s3cmd copy")
    origin_has(rig, ck, "s3cmd", b)
    c("del", "del", f"s3://{b}/copied.txt")
    c("del recursive (batch)", "del", "--recursive", "--force", f"s3://{b}/")
    ls = c("ls after", "ls", "--recursive", f"s3://{b}/").decode()
    ck.check(ls.strip() == "", f"s3cmd bucket empty after deletes: {ls}")


# ---- rclone ----

def do_rclone(rig, ck, tmp, paths):
    b = "rclone-bucket"
    env = {"RCLONE_CONFIG": os.path.join(tmp, "rclone.conf"),
           "RCLONE_CONFIG_T_TYPE": "s3", "RCLONE_CONFIG_T_PROVIDER": "Other",
           "RCLONE_CONFIG_T_ENDPOINT": rig.endpoint, "RCLONE_CONFIG_T_ACCESS_KEY_ID": AK,
           "RCLONE_CONFIG_T_SECRET_ACCESS_KEY": SK, "RCLONE_CONFIG_T_REGION": "us-east-1",
           "RCLONE_CONFIG_T_FORCE_PATH_STYLE": "true"}
    r = ["rclone", "--retries", "1", "--low-level-retries", "1", "--s3-upload-cutoff", "5M",
         "--s3-chunk-size", "5M"]

    def c(what, *args):
        return run(ck, f"rclone {what}", r + list(args), env)

    c("mkdir", "mkdir", f"t:{b}")
    for k in KEYS:
        c(f"copyto {k!r}", "copyto", paths[k], f"t:{b}/{k}")
        ck.check(sha(c(f"cat {k!r}", "cat", f"t:{b}/{k}")) == sha(SMALL[k]), f"rclone get {k!r}")
    c("copyto big (multipart)", "copyto", paths["big"], f"t:{b}/big.bin")
    ck.check(sha(c("cat big", "cat", f"t:{b}/big.bin")) == sha(BIG), "rclone big get")
    got = c("ranged cat", "cat", "--offset", "1000", "--count", "70000", f"t:{b}/big.bin")
    ck.check(got == BIG[1000:71000], "rclone ranged get")
    lsf = c("lsf", "lsf", f"t:{b}/dir/").decode().split("\n")
    ck.check(sorted(x for x in lsf if x) == sorted([k[4:] for k in DIR_FILES] + ["sub/"]),
             f"rclone lsf with prefix and delimiter: {lsf}")
    st = json.loads(c("stat", "lsjson", "--stat", f"t:{b}/big.bin"))
    ck.check(st.get("Size") == len(BIG), "rclone head (stat) size")
    c("server-side copy", "copyto", f"t:{b}/dir/a b.txt", f"t:{b}/copied.txt")
    ck.check(c("cat copy", "cat", f"t:{b}/copied.txt") == SMALL["dir/a b.txt"], "rclone copy")
    origin_has(rig, ck, "rclone", b)
    c("deletefile", "deletefile", f"t:{b}/copied.txt")
    c("delete (batch)", "delete", f"t:{b}")
    left = c("ls after", "ls", f"t:{b}").decode().strip()
    ck.check(left == "", f"rclone bucket empty after deletes: {left}")


# ---- AWS SDK for JavaScript v3 ----

def do_jssdk(rig, ck, tmp, paths):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jsclient.mjs")
    env = {"NODE_PATH": os.path.join(TOP, "tests", "origin", "node_modules"),
           "ENDPOINT": rig.endpoint, "AK": AK, "SK": SK, "TMP": tmp,
           "KEYS": json.dumps(KEYS), "BIG": paths["big"]}
    out = run(ck, "js sdk", ["node", script], env)
    try:
        res = json.loads(out.decode().strip().split("\n")[-1])
    except (ValueError, IndexError):
        ck.check(False, f"js sdk output: {out[-500:]}")
        return
    for k in KEYS:
        ck.check(res["get"].get(k) == sha(SMALL[k]), f"js sdk get {k!r}")
    ck.check(res["big"] == sha(BIG), "js sdk big get (streamed upload)")
    ck.check(res["range"] == sha(BIG[7:70007]), "js sdk ranged get")
    ck.check(sorted(res["list"]) == DIR_FILES and res["prefixes"] == ["dir/sub/"], "js sdk list")
    ck.check(res["head"] == len(BIG), "js sdk head")
    ck.check(res["copy"] == sha(SMALL["plain.txt"]), "js sdk copy")
    ck.check(res["deleted"] == len(KEYS) + 1 and res["left"] == 0, "js sdk delete and batch delete")
    ck.check(res.get("error") is None, f"js sdk error: {res.get('error')}")


def main():
    ck = Checks("clients" if os.environ.get("CLIENTS_ROLE", "gateway") == "gateway" else
                "clients-" + os.environ["CLIENTS_ROLE"])
    tmp = tempfile.mkdtemp(prefix="cachalot-clients-")
    paths = files(tmp)
    only = sys.argv[1:] or ["boto3", "awscli", "s3cmd", "rclone", "jssdk"]
    # CLIENTS_ROLE=serve runs the same through the block cache.
    role = os.environ.get("CLIENTS_ROLE", "gateway")
    with Rig(role=role, extra=["--virtual-host-domain", "s3.localhost"]) as rig:
        for name in only:
            before = ck.failed
            try:
                if name == "boto3":
                    do_boto3(rig, ck, tmp)
                elif name == "awscli":
                    do_awscli(rig, ck, tmp, paths)
                elif name == "s3cmd":
                    do_s3cmd(rig, ck, tmp, paths)
                elif name == "rclone":
                    do_rclone(rig, ck, tmp, paths)
                elif name == "jssdk":
                    do_jssdk(rig, ck, tmp, paths)
            except Exception as e:  # a client crash is a failure, not an abort
                ck.check(False, f"{name}: {type(e).__name__}: {e}")
            c = rig.counts()
            ck.check(c["bad_signature"] == 0, f"{name}: origin refused {c['bad_signature']} requests "
                     "signed by Cachalot")
            print(f"{name}: {'ok' if ck.failed == before else 'FAILED'} "
                  f"(origin saw {c['requests']} requests)", flush=True)
            rig.reset()
        ck.check(rig.alive(), "cachalot still running")
        if ck.failed:
            sys.stderr.write(rig.log()[-6000:])
    ck.check(not rig.sanitizer, f"sanitizers quiet: {rig.sanitizer[:3]}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
