#!/usr/bin/env bash
# Builds profilestore's applications and runs the main job: for now the
# storage tour (an embedded LMDB in a temporary folder: a session, saves,
# a message, versions listed, an old version read back). Installs the Debian
# packages it needs first. Extra arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=${PROFILESTORE_BUILD_DIR:-build}/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target profilestore-storage-tour
exec "$build/apps/profilestore-storage-tour" "$@"
