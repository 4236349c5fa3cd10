#!/usr/bin/env bash
# Runs every fuzz target in the module for a bounded time, so a change that
# makes a parser panic is caught on every submission. The seed corpora
# already run as ordinary tests; this explores past them. Each package's
# test binary is built once, with fuzzing instrumentation, and run once per
# target (go test itself would build and link it again for every target).
#
#   FUZZTIME   how long each target runs (default 1s; go test's -fuzztime)
#   FUZZ_ONLY  an extended regular expression: run only the targets whose
#              "./pkg FuzzName" matches it
#
# A failing input is written under the package's testdata/fuzz/, as go test
# does; rerun it with `go test -run FuzzName/ID ./pkg`. New interesting
# inputs go to go test's own fuzz cache, so later runs start from them.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-1s}"
go="${GO:-go}"

# Each "./dir FuzzName" pair, from the test files git knows of, by package.
targets=$(git ls-files '*_test.go' | xargs grep -Ho '^func Fuzz[A-Za-z0-9_]*(' |
  sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#./\1 \2#' | sort -u)
if [ -n "${FUZZ_ONLY:-}" ]; then
  targets=$(grep -E -- "$FUZZ_ONLY" <<<"$targets" || true)
fi
if [ -z "$targets" ]; then
  echo "fuzz: no fuzz targets"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache="$("$go" env GOCACHE)/fuzz"
root=$PWD
n=0
start=$SECONDS
built=""
while read -r pkg name; do
  if [ "$pkg" != "$built" ]; then
    bin="$work/pkg.test"
    "$go" test -c -fuzz . -o "$bin" "$pkg" </dev/null
    importpath=$("$go" list "$pkg" </dev/null)
    built=$pkg
  fi
  n=$((n + 1))
  echo "fuzz: $pkg $name ($fuzztime)"
  # The binary runs in its package's directory, as go test runs it, so it
  # finds testdata/ and writes failures there.
  if ! (cd "$root/$pkg" && "$bin" -test.run '^$' -test.fuzz "^${name}\$" -test.fuzztime "$fuzztime" \
    -test.fuzzcachedir "$cache/$importpath" -test.timeout 10m </dev/null >"$work/log" 2>&1); then
    # Go 1.26's fuzz coordinator can report the end of -fuzztime itself as
    # a failure on a loaded machine (go.dev/issue/75804): a bare "context
    # deadline exceeded" with no failing input written. That alone is not
    # a finding; a replay of the target's corpus and seeds decides.
    if grep -q 'context deadline exceeded' "$work/log" && ! grep -q 'Failing input written' "$work/log" &&
      (cd "$root/$pkg" && "$bin" -test.run "^${name}\$" -test.timeout 10m </dev/null >"$work/replay" 2>&1); then
      echo "fuzz: $pkg $name: the fuzzing deadline raced a worker (go.dev/issue/75804); corpus replay passed"
      continue
    fi
    cat "$work/log"
    echo "fuzz: $pkg $name failed"
    exit 1
  fi
done <<<"$targets"
echo "fuzz: $n targets, $fuzztime each, in $((SECONDS - start))s"
