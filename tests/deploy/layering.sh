#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The layout of issue #11, checked from the sources (no build needed):
#  1. no include cycle between directories (a directory graph from every
#     #include "dir/file.h" of dir2/*.c|h, dir != dir2);
#  2. no directory includes another's _priv.h;
#  3. every directory exposes one header to the others: <dir>/<dir>.h
#     (common/ is the base of small libraries, each its own header: listed
#     below; cluster/cluster.h includes ring.h, clu_proto.h and clu_auth.h,
#     which no other directory includes itself);
#  4. no file of the sources over 800 lines, but those listed below, which
#     may not grow past the size they are listed at (to be split);
#  5. no role flag (gc->worker, ->cluster, cluster_gateway) tested outside
#     the files listed below, none of which is on the read path: the cached
#     read runs over a block source (struct gw_blksrc_ops) picked once at
#     start by the roles' wiring (cli/cli_roles.c; gw_main.c only copies
#     the wiring into the gateway's conf); and the read path's files name
#     no cluster call (clu_*, the ring): that is the cluster block
#     source's (gw_blksrc_cluster.c);
#  6. the files of cache/ whose code runs under the store's mutex (the
#     single-flight, the metadata, the memory tier) call no file I/O
#     function and no tier below memory: "no file I/O under the store's
#     lock" (#11), whose I/O is the I/O thread's, the writer's and
#     cache_disk.c's start-up scan, called without it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
exec python3 - "$top" <<'PY'
import os, re, sys
top = sys.argv[1]
DIRS = ["common", "s3sig", "http", "origin", "cache", "cluster", "gateway", "cli"]
# Directories whose several public headers are known (why: see above).
MANY_HEADERS = {"common": "the base library: common.h and cm_*.h, one small library each"}
# Files over 800 lines, at most this long until they are split.
BIG = {}
# Files that may test a role, none on the read path: the wiring (picks the
# block source once), the operations endpoints (what /metrics and /readyz
# report of the cluster), and the S3 front end's gate (what a worker
# accepts from whom: it picks the request's ops, before any read).
ROLE_TESTS = {"gateway/gw_admin.c", "gateway/gw_s3.c"}
ROLE_RE = re.compile(r"conf->worker|gc->worker|gc\.worker|conf->cluster\b|gc->cluster\b|cluster_gateway\(")
# gw_run (gw_main.c) tests no role: the wiring (cli/cli_roles.c) decided
# them; it copies the wiring's flags into the gateway's conf, lines of
# exactly this form and nothing else.
ROLE_COPY = {"gateway/gw_main.c": re.compile(r"^\s*gc\.[a-z]+ = w->[a-z]+;\s*$", re.M)}
# The cached read over any block source: no call into the cluster (and
# the end it shares with the pass-through, gw_req.c: counts go through the
# block source's count slot).
READ_PATH = {"gateway/gw_cache.c", "gateway/gw_meta.c", "gateway/gw_fill.c", "gateway/gw_req.c"}
CLUSTER_RE = re.compile(r"\bclu_[a-z_]+\(|\bring_[a-z_]+\(|gw_worker_(targets|all)\(|cluster/")
# Run under the store's lock (cache/cache_priv.h, cache_tiers.c's notes).
UNDER_STORE_LOCK = {"cache/cache_store.c", "cache/cache_meta.c", "cache/cache_tier_mem.c"}
FILE_IO_RE = re.compile(r"(?<![\w>.])(open|openat|creat|read|pread|readv|write|pwrite|writev|"
                        r"fopen|fread|fwrite|fsync|fdatasync|unlink|rename|mkdir|opendir|readdir|"
                        r"stat|fstat|sendfile|splice|ftruncate)\s*\(|\bcache_disk_(get|put|has|"
                        r"meta_put|meta_get|meta_remove|meta_load)\(|\bcache_io_read\(|"
                        r"\bcache_writer_put\(|->below\[")
fails = 0
def bad(msg):
    global fails
    fails += 1
    print("FAIL: " + msg)

inc = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)/([a-z0-9_]+\.h)"', re.M)
edges = {d: set() for d in DIRS}
public = {d: set() for d in DIRS}
for d in DIRS:
    path = os.path.join(top, d)
    if not os.path.isdir(path):
        continue
    for f in sorted(os.listdir(path)):
        if not f.endswith((".c", ".h")):
            continue
        rel = f"{d}/{f}"
        text = open(os.path.join(path, f), encoding="utf-8", errors="replace").read()
        n = text.count("\n")
        limit = BIG.get(rel, 800)
        if n > limit:
            bad(f"{rel}: {n} lines (at most {limit})")
        rtext = ROLE_COPY[rel].sub("", text) if rel in ROLE_COPY else text
        if rel not in ROLE_TESTS and d in ("gateway", "cache", "http", "origin") and ROLE_RE.search(rtext):
            bad(f"{rel} tests a role flag ({ROLE_RE.search(rtext).group(0)})")
        if rel in READ_PATH and CLUSTER_RE.search(text):
            bad(f"{rel}: the read path calls the cluster ({CLUSTER_RE.search(text).group(0)})")
        if rel in UNDER_STORE_LOCK:
            code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
            if FILE_IO_RE.search(code):
                bad(f"{rel} runs under the store's lock and calls {FILE_IO_RE.search(code).group(0)}")
        for m in inc.finditer(text):
            od, oh = m.group(1), m.group(2)
            if od == d or od not in edges:
                continue
            edges[d].add(od)
            if oh.endswith("_priv.h"):
                bad(f"{rel} includes {od}/{oh}, private to {od}/")
            public[od].add(oh)

for d, hs in public.items():
    if len(hs) > 1 and d not in MANY_HEADERS:
        bad(f"{d}/ exposes {len(hs)} headers to the others: {sorted(hs)} (one: {d}/{d}.h)")
    if len(hs) == 1 and d not in MANY_HEADERS and hs != {f"{d}.h"}:
        bad(f"{d}/ exposes {sorted(hs)}, not {d}/{d}.h")

# Cycles: a depth-first search over the directory graph.
state, stack = {}, []
def dfs(u):
    state[u] = 1
    stack.append(u)
    for v in sorted(edges[u]):
        if state.get(v) == 1:
            bad("include cycle between directories: " + " -> ".join(stack[stack.index(v):] + [v]))
        elif v not in state:
            dfs(v)
    stack.pop()
    state[u] = 2
for d in DIRS:
    if d not in state:
        dfs(d)

print("layering: " + ", ".join(f"{d} -> {sorted(edges[d])}" for d in DIRS if edges[d]))
print(f"layering: {'FAIL' if fails else 'ok'} ({fails} problems)")
sys.exit(1 if fails else 0)
PY
