#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No build products in the repository (#10 item 19): compiled Python
# (__pycache__/ directories, *.pyc, *.pyo) was once committed. Fails when any
# tracked file is one. CI runs in a git clone, so git missing or no checkout
# is a failure, not a skip.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v git >/dev/null 2>&1; then
	echo "FAIL: git is not installed (this test reads the tracked files with git ls-files)"
	echo "hygiene: 0 passed, 1 failed"
	exit 1
fi
if ! files=$(git -C "$top" ls-files -z 2>&1 | tr '\0' '\n'); then
	echo "FAIL: $top is not a git checkout: $files"
	echo "hygiene: 0 passed, 1 failed"
	exit 1
fi
pass=0 fail=0
if [ -z "$files" ]; then
	fail=$((fail + 1)); echo "FAIL: git ls-files lists nothing in $top"
else
	pass=$((pass + 1))
fi
bad=$(grep -E '(^|/)__pycache__/|\.py[co]$' <<<"$files" || true)
if [ -n "$bad" ]; then
	fail=$((fail + 1))
	echo "FAIL: compiled Python is tracked (git rm --cached it; .gitignore has __pycache__/ and *.pyc):"
	sed 's/^/  /' <<<"$bad"
else
	pass=$((pass + 1))
fi
echo "hygiene: $pass passed, $fail failed"
[ "$fail" = 0 ]
