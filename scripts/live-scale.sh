#!/usr/bin/env bash
# live-scale.sh: the CLI at production size against the real Kratos that
# KRATOS_ADMIN_URL names (issue 16): `make live-scale`, LIVE_SCALE_N
# identities (default 1,000,000). It measures, in one run:
#
#   - a baseline: curl sending raw batches of 1,000 (LIVE_SCALE_BASE_N
#     identities, default 20,000) to the empty server, and again at the end
#     onto the full store (a separate set each time);
#   - kratos-admin import of the N pre-hashed identities, its throughput
#     against the two baselines;
#   - the same file again (a re-run: all already present), with
#     --window LIVE_SCALE_RERUN_WINDOW when it is set (default: the CLI's
#     window of 100,000 lines, one walk of the store per window);
#   - kratos-admin export --credentials of the whole store;
#   - and the CLI's peak memory (max RSS) for each of them, against the
#     same commands on a file of LIVE_SCALE_SMALL_N (default 10,000)
#     imported first, so that "flat in the store size" is a ratio.
#
# Every figure is printed with the server it came from (GET /admin/version
# and KRATOS_DB). It needs curl and /usr/bin/time. Data goes to a private
# temporary directory, removed at the end. It takes about an hour for
# 1,000,000 on a 2-core machine; it is not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."

admin=${KRATOS_ADMIN_URL:?set KRATOS_ADMIN_URL (../shared/kratos/start.sh)}
admin=${admin%/}
n=${LIVE_SCALE_N:-1000000}
base_n=${LIVE_SCALE_BASE_N:-20000}
small_n=${LIVE_SCALE_SMALL_N:-10000}
rerun_window=${LIVE_SCALE_RERUN_WINDOW:-}
rerun_flags=()
[ -z "$rerun_window" ] || rerun_flags=(--window "$rerun_window")
for c in curl /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "live-scale: $c is needed" >&2; exit 2; }
done

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/kratos-admin" ./cmd/kratos-admin
go build -o "$work/gen" ./scripts/livegen

version=$(curl -sf "$admin/admin/version" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
# The database: KRATOS_DB as ../shared/kratos/start.sh took it, else
# PostgreSQL when start.sh exported its KRATOS_DSN.
db=${KRATOS_DB:-$([ -n "${KRATOS_DSN:-}" ] && echo postgres || echo sqlite)}
tag=scale$(date +%s)
echo "live-scale: Kratos $version on $db at $admin, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), tag $tag"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

# baseline NAME COUNT: curl, raw batches of 1,000, one after the other;
# prints the rate (identities per second).
baseline() {
	local name=$1 count=$2 from=0 t0 t1
	"$work/gen" -tag "$tag-$name" -n "$count" -batches 1000 -out "$work/$name"
	t0=$(now)
	for f in "$work/$name"/batch-*.json; do
		curl -sf -X PATCH -H 'Content-Type: application/json' --data-binary "@$f" "$admin/admin/identities" -o "$work/answer.json"
		if [ "$(grep -o '"action":"create"' "$work/answer.json" | wc -l)" -ne 1000 ]; then
			echo "live-scale: curl batch $f: not every item created" >&2
			exit 1
		fi
	done
	t1=$(now)
	rm -rf "${work:?}/$name"
	awk -v c="$count" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", c/(b-a)}'
}

# timed LABEL OUT CMD...: runs the CLI under /usr/bin/time, its standard
# output to OUT; sets secs and rss_mib.
timed() {
	local label=$1 out=$2 t0 t1
	shift 2
	t0=$(now)
	/usr/bin/time -f '%M' -o "$work/rss" "$@" >"$out"
	t1=$(now)
	secs=$(secs "$t0" "$t1")
	rss_mib=$(awk '{printf "%.0f", $1/1024}' "$work/rss")
	printf 'live-scale: %-44s %8ss  peak RSS %5s MiB\n' "$label" "$secs" "$rss_mib"
}

rate0=$(baseline base0 "$base_n")
echo "live-scale: curl, $base_n in raw batches of 1,000 onto the empty server: $rate0/s (baseline)"

"$work/gen" -tag "$tag-small" -n "$small_n" -out "$work/small.jsonl"
timed "import $small_n (memory reference)" /dev/null "$work/kratos-admin" import --report "$work/small-report.jsonl" "$work/small.jsonl"
small_import_rss=$rss_mib
timed "re-run of $small_n (memory reference)" /dev/null "$work/kratos-admin" import "$work/small.jsonl"
small_rerun_rss=$rss_mib

"$work/gen" -tag "$tag-big" -n "$n" -out "$work/big.jsonl"
timed "import $n" "$work/import.out" "$work/kratos-admin" import --report "$work/big-report.jsonl" "$work/big.jsonl"
import_secs=$secs import_rss=$rss_mib
created=$(grep -c '"status":"created"' "$work/big-report.jsonl" || true)
[ "$created" -eq "$n" ] || { echo "live-scale: import: $created of $n created" >&2; tail -5 "$work/import.out" >&2; exit 1; }
import_rate=$(awk -v c="$n" -v s="$import_secs" 'BEGIN{printf "%.0f", c/s}')

timed "re-run of $n (all already present)${rerun_window:+, --window $rerun_window}" "$work/rerun.out" "$work/kratos-admin" import "${rerun_flags[@]}" --report "$work/rerun-report.jsonl" "$work/big.jsonl"
rerun_secs=$secs rerun_rss=$rss_mib
present=$(grep -c '"status":"already_present"' "$work/rerun-report.jsonl" || true)
[ "$present" -eq "$n" ] || { echo "live-scale: re-run: $present of $n already present" >&2; tail -5 "$work/rerun.out" >&2; exit 1; }

timed "export --credentials of the store" "$work/export.jsonl" "$work/kratos-admin" export --credentials
export_secs=$secs export_rss=$rss_mib
exported=$(wc -l <"$work/export.jsonl")
rm -f "$work/export.jsonl" "$work/big.jsonl"

rate1=$(baseline base1 "$base_n")
echo "live-scale: curl, $base_n in raw batches of 1,000 onto the full store: $rate1/s (baseline)"

echo
echo "live-scale: Kratos $version on $db, $n identities"
echo "  import:  ${import_secs}s, $import_rate/s = $(ratio "$import_rate" "$rate0")x curl onto the empty server, $(ratio "$import_rate" "$rate1")x curl onto the full store"
echo "  re-run${rerun_window:+ (--window $rerun_window)}:  ${rerun_secs}s = $(ratio "$rerun_secs" "$import_secs")x the import; $(grep -m1 -i 'settl' "$work/rerun.out" || echo 'no settling line')"
echo "  export:  ${export_secs}s for $exported identities ($(awk -v c="$exported" -v s="$export_secs" 'BEGIN{printf "%.0f", c/s}')/s)"
echo "  peak RSS: import $import_rss MiB ($(ratio "$import_rss" "$small_import_rss")x the import of $small_n), re-run $rerun_rss MiB ($(ratio "$rerun_rss" "$small_rerun_rss")x), export $export_rss MiB"
