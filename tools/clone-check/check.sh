#!/usr/bin/env bash
# A built tree works wherever it lands. Three checks on fresh clones of this repository (`.ci/run` calls
# this; ~3-5 min, needs moto in python3 like the S3 suites):
#   1. shared Nx cache: clone A runs `npm ci` and a light test subset (filling one Nx cache), and is
#      deleted; clone B, at another path, runs `npm ci` and every stage suite with builds restored from
#      A's cache entries. B must pass, and the check fails if Nx did not restore the core's build.
#   2. moved tree: B is moved with `mv`; a stage bin, the delegate (logViaScript) and the in-process
#      logger of the moved tree each log one fetch, and the local file then holds each fetch exactly once.
#   3. no file under any dist/ of A or B holds the absolute path of A or B (.map files included).
# Usage: tools/clone-check/check.sh [git-ref]   (default HEAD; the ref must be committed)
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
sha="$(git -C "$repo" rev-parse "${1:-HEAD}")" || exit 2
work="$(mktemp -d "${TMPDIR:-/tmp}/rs3-clone-check-XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Nx shares one cache (and its index) between every checkout of a repository, under ~/.nx/<repo id>/.
# A private HOME gives the two clones such a cache of their own, as on a developer's machine, and keeps
# this machine's real one out of it. npm's cache and python (pyenv shims read HOME) are kept as they are.
export npm_config_cache="${npm_config_cache:-$(npm config get cache)}"
ROTATING_S3_TEST_PYTHON="$("${ROTATING_S3_TEST_PYTHON:-python3}" -c 'import sys; print(sys.executable)')"
export ROTATING_S3_TEST_PYTHON
mkdir -m 700 "$work/home"
export HOME="$work/home"
unset NX_CACHE_DIRECTORY NX_WORKSPACE_DATA_DIRECTORY NX_PROJECT_GRAPH_CACHE_DIRECTORY
export NX_DAEMON=false NX_NO_CLOUD=true
failures=()
fail() { failures+=("$1"); echo "clone-check: FAIL: $1" >&2; }
say() { echo "clone-check: $*"; }

clone() {
  git clone -q --no-checkout "$repo" "$1" && git -C "$1" checkout -q --detach "$sha"
}

# Prints the dist/ files of clone $1 that contain any of the given paths.
paths_in_dist() {
  local root="$1"; shift
  local args=()
  for p in "$@"; do args+=(-e "$p"); done
  find "$root" -path '*/node_modules' -prune -o -type d -name dist -print0 | xargs -0 -r grep -rlaF "${args[@]}" || true
}

a="$work/clone-a" b="$work/clone-b" moved="$work/elsewhere/deployed"
say "clone A at $a ($sha)"
clone "$a" || exit 1
(cd "$a" && npm ci --no-audit --no-fund --loglevel=error >"$work/a-ci.log" 2>&1) || { cat "$work/a-ci.log"; fail "clone A: npm ci"; }
(cd "$a" && npx nx run stage-merge:test --outputStyle=stream >"$work/a-test.log" 2>&1) || { tail -40 "$work/a-test.log"; fail "clone A: stage-merge tests"; }
leaks="$(paths_in_dist "$a" "$a")"
[ -z "$leaks" ] || fail "clone A: dist files name the clone's own path: ${leaks//$'\n'/ }"
rm -rf "$a" # a checkout that is gone: its cache entries must not depend on it

say "clone B at $b"
clone "$b" || exit 1
(cd "$b" && npm ci --no-audit --no-fund --loglevel=error >"$work/b-ci.log" 2>&1) || { cat "$work/b-ci.log"; fail "clone B: npm ci"; }
(cd "$b" && npx nx run-many -t test -p 'stage-*' --parallel=1 --outputStyle=stream >"$work/b-test.log" 2>&1) || { tail -60 "$work/b-test.log"; fail "clone B: stage suites with builds from clone A's Nx cache"; }
grep -E 'rotating-s3-core:build.*(local cache|existing outputs match the cache)' "$work/b-test.log" >/dev/null ||
  fail "clone B: Nx did not restore rotating-s3-core:build from the shared cache, so check 1 proved nothing"
leaks="$(paths_in_dist "$b" "$a" "$b")"
[ -z "$leaks" ] || fail "clone B: dist files name a clone's path: ${leaks//$'\n'/ }"

mkdir -p "$(dirname "$moved")" && mv "$b" "$moved"
say "clone B moved to $moved"
local_dir="$work/moved-local"
payload="$work/payload.json"
echo '{"matches":[{"match_id":"m-1"},{"match_id":"m-2"}]}' >"$payload"
# fetchLimit 1000: no rotation, so no S3 is needed; the bucket is never contacted.
export ROTATING_S3_LOCAL_DIR="$local_dir" ROTATING_S3_FETCH_LIMIT=1000 AWS_REGION=us-east-1
out="$(node "$moved/packages/stages/merge/bin/merge_rotating_s3.js" log --payload-file "$payload" --fetch-id moved-bin 2>&1)" ||
  fail "moved tree: the stage bin failed: $out"
# The delegate (the stage bin as a child process) and the in-process logger, each in a pipeline process.
for how in delegate in-process; do
  out="$(cd "$work" && node --input-type=module -e "
    const [stageModule, how] = process.argv.slice(1);
    const stage = await import(stageModule);
    const payload = { matches: [{ match_id: 'm-3' }] };
    if (how === 'delegate') {
      await stage.logViaScript(payload, { fetchId: 'moved-delegate' });
    } else {
      const logger = stage.createLogger();
      await logger.logFetch(payload, { fetchId: 'moved-in-process' });
      await logger.close();
    }
  " "$moved/packages/stages/merge/dist/index.js" "$how" 2>&1)" || fail "moved tree: the $how logging failed: $out"
done
log="$local_dir/merge_fetches.log"
for id in moved-bin moved-delegate moved-in-process; do
  n="$(grep -c "^=== FETCH START: $id |" "$log" 2>/dev/null)"
  [ "$n" = 1 ] || fail "moved tree: fetch $id is in the local file ${n:-0} times, not once"
done
total="$(grep -c '^=== FETCH START: ' "$log" 2>/dev/null)"
[ "$total" = 3 ] || fail "moved tree: the local file holds ${total:-0} fetches, not 3"

if [ "${#failures[@]}" -gt 0 ]; then
  echo "clone-check: ${#failures[@]} check(s) failed" >&2
  exit 1
fi
say "shared Nx cache, moved tree and path-free dist/: all passed"
