#!/usr/bin/env bash
# Builds profilestore's applications and runs the main job: profilestore-demo,
# a cluster on 127.0.0.1 (one storage node and three game node processes,
# LMDB in a temporary folder) with simulated players joining, leaving,
# hopping between game nodes, trading and receiving gifts for about 20 s,
# then a summary and the invariant checks (exit 1 if one fails). Then the
# single-node quickstart, the example the README shows in full. Installs the
# Debian packages it needs first. Extra arguments go to profilestore-demo
# (e.g. --kill, --seconds 60, --players 100).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=${PROFILESTORE_BUILD_DIR:-build}/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" \
  --target profilestore-demo profilestore-node profilestore-quickstart
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
echo "== profilestore-demo (a cluster of profilestore-node processes)"
"$build/apps/demo/profilestore-demo" "$@"
echo
echo "== profilestore-quickstart (one node, LMDB in $db)"
"$build/apps/profilestore-quickstart" --db "$db/quickstart"
