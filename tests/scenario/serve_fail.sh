#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/serve leaves no process behind, whichever way it ends (#10 item 4):
#   - Cachalot cannot start: its S3 port, or its admin port, is held by
#     another socket: serve exits non-zero, saying why;
#   - Cachalot is killed (SIGKILL) while serving: serve exits non-zero;
#     the demo origin is killed: serve stops Cachalot, exits non-zero;
#   - Ctrl-C (SIGINT to serve's whole process group), and SIGINT, SIGTERM,
#     SIGHUP to serve alone;
# and each time the demo origin is stopped too: its port no longer listens
# and no process of serve's process group (its own session) survives.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
tmp=$(mktemp -d)
holder=

# A plain listening socket (no SO_REUSEPORT) on a port, until killed.
hold() {
	/usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); print("held", flush=True); time.sleep(3600)' "$1" \
		>"$tmp/hold.out" 2>&1 &
	holder=$!
	for _ in $(seq 100); do grep -q held "$tmp/hold.out" && return 0; sleep 0.05; done
	return 1
}
unhold() { [ -n "$holder" ] && kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=; }

# serve in a session of its own (its pid is its process group), output to
# $out, with SIGINT as a terminal's foreground job has it: a background job
# of this script would start with SIGINT ignored, which no trap can undo.
start_serve() {
	out="$tmp/serve.$1.out"
	CACHALOT_DEMO_ORIGIN_PORT=$op /usr/bin/python3 -c 'import os, signal, sys
os.setsid()
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$top/scripts/serve" --listen "127.0.0.1:$lp" \
		--admin-listen "127.0.0.1:$ap" >"$out" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		[ "$(ps -o pgid= -p "$spid" | tr -d " ")" = "$spid" ] && break
		sleep 0.05
	done
}
# Waits (bounded) for serve to end; sets rc.
wait_serve() {
	rc=
	for _ in $(seq "${1:-1200}"); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$spid" 2>/dev/null; then
		rc=timeout
	else
		wait "$spid"
		rc=$?
	fi
}
# What is left of serve's process group after it ended (bounded wait).
leftovers() {
	local left
	for _ in $(seq 50); do
		left=$(pgrep -g "$spid" 2>/dev/null || true)
		[ -z "$left" ] && ! listening "$op" && return 0
		sleep 0.2
	done
	echo "left: group $spid: $(ps -o pid=,args= -g "$spid" 2>/dev/null | tr '\n' ';')" \
		"origin port $op listening: $(listening "$op" && echo yes || echo no)"
	return 1
}
cleanup_group() { kill -KILL -- "-$spid" 2>/dev/null; }

# 1. and 2.: a port taken.
for which in s3 admin; do
	lp=$(free_port) ap=$(free_port) op=$(free_port)
	[ "$which" = s3 ] && port=$lp || port=$ap
	check 'hold "$port"' "$which: hold port $port"
	start_serve "$which"
	check '[ "$(ps -o pgid= -p "$spid" | tr -d " ")" = "$spid" ]' "$which: serve leads its process group"
	wait_serve
	check '[ "$rc" != timeout ] && [ "$rc" != 0 ]' "$which port taken: serve exits non-zero (rc=$rc): $(tail -5 "$out")"
	if [ "$which" = s3 ]; then flag=--listen; else flag=--admin-listen; fi
	check 'grep -q -- "cannot listen on 127.0.0.1:$port: Address already in use.*$flag HOST:PORT" "$out"' "$which port taken: cachalot says which address, why and which flag: $(tail -5 "$out")"
	check 'grep -q "serve: cachalot exited with status" "$out"' "$which port taken: serve says cachalot ended"
	check '! grep -q "is serving S3" "$out"' "$which port taken: nothing claims to serve"
	check 'leftovers' "$which port taken: no process left behind"
	cleanup_group
	unhold
done

# 3. Cachalot killed while serving.
lp=$(free_port) ap=$(free_port) op=$(free_port)
start_serve killed
for _ in $(seq 1200); do
	grep -q "is serving S3" "$out" && break
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.5
done
check 'grep -q "is serving S3" "$out"' "killed: serve started: $(tail -5 "$out")"
cpid=$(pgrep -g "$spid" -x cachalot || true)
check '[ -n "$cpid" ] && listening "$op"' "killed: cachalot ($cpid) and the demo origin run"
[ -n "$cpid" ] && kill -KILL $cpid
wait_serve 120
check '[ "$rc" != timeout ] && [ "$rc" != 0 ]' "killed: serve exits non-zero (rc=$rc)"
check 'grep -q "serve: cachalot exited with status 137" "$out"' "killed: serve says so: $(tail -3 "$out")"
check 'leftovers' "killed: no process left behind"
cleanup_group

# 3b. The demo origin killed while serving: serve stops cachalot, exits non-zero.
lp=$(free_port) ap=$(free_port) op=$(free_port)
start_serve origin-killed
for _ in $(seq 1200); do
	grep -q "is serving S3" "$out" && break
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.5
done
opid=$(pgrep -g "$spid" -f s3rver.js || true)
check 'grep -q "is serving S3" "$out" && [ -n "$opid" ]' "origin killed: serve started, origin $opid"
[ -n "$opid" ] && kill -KILL $opid
wait_serve 120
check '[ "$rc" != timeout ] && [ "$rc" != 0 ]' "origin killed: serve exits non-zero (rc=$rc)"
check 'grep -q "serve: the demo origin exited" "$out"' "origin killed: serve says so: $(tail -3 "$out")"
check 'leftovers' "origin killed: no process left behind"
check '! listening "$lp"' "origin killed: cachalot no longer listens"
cleanup_group

# 4. Signals: Ctrl-C (SIGINT to the whole group: cachalot takes it too and
# stops with status 0, so serve may end 0), and SIGINT, SIGTERM, SIGHUP to
# serve alone (it ends 128 + the signal).
for how in group-INT INT TERM HUP; do
	lp=$(free_port) ap=$(free_port) op=$(free_port)
	start_serve "$how"
	for _ in $(seq 1200); do
		grep -q "is serving S3" "$out" && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.5
	done
	check 'grep -q "is serving S3" "$out" && listening "$op"' "$how: serve started: $(tail -5 "$out")"
	case "$how" in
	group-INT) kill -INT -- "-$spid"; want="0 130" ;;
	INT) kill -INT "$spid"; want=130 ;;
	TERM) kill -TERM "$spid"; want=143 ;;
	HUP) kill -HUP "$spid"; want=129 ;;
	esac
	wait_serve 120
	check 'grep -qw -- "$rc" <<<"$want"' "$how: serve exits with $want (rc=$rc)"
	check 'leftovers' "$how: no process left behind"
	check '! listening "$lp"' "$how: cachalot no longer listens"
	cleanup_group
done

[ "$fail" = 0 ] || for f in "$tmp"/serve.*.out; do echo "== $f"; tail -20 "$f"; done
rm -rf "$tmp"
echo "serve_fail: $pass passed, $fail failed"
[ "$fail" = 0 ]
