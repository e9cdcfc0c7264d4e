# The two commands a newcomer needs:
#   make demo   end-to-end demo of the SDK (embedded fake server, or a real
#               Kratos when KRATOS_ADMIN_URL is set)
#   make test   everything CI checks
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(BIN)/staticcheck-$(STATICCHECK_VERSION)

.PHONY: all demo test vet staticcheck check-generated generate unit bench bench-check otel-check api-diff api-diff-check interop-check interop fuzz clean live live-contract live-differential live-import live-scale live-releases live-paging live-security require-kratos

FUZZTIME ?= 20s

all: test

demo:
	$(GO) run ./cmd/kratos-demo

test: vet staticcheck check-generated unit bench-check otel-check api-diff-check interop-check

unit:
	$(GO) test -race -count=1 ./...

# The bench module (its own go.mod) must build, its cases must agree, and
# the iterator's memory check must hold; timing runs only in make bench.
bench-check:
	cd bench && $(GO) vet ./... && $(GO) test -count=1 ./...

# The interop module (its own go.mod, github.com/ory/client-go): the fake
# as the official Go SDK sees it, against the transcript a real Kratos
# v26.2.0 gave (interop/testdata/transcript.txt). No network, no server.
interop-check:
	cd interop && $(GO) vet ./... && $(GO) test -count=1 ./...

# The same with @ory/client-fetch too (needs Node 20 and npm), against
# cmd/kratos-fake, and live against KRATOS_ADMIN_URL/KRATOS_PUBLIC_URL
# when they are set: interop/run.sh.
interop:
	interop/run.sh

# The OpenTelemetry adapter (otelkratos/, a module of its own so that this
# go.mod gains no OpenTelemetry dependency) must vet, pass staticcheck and
# its tests, which use the OTel SDK's in-memory exporters.
otel-check: $(STATICCHECK)
	cd otelkratos && $(GO) vet ./... && $(STATICCHECK) ./... && $(GO) test -race -count=1 ./...

# What a change of api/ did, for a reviewer: the spec's changes (oasdiff)
# with the breaking ones marked, and the Go API's changes in client, bulk,
# gen and kratostest (x/exp/apidiff), from BASE (a git revision; default the last
# release tag v*, else HEAD) to the working tree. Exit 1 when a change
# breaks callers and is not listed in api/apidiff-accept.txt.
# tools/apidiff is a module of its own (oasdiff's dependencies stay out of
# go.mod); both tools are pinned there.
api-diff:
	cd tools/apidiff && $(GO) run . -repo "$(CURDIR)" $(if $(BASE),-base "$(BASE)")

# The api-diff tool's module must vet, pass staticcheck and its tests (a
# removed parameter breaks, an added optional one passes; offline).
api-diff-check: $(STATICCHECK)
	cd tools/apidiff && $(GO) vet ./... && $(STATICCHECK) ./... && $(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

$(STATICCHECK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@mv $(BIN)/staticcheck $(STATICCHECK)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

generate:
	$(GO) generate ./...

# gen/ must be exactly what `go generate` makes from api/.
check-generated: generate
	@if [ -n "$$(git status --porcelain -- gen api)" ]; then \
		echo "gen/ differs from what go generate makes from api/:"; \
		git status --porcelain -- gen api; git --no-pager diff --stat -- gen api; \
		exit 1; \
	fi

# Benchmarks against ory/client-go and a hand-written floor, as ratios
# (bench/README.md; about 6 minutes; COUNT, BENCHTIME, TRANSPORT=memory).
bench:
	bench/run.sh

# Real-server suites. They start nothing: point KRATOS_ADMIN_URL (and
# KRATOS_PUBLIC_URL for sessions) at a running Kratos; .ci/run starts a fresh
# one from ../shared/kratos for each target when it is there.
live: live-contract live-import live-releases live-security

require-kratos:
	@test -n "$$KRATOS_ADMIN_URL" || { echo "set KRATOS_ADMIN_URL (and KRATOS_PUBLIC_URL) to a running Kratos" >&2; exit 2; }

# The contract suite, the exact-paging walks, the accepted-request checks,
# the login and email-format checks (fidelity_test.go) and
# the differential test (the fake and the real server side by side;
# KRATOS_DIFF_SEED=N repeats a run) against the real server. The
# differential test needs an empty server: it runs after the others, which
# delete what they create.
live-contract: require-kratos
	$(GO) test -count=1 -run 'TestContractRealServer|TestPagingExactlyOnceRealServer|TestAcceptedRequestsRealServer|TestDifferential|TestPasswordHashFormats|TestLoginInactiveIdentity|TestEmailFormats' -v ./kratostest/

# The differential test alone (the fake of the server's release and the
# real server side by side, on a fresh, empty server). KRATOS_DIFF_SEED=N
# repeats a run; .ci/run runs it on v1.3.1 with fixed seeds.
live-differential: require-kratos
	$(GO) test -count=1 -run 'TestDifferential' -v ./kratostest/

# Import proofs and figures against the real server (issues 10 and 16), as
# ratios against baselines measured in the same run (curl batches, hashing
# alone, a raw page walk, a fault-free import, kratos import identities):
# bulk/live_import_test.go. Any server KRATOS_ADMIN_URL names, SQLite or
# PostgreSQL (KRATOS_DB=postgres ../shared/kratos/start.sh); a fresh one, or
# one already holding identities to measure at a larger store. Knobs:
# LIVE_IMPORT_N, LIVE_FAULT_N, LIVE_HASH_N, LIVE_HASH_COST, LIVE_SMALL_N,
# LIVE_TOLERANCE, KRATOS_BIN, LIVE_TIMEOUT (go test's, default 25m).
LIVE_TIMEOUT ?= 25m
live-import: require-kratos
	LIVE_IMPORT=1 $(GO) test -count=1 -timeout $(LIVE_TIMEOUT) -run 'TestLiveImport' -v ./bulk/

# The CLI at production size (issue 16): import, re-run and export of
# LIVE_SCALE_N identities (default 1,000,000: about an hour on 2 cores)
# with their peak memory, against curl batches onto the empty server and
# onto the full store: scripts/live-scale.sh (LIVE_SCALE_RERUN_WINDOW sets
# the re-run's --window). Not part of CI.
live-scale: require-kratos
	scripts/live-scale.sh

# Security checks against the real server (issue 19): hostile external ids
# do not reach another identity, page sizes answer alike on every release.
# Run it against v1.3.1, v25.4.0 and v26.2.0 (KRATOS_VERSION of start.sh).
live-security: require-kratos
	LIVE_SECURITY=1 $(GO) test -count=1 -run 'TestLiveSecurity' -v ./client/

# The contract suite and the exact-paging walks alone (for the older
# releases in .ci/run; the suite reads the server's release).
live-paging: require-kratos
	$(GO) test -count=1 -run 'TestContractRealServer|TestPagingExactlyOnceRealServer' -v ./kratostest/

# The release proofs (docs/compatibility.md) against the server of any
# release: what it lacks fails with errors.ErrUnsupported before sending,
# batches report what the server kept, and an import of LIVE_RELEASE_N
# identities (default 1,000) of which half are present ends with each on
# the server exactly once.
live-releases: require-kratos
	$(GO) test -count=1 -run 'TestLiveRelease' -v ./client/ ./bulk/

# Each fuzz target of the module for FUZZTIME; a failing input lands
# in <package>/testdata/fuzz/.
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

clean:
	rm -rf $(BIN)
