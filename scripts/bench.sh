#!/usr/bin/env bash
# `npm run bench [-- --peer glance] [-- --smoke]`: installs what the benchmark needs from Debian
# when missing (wrk, qemu-utils, curl; glance-api for --peer glance), builds, and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-missing.sh

needs=(wrk:wrk qemu-img:qemu-utils curl:curl openssl:openssl)
if [[ " $* " == *" --peer glance "* || " $* " == *" --peer=glance "* ]]; then
  needs+=(glance-api:glance-api)
fi
install_missing "${needs[@]}"

npm run --silent build
exec node --import tsx bench/run.ts "$@"
