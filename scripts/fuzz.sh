#!/usr/bin/env bash
# Fuzz every Fuzz* target of the module's packages for a
# bounded time each.
#
#   scripts/fuzz.sh                 # every target, 20s each
#   FUZZTIME=2m scripts/fuzz.sh     # longer
#   scripts/fuzz.sh FuzzResponses   # only the named targets
#
# Plain `go test ./...` already runs the seeds (f.Add and
# <package>/testdata/fuzz/<FuzzName>/). A failing input found here is
# written to <package>/testdata/fuzz/<FuzzName>/: fix the bug and commit the
# file as a regression seed.
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-20s}

mapfile -t pkgs < <(go list ./...)
for pkg in "${pkgs[@]}"; do
	mapfile -t found < <(go test "$pkg" -list '^Fuzz' | grep '^Fuzz')
	for target in "${found[@]}"; do
		if [ "$#" -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$target"; then
			continue
		fi
		echo "==> $pkg $target ($fuzztime)"
		go test "$pkg" -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime"
	done
done
