#!/usr/bin/env bash
# Builds profilestore's applications and runs the main job: for now the
# single-node quickstart (the actor runtime: a session on a typed profile in
# an embedded LMDB, changed, ended, read back), then the storage tour (the
# storage layer alone: saves, a message, versions listed, an old version read
# back). Installs the Debian packages it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=${PROFILESTORE_BUILD_DIR:-build}/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" \
  --target profilestore-quickstart profilestore-storage-tour
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
echo "== profilestore-quickstart (actors, LMDB in $db)"
"$build/apps/profilestore-quickstart" --db "$db/quickstart"
echo
echo "== profilestore-storage-tour (the storage layer on its own)"
"$build/apps/profilestore-storage-tour"
