#!/usr/bin/env bash
# Installs the Debian 12 packages profilestore needs to build, test and run,
# skipping those already installed. Run as root (or with sudo available).
# Everything comes from Debian's own repositories; nothing else is downloaded.
set -euo pipefail

packages=(
  build-essential cmake git pkg-config
  libcaf-dev libssl-dev          # CAF 0.17 (core, io, openssl)
  libmsgpack-cxx-dev libboost-dev
  liblmdb-dev lmdb-utils
  libjemalloc-dev                # malloc of profilestore-node and -bench
  doctest-dev nlohmann-json3-dev
  procps                         # ps/pkill, used by multi-process tests
  openssl                        # test certificates for the TLS tests
  gnuplot-nox                    # profilestore-bench --report charts
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "error: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
