#!/bin/sh
# Runs the benchmarks in rounds and prints the SDK's ratios against the
# floor and ory/client-go (see README.md).
#
#   bench/run.sh                      8 rounds of every case, 1s each
#   COUNT=10 BENCHTIME=2s bench/run.sh
#   BENCH=GetIdentity bench/run.sh    only the cases matching a regexp
#   CHECK=1 bench/run.sh              exit 1 when a target is missed
#
# Each round runs the test binary once (-test.count=1), so that sdk,
# oryclient and floor of a case run back to back and every ratio compares
# figures taken moments apart on this (noisy) machine. The raw results go
# to bench/results.txt (ignored by git), which benchstat also reads.
set -eu
cd "$(dirname "$0")"

COUNT=${COUNT:-8}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}
OUT=${OUT:-results.txt}

echo "go: $(go version | cut -d' ' -f3-)  arch: $(uname -m)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')  cores: $(nproc)"
go test -c -o bench.test .
./bench.test -test.run . -test.count 1 >/dev/null # the cases agree before timing them
: >"$OUT"
i=1
while [ "$i" -le "$COUNT" ]; do
	echo "round $i/$COUNT" >&2
	./bench.test -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1 >>"$OUT"
	i=$((i + 1))
done
rm -f bench.test
echo
go run ./cmd/ratios ${CHECK:+-check} "$OUT"
