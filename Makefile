# a2p-alerts. Two commands do everything on a fresh machine (Go, git, make):
#   make demo   the whole system offline on the embedded emulator, one alert per priority
#   make test   unit, infra and integration tests
# Every tool comes from a go.mod under tools/ and is built into bin/ on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN        := $(CURDIR)/bin
GOLANGCI   := $(BIN)/golangci-lint
KUMO       := bin/kumo
# Every module of the workspace (go.work), as ./path/... patterns.
MODULES    := $(shell go list -m -f '{{.Dir}}' 2>/dev/null)
PKGS       := $(addsuffix /...,$(MODULES))
LAMBDA_ARCH ?= arm64
export LAMBDA_ARCH
# Where `make build` writes the zips; the stack's artifactDir reads them.
ARTIFACT_DIR ?= build/lambda

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build build/lambda/<function>.zip for LAMBDA_ARCH (default arm64; ARTIFACT_DIR to write elsewhere).
	go run ./scripts/lambdazip -out $(ARTIFACT_DIR)

# make deploy STACK=<name>: build for the stack's lambdaArch, into its
# artifactDir, then pulumi up. The program checks the packages again before
# it registers anything. Needs the Pulumi CLI (not a Go tool: it is useless
# without the AWS provider plugin, which `pulumi` installs itself).
.PHONY: deploy
deploy: ## Build for STACK's lambdaArch and run pulumi up --stack STACK.
	@test -n "$(STACK)" || { echo "usage: make deploy STACK=<stack name>" >&2; exit 2; }
	@command -v pulumi >/dev/null || { echo "make deploy needs the Pulumi CLI: https://www.pulumi.com/docs/iac/download-install/" >&2; exit 2; }
	arch=$$(pulumi config get a2p-alerts:lambdaArch --stack "$(STACK)" 2>/dev/null || echo arm64); \
	dir=$$(pulumi config get a2p-alerts:artifactDir --stack "$(STACK)" 2>/dev/null || echo build/lambda); \
	$(MAKE) --no-print-directory build LAMBDA_ARCH="$$arch" ARTIFACT_DIR="$$dir"
	pulumi up --stack "$(STACK)"

# The acknowledgment page's browser test needs headless Chromium, an
# optional system package; without it that one test skips, and make test
# says so before and after the run.
NO_CHROMIUM := command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || \
	test -n "$${A2P_CHROMIUM:-}" || echo "make test: Chromium is not installed, so TestAckPageInABrowser SKIPS (the acknowledgment page is not tested in a browser). Install it: sudo apt-get install -y chromium (Debian, Ubuntu), or set A2P_CHROMIUM to a Chromium or Chrome binary." >&2

.PHONY: test
test: $(KUMO) ## Run every test: unit, infra (Pulumi mocks) and integration (embedded emulator).
	@$(NO_CHROMIUM)
	go test -count=1 -timeout 14m $(PKGS)
	@$(NO_CHROMIUM)

.PHONY: lint
lint: $(GOLANGCI) ## go vet and golangci-lint on every module.
	go vet $(PKGS)
	@for m in $(MODULES); do echo "golangci-lint $${m#$(CURDIR)/}"; (cd $$m && $(GOLANGCI) run --allow-parallel-runners --config $(CURDIR)/.golangci.yml ./...); done

.PHONY: fmt
fmt: $(GOLANGCI) ## Format all Go code (gofmt + goimports).
	@for m in $(MODULES); do (cd $$m && $(GOLANGCI) fmt --config $(CURDIR)/.golangci.yml ./...); done

# The sandbox command is built, not `go run`: go run turns the child's
# clean exit on Ctrl-C into exit status 1.
.PHONY: dev
dev: $(KUMO) ## Run the sandbox on 127.0.0.1:4566 and print deliveries until Ctrl-C.
	go build -o $(BIN)/sandbox ./integration/cmd/sandbox
	$(BIN)/sandbox -mode dev

.PHONY: demo
demo: $(KUMO) ## Run the sandbox: one alert per priority, a fallback, an asynchronous alert, the acknowledgment loop; exit 0 if all arrive.
	go build -o $(BIN)/sandbox ./integration/cmd/sandbox
	$(BIN)/sandbox -mode demo

.PHONY: bench
bench: $(KUMO) ## Measure start-up, per-request cost and load; write docs/benchmarks.md.
	go run ./integration/cmd/bench -out docs/benchmarks.md

.PHONY: clean
clean: ## Remove build outputs and built tools.
	rm -rf build bin

# Tools are separate modules outside the workspace so their dependencies
# never change the services' dependency graph.
$(GOLANGCI): tools/lint/go.mod tools/lint/go.sum
	cd tools/lint && GOWORK=off go build -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

# The one way kumo is built; the sandbox runs bin/kumo (or A2P_KUMO_BIN)
# and says to run `make bin/kumo` when it is missing or older than these.
$(KUMO): tools/go.mod tools/go.sum
	cd tools && GOWORK=off go build -o $(CURDIR)/$@ github.com/sivchari/kumo/cmd/kumo
