#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The five S3 clients again, through `cachalot serve` and its block cache.
exec env CLIENTS_ROLE=serve /usr/bin/python3 "$(dirname "$0")/clients.py" "$@"
