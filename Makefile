# drconsole build and test entry points. `make run` opens the console on the
# embedded sandbox; `make test` installs what the tests need and runs them all.

GO        ?= go
BIN       := bin/drconsole
TOOLS     ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/drconsole-tools
PKGS      := ./...
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)

export DRCONSOLE_TOOLS := $(TOOLS)

.PHONY: all build run test test-deps bench lint fmt fuzz clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/drconsole

run: build
	./$(BIN)

# test-deps installs the external programs the end-to-end tests drive:
# a MinIO server (built with go install into $(TOOLS)), the AWS CLI and tmux.
test-deps:
	@scripts/test-deps.sh

# test runs every test with the race detector, then every fuzz target for
# FUZZTIME each (1s by default: 29 targets take about a minute on two cores;
# scripts/fuzz.sh), then the linters.
test: test-deps
	@PATH="$(TOOLS)/bin:$$PATH" DRCONSOLE_MINIO="$(TOOLS)/bin/minio" DRCONSOLE_AWSCLI=/usr/bin/aws \
		$(GO) test -race -count=1 -timeout 40m $(PKGS)
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory lint

# fuzz runs each fuzz target for a bounded time: FUZZTIME=30s make fuzz to
# dig deeper, FUZZ_ONLY=FuzzParse to pick targets.
fuzz:
	@GO="$(GO)" scripts/fuzz.sh

bench: build
	@DRCONSOLE_MINIO="$(TOOLS)/bin/minio" $(GO) test -run '^$$' -bench . -benchmem -benchtime 1x $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet $(PKGS)
	@test -x "$(TOOLS)/bin/staticcheck" || GOBIN="$(TOOLS)/bin" $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	"$(TOOLS)/bin/staticcheck" $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
