# The two commands a newcomer needs:
#   make demo   end-to-end demo of the SDK (embedded fake server, or a real
#               Kratos when KRATOS_ADMIN_URL is set)
#   make test   everything CI checks
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(BIN)/staticcheck-$(STATICCHECK_VERSION)

.PHONY: all demo test vet staticcheck check-generated generate unit bench fuzz clean

FUZZTIME ?= 20s

all: test

demo:
	$(GO) run ./cmd/kratos-demo

test: vet staticcheck check-generated unit

unit:
	$(GO) test -race -count=1 ./...

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

# Each fuzz target for FUZZTIME; a failing input lands in client/testdata/fuzz/.
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

clean:
	rm -rf $(BIN)
