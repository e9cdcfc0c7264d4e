#!/bin/sh
# Runs the benchmarks in rounds and prints the SDK's ratios against the
# floor, ory/client-go and ogen (see README.md).
#
#   bench/run.sh                      20 rounds of every case, 500ms each
#   COUNT=40 BENCHTIME=1s bench/run.sh
#   BENCH=GetIdentity bench/run.sh    only the cases matching a regexp
#   TRANSPORT=memory bench/run.sh     no network: the clients' own work only
#   CHECK=1 bench/run.sh              exit 1 when a target is missed
#
# Each round runs the test binary once (-test.count=1), so that sdk,
# oryclient, ogen and floor of a case run back to back and every ratio compares
# figures taken moments apart on this (noisy) machine; every other round
# runs them in reverse order (-reverse), so that neither always goes first.
# The raw results go to bench/results.txt (ignored by git), which benchstat
# also reads.
set -eu
cd "$(dirname "$0")"

COUNT=${COUNT:-20}
BENCHTIME=${BENCHTIME:-500ms}
BENCH=${BENCH:-.}
OUT=${OUT:-results.txt}
TRANSPORT=${TRANSPORT:-network}

case $TRANSPORT in
network) mode= ;;
memory) mode=-inmemory ;;
*)
	echo "run.sh: TRANSPORT must be network or memory, not $TRANSPORT" >&2
	exit 2
	;;
esac

echo "go: $(go version | cut -d' ' -f3-)  arch: $(uname -m)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')  cores: $(nproc)  transport: $TRANSPORT"
go test -c -o bench.test .
./bench.test -test.run . -test.count 1 $mode >/dev/null # the cases agree before timing them
: >"$OUT"
i=1
while [ "$i" -le "$COUNT" ]; do
	echo "round $i/$COUNT" >&2
	order=""
	[ $((i % 2)) -eq 0 ] && order=-reverse # floor first on even rounds
	./bench.test -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1 $mode $order >>"$OUT"
	i=$((i + 1))
done
rm -f bench.test
echo
go run ./cmd/ratios ${CHECK:+-check} -transport "$TRANSPORT" "$OUT"
