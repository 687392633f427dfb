#!/usr/bin/env bash
# Loads swarmlab's tracker and opentracker with the same announces and
# prints their throughput side by side (UDP and HTTP, with the ratio), then
# swarmlab's memory per peer. Needs opentracker (apt-get install
# opentracker). Extra arguments go to the runner, e.g. -runs 5 -duration 20s;
# see `go run ./tracker -h`.
set -euo pipefail
cd "$(dirname "$0")"
exec go run ./tracker "$@"
