#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The command line as users and scripts meet it: help texts, exit codes,
# messages for bad values and refused configurations, default ports that let
# roles share a host, the cluster roles' usage errors, presign.
set -u
bin=${CACHALOT_BIN:-./cachalot}
pass=0 fail=0
ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { # expect DESCRIPTION EXIT-CODE PATTERN -- command...
	local what=$1 code=$2 pat=$3; shift 4
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" != "$code" ]; then bad "$what: exit $rc, want $code: $out"; return; fi
	if ! grep -qE -- "$pat" <<<"$out"; then bad "$what: output lacks /$pat/: $out"; return; fi
	ok
}
unset CACHALOT_SECRET_KEY CACHALOT_ORIGIN_SECRET_KEY

expect "top help" 0 "Roles:" -- "$bin" --help
for o in listen admin-listen origin origin-type origin-region origin-access-key \
	origin-secret-key access-key secret-key region data-dir mem-cache disk-cache \
	freshness master virtual-host-domain log-level readahead advertise worker-id weight \
	heartbeat down-after json; do
	expect "help documents --$o" 0 "--$o " -- "$bin" --help
done
expect "serve help shows defaults" 0 "--mem-cache SIZE.*default: 256M" -- "$bin" serve --help
expect "gateway help" 0 "--virtual-host-domain" -- "$bin" gateway --help
expect "no role" 2 "usage: cachalot ROLE" -- "$bin"
expect "unknown role" 2 "unknown role 'frobnicate'" -- "$bin" frobnicate
expect "bad listen" 2 "--listen: invalid value 'nowhere' for listen" -- "$bin" serve --listen nowhere
expect "bad size" 2 "--mem-cache: invalid value '3 apples' for mem-cache" -- "$bin" worker --mem-cache "3 apples"
expect "bad origin type" 2 "invalid value 'gcs' for origin-type" -- "$bin" gateway --origin-type gcs
expect "missing value" 2 "--origin needs a value" -- "$bin" gateway --origin
expect "missing config" 2 "cannot open '/nonexistent.conf'" -- "$bin" serve --config /nonexistent.conf
expect "gateway needs an origin" 2 "no origin: set --origin" -- "$bin" gateway
expect "gateway needs client keys" 2 "no client credentials" -- "$bin" gateway --origin http://127.0.0.1:1 --origin-access-key a --origin-secret-key b
expect "worker needs an origin" 2 "no origin" -- "$bin" worker
expect "master bad listen" 2 "expected IPv4:PORT" -- "$bin" master --listen nowhere:1 --data-dir /tmp/cachalot-cli-test-master
expect "ctl needs a command" 2 "give a command" -- "$bin" ctl --master http://127.0.0.1:1
expect "ctl needs a master" 2 "no master" -- "$bin" ctl status
expect "ctl unknown command" 2 "usage" -- "$bin" ctl frobnicate --master http://127.0.0.1:1
expect "ctl drain needs a worker" 2 "usage" -- "$bin" ctl drain --master http://127.0.0.1:1
expect "ctl master unreachable" 1 "master http://127.0.0.1:1" -- "$bin" ctl status --json --master http://127.0.0.1:1
expect "ctl help" 0 "--json" -- "$bin" ctl --help
expect "presign needs keys" 1 "needs --access-key" -- "$bin" presign s3://b/k
expect "presign bad target" 1 "invalid target" -- "$bin" presign s3://bucketonly --access-key a --secret-key b
expect "presign too long" 1 "expires-in" -- "$bin" presign s3://b/k --access-key a --secret-key b --expires-in 604801
expect "presign URL" 0 '^http://127\.0\.0\.1:9000/b/a%20key%2Bx\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F[0-9]{8}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=[0-9]{8}T[0-9]{6}Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}$' \
	-- "$bin" presign "s3://b/a key+x" --access-key AK --secret-key SK --expires-in 600
expect "presign endpoint" 0 '^https://cache\.example:8443/b/k\?' \
	-- env CACHALOT_SECRET_KEY=SK "$bin" presign s3://b/k --access-key AK --endpoint https://cache.example:8443/

# A key repeated in a config file is refused naming both lines (#10 item 8).
conf=$(mktemp)
printf 'mem-cache = 1M\nlisten = 127.0.0.1:1\n# again:\nmem-cache = 2M\n' >"$conf"
expect "repeated key names both lines" 2 "^cachalot: $conf:4: 'mem-cache' repeats line 1$" -- "$bin" serve --config "$conf"
printf 'credential = a:b\ncredential = c:d\n' >"$conf"
expect "credential may repeat" 0 "^http://" -- "$bin" presign s3://b/k --config "$conf" --access-key a --secret-key b
rm -f "$conf"

# A cache the machine cannot hold is refused at start, exit 2, naming the
# flag, the value and the limit (#10 item 8); the gateway holds none.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# A port P such that P and its derived admin port (P + 10000) are free.
port_pair() { /usr/bin/python3 -c '
import random, socket
for _ in range(200):
    p = random.randint(20000, 45000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
    except OSError:
        continue
    print(p); break'; }
ddir=$(mktemp -d)
keys=(--origin http://127.0.0.1:1 --origin-access-key a --origin-secret-key b --access-key c --secret-key d)
p=$(free_port)
expect "mem-cache above the machine's memory" 2 "^cachalot: --mem-cache: 1000000T is more than the (physical memory|cgroup limit in [^ ]*), [0-9.]+[KMGT]" \
	-- timeout 20 "$bin" serve "${keys[@]}" --listen "127.0.0.1:$p" --data-dir "$ddir/d" --mem-cache 1000000T
expect "disk-cache above the file system" 2 "^cachalot: --disk-cache: 1000000T is more than the file system holding --data-dir \(measured at $ddir\), [0-9.]+[KMGT]" \
	-- timeout 20 "$bin" worker "${keys[@]}" --listen "127.0.0.1:$p" --data-dir "$ddir/not/yet" --disk-cache 1000000T

# admin-listen follows listen (port + 10000), so two servers on one host
# need only their --listen (#10 item 3: all defaulted to 127.0.0.1:9001).
expect "help says admin-listen follows listen" 0 "--admin-listen HOST:PORT .*default: listen's host, port \+ 10000" -- "$bin" serve --help
pa=$(port_pair) pb=$(port_pair)
"$bin" serve "${keys[@]}" --listen "127.0.0.1:$pa" --data-dir "$ddir/a" >"$ddir/a.log" 2>&1 &
pida=$!
"$bin" serve "${keys[@]}" --listen "127.0.0.1:$pb" --data-dir "$ddir/b" >"$ddir/b.log" 2>&1 &
pidb=$!
for _ in $(seq 120); do
	grep -q "admin on" "$ddir/a.log" && grep -q "admin on" "$ddir/b.log" && break
	kill -0 "$pida" 2>/dev/null && kill -0 "$pidb" 2>/dev/null || break
	sleep 0.25
done
for x in "a $pa" "b $pb"; do
	set -- $x
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(($2 + 10000))/healthz")
	if [ "$code" = 200 ]; then ok; else
		bad "serve $1 --listen 127.0.0.1:$2: /healthz on port $(($2 + 10000)) answered '$code': $(cat "$ddir/$1.log")"
	fi
done
kill "$pida" "$pidb" 2>/dev/null
wait "$pida" "$pidb" 2>/dev/null
rm -rf "$ddir"

trace=$(mktemp)
printf 'time,obj_id,obj_size\n1,1,10\n2,2,10\n3,1,10\n4,3,10\n5,1,10\n' >"$trace"
expect "sim replays a CSV trace" 0 "^lru +20 +5 +0\.6000 +0\.6000$" -- "$bin" sim --policy lru --cache-size 20 "$trace"
expect "sim both policies" 0 "^s3fifo " -- "$bin" sim --cache-size 20,1K "$trace"
expect "sim bad policy" 2 "invalid value 'arc' for --policy" -- "$bin" sim --policy arc "$trace"
expect "sim bad size" 2 "invalid value '12Q' for --cache-size" -- "$bin" sim --cache-size 12Q "$trace"
expect "sim needs a trace" 2 "give a trace file" -- "$bin" sim --policy lru
expect "sim missing trace" 1 "cannot open trace" -- "$bin" sim /nonexistent.trace
rm -f "$trace"

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
