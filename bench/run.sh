#!/usr/bin/env bash
# bench/run.sh — runs every benchmark in bench/ (make bench). Results land in build/bench/.
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
status=0
for b in "$DIR"/*.sh; do
  [ "$(basename "$b")" = run.sh ] && continue
  echo "== $(basename "$b")"
  bash "$b" || { echo "bench: $(basename "$b") failed" >&2; status=1; }
done
exit $status
