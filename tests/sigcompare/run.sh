#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs compare.py with Debian's botocore against the sigtool built here.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tool=${SIGTOOL:-$(dirname "$CACHALOT_BIN")/tests/sigcompare/sigtool}
exec /usr/bin/python3 "$here/compare.py" "$tool" "${SIGCOMPARE_COUNT:-1500}"
