#!/usr/bin/env bash
# Runs Tempest's image v2 API suite against Vitrine in Keystone mode (conformance/tempest.ts).
# Installs Debian's tempest and keystone when missing; about a minute once installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-missing.sh
install_missing tempest:tempest keystone-manage:keystone
npm run --silent build
exec node --import tsx conformance/tempest.ts "$@"
