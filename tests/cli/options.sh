#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The options the binary knows (its --help, printed from the option table)
# against cachalot.conf.example and docs/CONFIG.md: each option is in both,
# neither names an option that does not exist, the example lists each once
# and commented out, and uncommented it is a configuration the binary takes.
set -u
bin=${CACHALOT_BIN:-./cachalot}
top=$(cd "$(dirname "$0")/../.." && pwd)
ex=$top/cachalot.conf.example
doc=$top/docs/CONFIG.md
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
unset CACHALOT_SECRET_KEY CACHALOT_ORIGIN_SECRET_KEY
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every option line of `cachalot --help` ("  --name ARG  help"), but the two
# that are no keys.
"$bin" --help | sed -n 's/^  --\([a-z0-9-]*\) .*/\1/p' | grep -vx -e config -e help | sort >"$tmp/bin"
sort -u "$tmp/bin" -o "$tmp/bin"
n=$(wc -l <"$tmp/bin")
# A --help that lists nothing would make every check below pass.
if [ "$n" -ge 30 ]; then ok; else bad "cachalot --help lists $n options; its format changed?"; fi

sed -n 's/^#\([a-z][a-z0-9-]*\) = .*/\1/p' "$ex" | sort >"$tmp/ex.all"
sort -u "$tmp/ex.all" >"$tmp/ex"
sed -n '/^## Options$/,/^## [^O]/s/^| `\([a-z0-9-]*\)` |.*/\1/p' "$doc" | sort >"$tmp/doc.all"
sort -u "$tmp/doc.all" >"$tmp/doc"

compare() { # compare WHAT FILE
	local what=$1 f=$2 o
	for o in $(comm -23 "$tmp/bin" "$f"); do bad "$what does not list option '$o'"; done
	for o in $(comm -13 "$tmp/bin" "$f"); do bad "$what lists '$o', which is no option"; done
	for o in $(uniq -d "$f.all"); do bad "$what lists '$o' more than once"; done
	if comm -3 "$tmp/bin" "$f" | grep -q . || uniq -d "$f.all" | grep -q .; then return; fi
	ok
}
compare cachalot.conf.example "$tmp/ex"
compare docs/CONFIG.md "$tmp/doc"

# Commented out, every one: the file documents, it sets nothing.
if grep -nE '^[[:space:]]*[a-z]' "$ex" >"$tmp/set"; then
	bad "cachalot.conf.example sets options instead of showing them commented out: $(cat "$tmp/set")"
else
	ok
fi

# Uncommented, the binary takes it: presign reads the whole configuration and
# prints a URL from it without starting anything.
sed 's/^#\([a-z]\)/\1/' "$ex" >"$tmp/all.conf"
out=$("$bin" presign s3://b/k --config "$tmp/all.conf" 2>&1); rc=$?
if [ "$rc" = 0 ] && grep -qE '^http://127\.0\.0\.1:9000/b/k\?X-Amz-Algorithm=' <<<"$out"; then
	ok
else
	bad "uncommented cachalot.conf.example: exit $rc: $out"
fi

echo "options: $pass passed, $fail failed"
[ "$fail" = 0 ]
