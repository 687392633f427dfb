#!/usr/bin/env bash
# Benchmarks swarmlab's bencode against the references and prints a table of
# ours/reference ratios. Extra arguments go to `go test` (e.g. -benchtime 2s).
# The raw `go test` output is kept in $OUT (default: a temp file) so the
# table can be re-made or compared with benchstat later.
set -euo pipefail
cd "$(dirname "$0")"
COUNT=${COUNT:-5}
OUT=${OUT:-$(mktemp -t swarmlab-bencode-bench.XXXXXX)}
go test -run '^$' -bench . -benchmem -count "$COUNT" "$@" ./bencode | tee "$OUT" | go run ./cmd/benchtable
echo "raw output: $OUT"
