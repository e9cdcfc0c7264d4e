#!/usr/bin/env bash
# Fuzz every Fuzz* target of the client package for a bounded time each.
#
#   scripts/fuzz.sh                 # every target, 20s each
#   FUZZTIME=2m scripts/fuzz.sh     # longer
#   scripts/fuzz.sh FuzzResponses   # only the named targets
#
# Plain `go test ./...` already runs the seeds (f.Add and
# client/testdata/fuzz/<FuzzName>/). A failing input found here is written
# to client/testdata/fuzz/<FuzzName>/: fix the bug and commit the file as a
# regression seed.
set -euo pipefail

cd "$(dirname "$0")/.."
pkg=./client
fuzztime=${FUZZTIME:-20s}

if [ "$#" -gt 0 ]; then
	targets=("$@")
else
	mapfile -t targets < <(go test "$pkg" -list '^Fuzz' | grep '^Fuzz')
fi

for target in "${targets[@]}"; do
	echo "==> $target ($fuzztime)"
	go test "$pkg" -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime"
done
