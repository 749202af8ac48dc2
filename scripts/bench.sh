#!/usr/bin/env bash
# `npm run bench [-- --peer glance] [-- --backend pg-s3] [-- --smoke]`: installs what the
# benchmark needs from Debian when missing (wrk, qemu-utils, curl; glance-api for --peer glance;
# PostgreSQL and Swift for --backend pg-s3), builds, and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-missing.sh

needs=(wrk:wrk qemu-img:qemu-utils curl:curl openssl:openssl)
if [[ " $* " == *" --peer glance "* || " $* " == *" --peer=glance "* ]]; then
  needs+=(glance-api:glance-api)
fi
if [[ " $* " == *" --backend pg-s3 "* || " $* " == *" --backend=pg-s3 "* ]]; then
  needs+=('/usr/lib/postgresql/*/bin/initdb:postgresql' psql:postgresql-client swift-proxy-server:swift-proxy
    swift-object-server:swift-object swift-container-server:swift-container swift-account-server:swift-account
    memcached:memcached)
fi
install_missing "${needs[@]}"

npm run --silent build
exec node --import tsx bench/run.ts "$@"
