// SPDX-License-Identifier: Apache-2.0
// The AWS SDK for JavaScript v3 with its defaults (flexible checksums,
// streamed bodies) through Cachalot. Prints one JSON line of results.
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(join(process.env.NODE_PATH, "x.js"));
const {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, CopyObjectCommand, DeleteObjectCommand, DeleteObjectsCommand,
} = require("@aws-sdk/client-s3");

const s3 = new S3Client({
  endpoint: process.env.ENDPOINT, region: "us-east-1", forcePathStyle: true,
  credentials: { accessKeyId: process.env.AK, secretAccessKey: process.env.SK },
});
const keys = JSON.parse(process.env.KEYS);
const B = "jssdk-bucket";
const sha = (b) => createHash("sha256").update(b).digest("hex");
const body = async (r) => Buffer.from(await r.Body.transformToByteArray());
const res = { get: {} };
try {
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  for (const [i, k] of keys.entries()) {
    const { readFileSync } = await import("node:fs");
    const data = readFileSync(join(process.env.TMP, `small${i}`));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: data }));
    res.get[k] = sha(await body(await s3.send(new GetObjectCommand({ Bucket: B, Key: k }))));
  }
  const size = statSync(process.env.BIG).size;
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "big.bin", ContentLength: size,
    Body: createReadStream(process.env.BIG) }));
  res.big = sha(await body(await s3.send(new GetObjectCommand({ Bucket: B, Key: "big.bin" }))));
  res.range = sha(await body(await s3.send(new GetObjectCommand({ Bucket: B, Key: "big.bin",
    Range: "bytes=7-70006" }))));
  const l = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: "dir/", Delimiter: "/" }));
  res.list = (l.Contents || []).map((o) => o.Key);
  res.prefixes = (l.CommonPrefixes || []).map((p) => p.Prefix);
  res.head = (await s3.send(new HeadObjectCommand({ Bucket: B, Key: "big.bin" }))).ContentLength;
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: "copied", CopySource: `${B}/plain.txt` }));
  res.copy = sha(await body(await s3.send(new GetObjectCommand({ Bucket: B, Key: "copied" }))));
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "copied" }));
  const d = await s3.send(new DeleteObjectsCommand({ Bucket: B,
    Delete: { Objects: [...keys, "big.bin"].map((Key) => ({ Key })) } }));
  res.deleted = (d.Deleted || []).length;
  res.left = (await s3.send(new ListObjectsV2Command({ Bucket: B }))).KeyCount;
} catch (e) {
  res.error = `${e.name}: ${e.message}`;
}
console.log(JSON.stringify(res));
