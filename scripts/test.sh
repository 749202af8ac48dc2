#!/usr/bin/env bash
# Runs every test. Installs the Debian packages the tests need when they are missing (the
# machine may be fresh), builds, type-checks and lints, then runs the node test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
command -v qemu-img >/dev/null 2>&1 || need_packages+=(qemu-utils)
command -v genisoimage >/dev/null 2>&1 || need_packages+=(genisoimage)
command -v sfdisk >/dev/null 2>&1 || need_packages+=(fdisk)
command -v openstack >/dev/null 2>&1 || need_packages+=(python3-openstackclient)
command -v glance >/dev/null 2>&1 || need_packages+=(python3-glanceclient)
# Keystone mode is tested against a real Keystone (its package brings uwsgi and the python3 plugin).
command -v keystone-manage >/dev/null 2>&1 || need_packages+=(keystone)
# The benchmark harness's smoke test drives wrk.
command -v wrk >/dev/null 2>&1 || need_packages+=(wrk)
if [ ${#need_packages[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q "${need_packages[@]}" >/dev/null
fi

npm run --silent build
npm run --silent typecheck
npm run --silent lint

mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
