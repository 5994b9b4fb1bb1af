#!/usr/bin/env bash
# The AWS SDK matrix: builds the store and runs its unit and integration suites against the
# lowest and the newest version of the peer range of @aws-sdk/client-dynamodb and
# @aws-sdk/lib-dynamodb (package.json's peerDependencies). Works in a temporary clone of this
# checkout's HEAD (what CI sees; uncommitted changes are not tested), so the checkout's
# node_modules stay as they are. Needs Java 17+ (DynamoDB Local), like `npm test`.
# Fails on the first error.
set -euo pipefail

PACKAGES=(@aws-sdk/client-dynamodb @aws-sdk/lib-dynamodb)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

# The lowest version is the lower bound of the peer range (">=X <4" or "^X").
peer_range="$(node -p "require('$ROOT/package.json').peerDependencies['${PACKAGES[0]}']")"
LOWEST="$(node -p "'$peer_range'.replace(/^(>=|\\^)/, '').split(' ')[0]")"
if ! [[ "$LOWEST" =~ ^3\.[0-9]+\.[0-9]+$ ]]; then
  echo "sdk-matrix: cannot read the lowest 3.x version from the peer range \"$peer_range\"" >&2
  exit 1
fi
for package in "${PACKAGES[@]}"; do
  range="$(node -p "require('$ROOT/package.json').peerDependencies['$package']")"
  if [ "$range" != "$peer_range" ]; then
    echo "sdk-matrix: $package's peer range \"$range\" differs from \"$peer_range\"" >&2
    exit 1
  fi
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sdk-matrix.XXXXXX")"
STEP="setup"
trap 'rc=$?; if [ "$rc" -ne 0 ]; then echo "sdk-matrix: FAILED during: $STEP (exit $rc)" >&2; fi; rm -rf "$WORK"' EXIT

STEP="clone"
git clone --quiet "$ROOT" "$WORK/repo"
if [ -n "$(git -C "$ROOT" status --porcelain)" ]; then
  echo "sdk-matrix: note: uncommitted changes in $ROOT are not part of this run"
fi
cd "$WORK/repo"
echo "sdk-matrix: $(git rev-parse --short HEAD) in $WORK/repo, peer range $peer_range"

STEP="npm ci"
npm ci --no-audit --no-fund

for tag in "$LOWEST" latest; do
  specs=()
  for package in "${PACKAGES[@]}"; do
    version="$tag"
    if [ "$tag" = latest ]; then version="$(npm view "$package@latest" version)"; fi
    specs+=("$package@$version")
  done
  echo
  echo "=== SDK $tag: ${specs[*]} ==="
  STEP="install ${specs[*]}"
  npm install --no-save --no-audit --no-fund "${specs[@]}"
  # npm ls calls a version outside devDependencies' range "invalid": expected for the lowest.
  npm ls "${PACKAGES[@]}" || true
  STEP="check that ${specs[*]} are the only copies"
  for spec in "${specs[@]}"; do
    package="${spec%@*}"
    version="${spec##*@}"
    copies="$(find node_modules -path "*node_modules/$package/package.json" | wc -l)"
    loaded="$(node -p "require('$package/package.json').version")"
    if [ "$copies" -ne 1 ] || [ "$loaded" != "$version" ]; then
      echo "sdk-matrix: expected one copy of $package@$version; $copies found, $loaded loaded" >&2
      exit 1
    fi
  done
  STEP="build with SDK $tag"
  npm run build
  STEP="unit and integration tests with SDK $tag"
  npx jest --selectProjects unit integration
  echo "=== SDK $tag (${specs[*]}): passed ==="
done
STEP="done"
echo
echo "sdk-matrix: passed with SDK $LOWEST and latest"
