#!/usr/bin/env bash
# The fake as the official SDKs see it: runs the same scenario with
# github.com/ory/client-go (clientgo_test.go) and @ory/client-fetch
# (node/scenario.mjs) against cmd/kratos-fake and compares both transcripts
# with testdata/transcript.txt, what a real Kratos v26.2.0 answered. With
# KRATOS_ADMIN_URL and KRATOS_PUBLIC_URL set (eval "$(../shared/kratos/start.sh)"),
# it runs both against that server too and compares live.
#
#   interop/run.sh            (needs Node 20 and npm for the TypeScript SDK)
#   make interop
set -euo pipefail
cd "$(dirname "$0")"
golden=testdata/transcript.txt
work=$(mktemp -d)
fake_pid=
cleanup() {
	if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
status=0

echo "== client-go against the fake${KRATOS_ADMIN_URL:+ and $KRATOS_ADMIN_URL}"
go test -count=1 -run TestClientGo . || status=1

echo "== @ory/client-fetch"
(cd node && npm ci --no-audit --no-fund --silent)
go build -o "$work/kratos-fake" ../cmd/kratos-fake
# Configured as ../shared/kratos is (see fakeFor in clientgo_test.go).
"$work/kratos-fake" --admin 127.0.0.1:0 --public 127.0.0.1:0 --bcrypt-cost 8 \
	--recovery-ui-url http://127.0.0.1:4455/recovery --allowed-return-url http://127.0.0.1:4455 \
	--enabled-methods password,code,oidc >"$work/ready" 2>"$work/fake.log" &
fake_pid=$!
for _ in $(seq 100); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.1; done
read -r _ _ admin public _ <"$work/ready"
node node/scenario.mjs "${admin#admin=}" "${public#public=}" >"$work/fake.txt"
if diff -u "$golden" "$work/fake.txt"; then echo "fake (client-fetch): as recorded"; else echo "fake (client-fetch) differs from $golden"; status=1; fi
if [ -n "${KRATOS_ADMIN_URL:-}" ] && [ -n "${KRATOS_PUBLIC_URL:-}" ]; then
	node node/scenario.mjs "$KRATOS_ADMIN_URL" "$KRATOS_PUBLIC_URL" >"$work/real.txt"
	if diff -u "$work/real.txt" "$work/fake.txt"; then echo "real and fake (client-fetch): the same"; else echo "real and fake (client-fetch) differ"; status=1; fi
fi
exit $status
