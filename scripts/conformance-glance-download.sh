#!/usr/bin/env bash
# glance-download with Debian's Glance as the other region (conformance/glance-download-from-glance.ts).
# Installs Debian's glance-api and keystone when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-missing.sh
install_missing glance-api:glance-api keystone-manage:keystone qemu-img:qemu-utils
npm run --silent build
exec node --import tsx conformance/glance-download-from-glance.ts "$@"
