#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's run command with no origin configured: scripts/serve starts
# the bundled demo origin and Cachalot, prints the endpoint and credentials,
# and the next thing a newcomer types (aws s3 ls) works with them; the
# printed command works when pasted as it is.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
lp=$(free_port) ap=$(free_port) op=$(free_port)
out=$(mktemp)
CACHALOT_DEMO_ORIGIN_PORT=$op "$top/scripts/serve" --listen "127.0.0.1:$lp" \
	--admin-listen "127.0.0.1:$ap" >"$out" 2>&1 &
pid=$!
for _ in $(seq 600); do
	grep -q "is serving S3" "$out" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
check 'grep -q "is serving S3 on http://127.0.0.1:$lp" "$out"' "serve prints its endpoint: $(tail -5 "$out")"
creds=$(grep -o 'AWS_ACCESS_KEY_ID=[^ ]* AWS_SECRET_ACCESS_KEY=[^ ]* AWS_DEFAULT_REGION=[^ ]*' "$out" | head -1)
check '[ -n "$creds" ]' "serve prints the credentials to use"
unset AWS_CA_BUNDLE AWS_PROFILE
aws() { env $creds AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_EC2_METADATA_DISABLED=true /usr/bin/aws --endpoint-url "http://127.0.0.1:$lp" "$@"; }
buckets=$(aws s3 ls 2>&1)
check 'grep -q " demo$" <<<"$buckets"' "aws s3 ls lists the demo bucket: $buckets"
objects=$(aws s3 ls --recursive s3://demo/ 2>&1)
check 'grep -q "hello.txt" <<<"$objects" && grep -q "models/weights.bin" <<<"$objects"' \
	"aws s3 ls s3://demo/ lists the sample objects: $objects"
hello=$(aws s3 cp s3://demo/hello.txt - 2>&1)
check '[ "$hello" = "Hello from the Cachalot demo origin." ]' "aws s3 cp reads a sample: $hello"
check 'curl -sf "http://127.0.0.1:$ap/healthz" | grep -q ok' "healthz answers"
# What serve prints works as printed (#10 item 5): no placeholder to fill
# in, the command after "paste this" run as a shell runs a pasted line, in
# an environment with no AWS settings, lists the demo bucket; the printed
# health URL answers.
check '! grep -q "=\.\.\." "$out"' "no placeholder in what serve prints: $(grep -n "=\.\.\." "$out")"
pasted=$(grep -A1 "paste this" "$out" | sed -n 2p)
check '[ -n "$pasted" ]' "serve prints a command to paste: $(head -12 "$out")"
home=$(mktemp -d)
listing=$(cd "$home" && env -i PATH="$PATH" HOME="$home" AWS_CONFIG_FILE=/dev/null \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true bash -c "$pasted" 2>&1)
prc=$?
rm -rf "$home"
check '[ "$prc" = 0 ] && grep -q "hello.txt" <<<"$listing"' \
	"the pasted command works: rc=$prc: $pasted: $listing"
health=$(grep -o "Health and metrics: http://[^ ]*/healthz" "$out" | head -1 | sed 's/^Health and metrics: //')
check '[ -n "$health" ] && curl -sf "$health" | grep -q ok' "the printed health URL answers: $health"
origin_pid=$(pgrep -P "$pid" -f s3rver.js || true)
kill -TERM "$pid"
wait "$pid" 2>/dev/null
sleep 0.5
check '[ -z "$origin_pid" ] || ! kill -0 "$origin_pid" 2>/dev/null' "stopping serve stops the demo origin"
check '! curl -s -o /dev/null "http://127.0.0.1:$lp/"' "cachalot stopped"
[ "$fail" = 0 ] || cat "$out"
rm -f "$out"
echo "serve_demo: $pass passed, $fail failed"
[ "$fail" = 0 ]
