#!/usr/bin/env bash
# Prints the path of a Node binary of the given major version (22, 24, ...), installing it first from the
# npm registry, which ships Node as packages (node-<platform>-<arch>@<major>), into
# node_modules/.cache/rotating-s3-node/<major>/ of this workspace. Used by .ci/run and `npm run bench`.
# Usage: tools/node-versions/install.sh 24
set -euo pipefail
major="${1:?usage: install.sh <major>, e.g. 24}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
package="node-$(node -p 'process.platform + "-" + process.arch')"
prefix="$root/node_modules/.cache/rotating-s3-node/$major"
bin="$prefix/node_modules/$package/bin/node"
if ! { [ -x "$bin" ] && [[ "$("$bin" --version)" == "v$major."* ]]; }; then
  npm install --no-audit --no-fund --no-save --loglevel=error --prefix "$prefix" "$package@$major" >&2
fi
"$bin" --version >&2
echo "$bin"
