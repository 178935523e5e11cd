#!/usr/bin/env bash
# Builds profilestore and runs every test: first a normal build, then a second
# build under AddressSanitizer and UndefinedBehaviorSanitizer. Installs the
# Debian packages it needs first. Usage: scripts/test.sh [extra ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
build=${PROFILESTORE_BUILD_DIR:-build}

echo "== release build and tests" >&2
cmake -S . -B "$build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPROFILESTORE_WERROR=ON
cmake --build "$build/release" -j"$jobs"
ctest --test-dir "$build/release" --output-on-failure -j"$((jobs + 1))" "$@"

echo "== sanitizer build (ASan + UBSan) and tests" >&2
cmake -S . -B "$build/sanitize" -DCMAKE_BUILD_TYPE=Debug \
  -DPROFILESTORE_SANITIZE=ON -DPROFILESTORE_WERROR=ON \
  -DPROFILESTORE_BUILD_BENCH=OFF
cmake --build "$build/sanitize" -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$build/sanitize" --output-on-failure -j"$((jobs + 1))" "$@"
echo "== all tests passed" >&2
