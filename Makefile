# sfnhooks — make help lists the targets.
SHELL := /usr/bin/env bash
GO    ?= go
FUNCTIONS := resume-hook resume-webhook approval-link hook-task
# Lambda runs provided.al2023 on arm64 (template.yaml).
GOOS_LAMBDA   ?= linux
GOARCH_LAMBDA ?= arm64
# VERSION is what the binaries report (sfnhooks version, each function's init log).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BUILD_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w -X github.com/sfnhooks/sfnhooks/internal/version.Version=$(VERSION)"

.DEFAULT_GOAL := help
.PHONY: help build test test-browser test-clients mutate bench scale fuzz coldstart stress chaos sim lint dev console deploy clean stack-up stack-down lint-install \
	build-ResumeHookFunction build-ResumeWebhookFunction build-ApprovalLinkFunction build-HookTaskFunction
# sam (aws-sam-cli) from the project's lint virtualenv (scripts/lint.sh install).
SAM ?= .state/venv-lint/bin/sam

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

build: ## build each function's bootstrap into bin/<function>/ (linux/arm64)
	@for fn in $(FUNCTIONS); do \
		echo "build $$fn"; \
		CGO_ENABLED=0 GOOS=$(GOOS_LAMBDA) GOARCH=$(GOARCH_LAMBDA) $(GO) build $(BUILD_FLAGS) -o bin/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

test: ## vet and run every test against the offline AWS stack (started and stopped here)
	@scripts/test.sh

# SFNHOOKS_CHROMIUM overrides the browser's path; screenshots go to .state/browser/.
test-browser: ## approval links in headless Chromium against make dev's stack (installs Debian's chromium if missing)
	@chromium=$$(scripts/chromium.sh) || exit 1; \
	SFNHOOKS_CHROMIUM=$$chromium $(GO) test -tags browser -count=1 -v ./e2e/browser/

test-clients: ## the TypeScript and Python clients (clients/) against make dev's stack: tests, packed installs, contract (installs Node >= 20 if missing)
	@scripts/test-clients.sh

# MUTANTS=M1,M2 runs those only (go run ./cmd/mutate -list names them).
mutate: ## mutation testing: each protocol bug of cmd/mutate on a copy of the tree; every one must fail a test
	@started=; \
	if ! scripts/stack.sh status >/dev/null 2>&1; then scripts/stack.sh up || exit 1; started=1; fi; \
	trap '[[ -z "$$started" ]] || scripts/stack.sh down >/dev/null' EXIT; \
	$(GO) run ./cmd/mutate -only '$(MUTANTS)'

bench: ## benchmarks: AWS calls per operation, ns/op and allocs/op
	@scripts/stack.sh up >/dev/null && trap 'scripts/stack.sh down >/dev/null' EXIT; \
		SFNHOOKS_REQUIRE_STACK=1 $(GO) test -p 1 -run '^$$' -bench . -benchmem ./... | tee .state/bench.txt

# Sizes: SFNHOOKS_SCALE_HOT, _INFLIGHT, _HOOKS, _RESUMES, _LATENCY (internal/testbench/awsmodel/scale_test.go).
scale: ## the scale model: naive pattern, previous and current protocol, and the state machine listing at 10,000 hooks, on internal/testbench/awsmodel (no AWS, no emulator)
	@$(GO) test -count=1 -run '^$$' -bench '^BenchmarkScale$$' -benchtime=1x ./internal/testbench/awsmodel/
	@SFNHOOKS_LIST_SCALE=1 $(GO) test -count=1 -v -run '^TestListStateMachineAtScale$$' ./internal/testbench/awsmodel/

coldstart: ## cold start of each bootstrap under the Lambda Runtime Interface Emulator, and bootstrap sizes
	@scripts/coldstart.sh

# Budget of each fuzz target (a go test -fuzztime value).
FUZZTIME ?= 30s
fuzz: ## run each fuzz target for FUZZTIME (default 30s); executions and findings in .state/fuzz.txt
	@FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

stress: ## concurrency tests at full size: one hot hook, 500 resumes 64 at a time; 50 hooks, 10,000 resumes (SFNHOOKS_HOT_*, SFNHOOKS_STRESS_*)
	@set -o pipefail; started=; \
	if ! scripts/stack.sh status >/dev/null 2>&1; then scripts/stack.sh up || exit 1; started=1; fi; \
	trap '[[ -z "$$started" ]] || scripts/stack.sh down >/dev/null' EXIT; \
	SFNHOOKS_REQUIRE_STACK=1 SFNHOOKS_STRESS_HOOKS=$${SFNHOOKS_STRESS_HOOKS:-50} \
		SFNHOOKS_STRESS_RESUMES=$${SFNHOOKS_STRESS_RESUMES:-10000} SFNHOOKS_STRESS_TIMEOUT=$${SFNHOOKS_STRESS_TIMEOUT:-3600} \
		SFNHOOKS_HOT_RESUMES=$${SFNHOOKS_HOT_RESUMES:-500} SFNHOOKS_HOT_INFLIGHT=$${SFNHOOKS_HOT_INFLIGHT:-64} \
		$(GO) test -count=1 -timeout 2h -run '^(TestHotHook|TestStressConcurrentResumes)$$' -v ./e2e/ 2>&1 | tee .state/stress.txt

# Seeds of make chaos: RUNS seeds from SEED (random unless given).
RUNS ?= 20
SEED ?=
chaos: ## randomized fault schedule (e2e TestChaos) over RUNS seeds from SEED; a failure prints its seed: make chaos SEED=<seed> RUNS=1
	@set -o pipefail; started=; \
	if ! scripts/stack.sh status >/dev/null 2>&1; then scripts/stack.sh up || exit 1; started=1; fi; \
	trap '[[ -z "$$started" ]] || scripts/stack.sh down >/dev/null' EXIT; \
	SFNHOOKS_REQUIRE_STACK=1 SFNHOOKS_CHAOS_RUNS=$(RUNS) SFNHOOKS_CHAOS_SEED=$(SEED) \
		$(GO) test -count=1 -timeout 2h -parallel $${SFNHOOKS_CHAOS_PARALLEL:-2} -run '^TestChaos$$' -v ./e2e/ 2>&1 \
		| tee .state/chaos.txt | grep -E '^(---|ok|FAIL|PASS)|^ *--- |chaos(:| seed| total)|FAILED|seed [0-9]+ hook [0-9]+( \(chaos-|: (received \[|invariant|hook item))'

# Seeds of make sim: SEEDS schedules from SEED (default 1).
SEEDS ?= 2000
sim: ## deterministic simulation of the protocol (no emulator): SEEDS schedules from SEED; a finding prints its seed and shrunk schedule
	@set -o pipefail; mkdir -p .state; \
	SFNHOOKS_SIM_SEEDS=$(SEEDS) SFNHOOKS_SIM_SEED=$(or $(SEED),1) \
		$(GO) test -count=1 -timeout 4h -run '^TestSimulator$$' -v ./internal/testbench/sim/ 2>&1 | tee .state/sim.txt \
		| grep -E '^(---|ok|FAIL|PASS)|sim:|FINDING|^ +[a-z-]+: '

lint: ## gofmt, go vet, doc link check, cfn-lint and sam validate --lint (template.yaml, examples), checkov (offline)
	@scripts/lint.sh

lint-install: ## install cfn-lint and aws-sam-cli (requirements-lint.txt) into .state/venv-lint, checkov into .state/venv-checkov
	@scripts/lint.sh install

# ASL=your.asl.json[,other.asl.json] adds your own state machines (cmd/sfnhooks-dev).
# Built, then exec'd (not go run, which exits 1 on Ctrl-C): Ctrl-C ends make dev with status 0.
dev: ## local stack for a person: moto, the functions on http://127.0.0.1:3000, example state machines (ASL=your.asl.json adds yours)
	@mkdir -p .state/bin && $(GO) build -o .state/bin/sfnhooks-dev ./cmd/sfnhooks-dev && exec .state/bin/sfnhooks-dev $(if $(ASL),-asl '$(ASL)')

# CONSOLE_ENDPOINT=… for another API (a deployed one is signed with your AWS credentials).
console: ## the operator console (docs/operators.md) on loopback, against make dev's API
	@$(GO) run ./cmd/sfnhooks console --endpoint $${CONSOLE_ENDPOINT:-$$(sed -n 's/.*"apiUrl": *"\([^"]*\)".*/\1/p' .state/dev.json 2>/dev/null | head -1)} \
		--state-machine "$$(grep -o 'arn:aws:states:[^"]*:stateMachine:sfnhooks-dev-approval' .state/dev.json 2>/dev/null | head -1)"

deploy: ## sam build && sam deploy (the first time: sam deploy --guided)
	@scripts/lint.sh install
	$(SAM) build
	$(SAM) deploy

stack-up: ## start the offline AWS stack (moto) and leave it running
	@scripts/stack.sh up

stack-down: ## stop the offline AWS stack
	@scripts/stack.sh down

clean: ## remove build output and the local state (venvs, logs); stops the stack first
	@scripts/stack.sh down >/dev/null 2>&1 || true
	rm -rf bin .aws-sam .state

# sam build runs these (template.yaml: BuildMethod makefile) with ARTIFACTS_DIR set.
build-ResumeHookFunction:
	$(call lambda_bootstrap,resume-hook)
build-ResumeWebhookFunction:
	$(call lambda_bootstrap,resume-webhook)
build-ApprovalLinkFunction:
	$(call lambda_bootstrap,approval-link)
build-HookTaskFunction:
	$(call lambda_bootstrap,hook-task)

define lambda_bootstrap
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build runs this target"; exit 1; }
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(BUILD_FLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(1)
endef
