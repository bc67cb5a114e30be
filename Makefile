# sfnhooks — make help lists the targets.
SHELL := /usr/bin/env bash
GO    ?= go
FUNCTIONS := resume-hook hook-task
# Lambda runs provided.al2023 on arm64 (template.yaml).
GOOS_LAMBDA   ?= linux
GOARCH_LAMBDA ?= arm64
BUILD_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"

.DEFAULT_GOAL := help
.PHONY: help build test bench lint dev deploy clean stack-up stack-down

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

build: ## build each function's bootstrap into bin/<function>/ (linux/arm64)
	@for fn in $(FUNCTIONS); do \
		echo "build $$fn"; \
		CGO_ENABLED=0 GOOS=$(GOOS_LAMBDA) GOARCH=$(GOARCH_LAMBDA) $(GO) build $(BUILD_FLAGS) -o bin/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

test: ## vet and run every test against the offline AWS stack (started and stopped here)
	@scripts/test.sh

bench: ## benchmarks: AWS calls per operation, ns/op and allocs/op
	@scripts/stack.sh up >/dev/null && trap 'scripts/stack.sh down >/dev/null' EXIT; \
		SFNHOOKS_REQUIRE_STACK=1 $(GO) test -p 1 -run '^$$' -bench . -benchmem ./... | tee .state/bench.txt

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

stack-up: ## start the offline AWS stack (moto) and leave it running
	@scripts/stack.sh up

stack-down: ## stop the offline AWS stack
	@scripts/stack.sh down

clean: ## remove build output and the local state (venv, logs)
	rm -rf bin .aws-sam .state
