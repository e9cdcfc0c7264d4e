# The two commands a newcomer needs:
#   make demo   end-to-end demo of the SDK (embedded fake server, or a real
#               Kratos when KRATOS_ADMIN_URL is set)
#   make test   everything CI checks
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(BIN)/staticcheck-$(STATICCHECK_VERSION)

.PHONY: all demo test vet staticcheck check-generated generate unit bench bench-check fuzz clean live live-contract live-import require-kratos

FUZZTIME ?= 20s

all: test

demo:
	$(GO) run ./cmd/kratos-demo

test: vet staticcheck check-generated unit bench-check

unit:
	$(GO) test -race -count=1 ./...

# The bench module (its own go.mod) must build, its cases must agree, and
# the iterator's memory check must hold; timing runs only in make bench.
bench-check:
	cd bench && $(GO) vet ./... && $(GO) test -count=1 ./...

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
live: live-contract live-import

require-kratos:
	@test -n "$$KRATOS_ADMIN_URL" || { echo "set KRATOS_ADMIN_URL (and KRATOS_PUBLIC_URL) to a running Kratos" >&2; exit 2; }

# The contract suite, the exact-paging walks, the accepted-request checks and
# the differential test (the fake and the real server side by side;
# KRATOS_DIFF_SEED=N repeats a run) against the real server. The
# differential test needs an empty server: it runs after the others, which
# delete what they create.
live-contract: require-kratos
	$(GO) test -count=1 -run 'TestContractRealServer|TestPagingExactlyOnceRealServer|TestAcceptedRequestsRealServer|TestDifferential' -v ./kratostest/

# Import proofs and figures against the real server, as ratios
# against baselines measured in the same run (curl batches, hashing alone,
# a raw page walk, kratos import identities): bulk/live_import_test.go.
# Use a fresh, empty server. Knobs: LIVE_IMPORT_N, LIVE_HASH_N,
# LIVE_HASH_COST, LIVE_SMALL_N, LIVE_TOLERANCE, KRATOS_BIN.
live-import: require-kratos
	LIVE_IMPORT=1 $(GO) test -count=1 -timeout 25m -run 'TestLiveImport' -v ./bulk/

# Each fuzz target of the module for FUZZTIME; a failing input lands
# in <package>/testdata/fuzz/.
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

clean:
	rm -rf $(BIN)
