#!/usr/bin/env bash
# `npm run bench [-- --peer glance] [-- --smoke]`: installs what the benchmark needs from Debian
# when missing (wrk, qemu-utils, curl; glance-api for --peer glance), builds, and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
command -v wrk >/dev/null 2>&1 || need_packages+=(wrk)
command -v qemu-img >/dev/null 2>&1 || need_packages+=(qemu-utils)
command -v curl >/dev/null 2>&1 || need_packages+=(curl)
command -v openssl >/dev/null 2>&1 || need_packages+=(openssl)
if [[ " $* " == *" --peer glance "* || " $* " == *" --peer=glance "* ]]; then
  command -v glance-api >/dev/null 2>&1 || need_packages+=(glance-api)
fi
if [ ${#need_packages[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q "${need_packages[@]}" >/dev/null
fi

npm run --silent build
exec node --import tsx bench/run.ts "$@"
