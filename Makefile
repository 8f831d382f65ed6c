# sfstream: the front door. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
PKG   ?= ./...
TEST  ?= .
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/sfstream/sfstream/internal/version.Version=$(VERSION)
BIN   := bin
FUZZTIME ?= 10s
CACHE ?= $(HOME)/.cache/sfstream
PYENV := $(CACHE)/pyenv
export SFSTREAM_PYTHON := $(PYENV)/bin/python

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-18s %s\n",$$1,$$2}'

.PHONY: run
run: ## build and start the embedded all-in-one pipeline (sfstream run); Ctrl-C stops it; ARGS= passes flags
	@mkdir -p $(BIN)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/sfstream ./cmd/sfstream
	$(BIN)/sfstream run $(ARGS)

.PHONY: build
build: ## build every binary into ./bin
	@mkdir -p $(BIN)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/sfprint ./cmd/sfstream
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/sf-producer ./producer
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/sf-processor ./processors
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/sf-archiver ./archiver
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/sf-policy ./processors/policy

.PHONY: test-deps
test-deps: ## install what the tests use besides Go: fastavro (a second Avro reader), sysflow-tools (the reference sysprint), duckdb and pyarrow (Parquet readers) in a venv under CACHE
	@$(PYENV)/bin/python -c 'import fastavro, sysflow.formatter, duckdb, pyarrow' 2>/dev/null || { \
	  echo "installing fastavro, sysflow-tools, duckdb and pyarrow into $(PYENV)"; python3 -m venv $(PYENV) && \
	  $(PYENV)/bin/pip install -q fastavro==1.13.1 sysflow-tools==0.6.1 duckdb==2.0.0 pyarrow==26.0.1; }

.PHONY: test
test: test-deps ## unit and end-to-end tests on the embedded stack, plus short fuzz runs (PKG=, TEST=)
	$(GO) vet $(PKG)
	$(GO) test -race -shuffle on -count 1 -run '$(TEST)' $(PKG)
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 10s); new crashers land in testdata/fuzz
	@set -e; for spec in $$(grep -rlE '^func Fuzz' --include '*_test.go' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)' $$spec/*_test.go | sed 's/func //'); do \
	    echo "fuzz $$spec $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$spec; \
	  done; \
	done

.PHONY: bench
bench: ## load benchmark (loadtest/cmd/sfbench): prints the tables, rewrites loadtest/results (BENCH_FLAGS=; SFSTREAM_STACK=local uses the stack-up servers)
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/sfbench ./loadtest/cmd/sfbench
	$(BIN)/sfbench -results loadtest/results -cpuprofile loadtest/results/pprof $(BENCH_FLAGS)

.PHONY: bench-go
bench-go: ## Go micro-benchmarks (PKG=, TEST= selects benchmarks)
	$(GO) test -run '^$$' -bench '$(TEST)' -benchmem $(PKG)

.PHONY: fmt
fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: ## vet, formatting, golangci-lint (errcheck, staticcheck, depguard boundaries: .golangci.yml) and go mod tidy
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt'd: $$out"; exit 1; fi
	$(GO) tool golangci-lint run ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff | head -40; exit 1; }

.PHONY: stack-up
stack-up: ## install (cached) and start real Kafka (KRaft), a schema registry and an S3 server for tests
	bash deploy/local/up.sh

.PHONY: stack-down
stack-down: ## stop the servers of stack-up and remove their data
	bash deploy/local/down.sh

STACK_ENV ?= $${SFSTREAM_RUN:-/tmp/sfstream-stack}/stack.env

.PHONY: test-integration
test-integration: test-deps ## the end-to-end suites against the stack-up servers (SFSTREAM_STACK=local)
	set -a && . $(STACK_ENV) && set +a && SFSTREAM_STACK=local $(GO) test -count 1 -run '$(TEST)' $(PKG)

.PHONY: deploy-check
deploy-check: ## validate the Dockerfile, compose.yaml, the Helm chart and deploy/manifests offline
	bash deploy/check/check.sh

.PHONY: images
images: ## build the container images (deploy/docker/Dockerfile; needs a Docker engine)
	SFSTREAM_VERSION=$(VERSION) docker compose --profile tools build

.PHONY: up
up: ## start the whole pipeline with Docker Compose (needs a Docker engine)
	docker compose up -d

.PHONY: down
down: ## stop it (make down ARGS=-v also drops the volumes)
	docker compose down $(ARGS)

.PHONY: generate
generate: ## regenerate the eBPF bindings with the pinned bpf2go (needs clang, llvm, libbpf-dev)
	$(GO) generate ./bpf

.PHONY: generate-check
generate-check: generate ## fail if regenerating changes anything committed
	git diff --exit-code -- bpf

.PHONY: test-bpf
test-bpf: ## the eBPF tests (root, kernel with BTF, raw tracepoints and the ring buffer)
	$(GO) test -race -count 1 ./bpf ./producer/capture

.PHONY: docker-engine
docker-engine: ## start the project's own Docker engine: dockerd in a network namespace of its own (deploy/docker/engine.sh; its env command prints DOCKER_HOST)
	bash deploy/docker/engine.sh up

.PHONY: docker-engine-down
docker-engine-down: ## stop that engine and remove its containers (images and build cache stay cached)
	bash deploy/docker/engine.sh down

.PHONY: images-offline
images-offline: ## build compose.yaml's images on an engine that cannot pull: stand-in bases from Debian, third-party stand-ins (deploy/docker/images.sh)
	bash deploy/docker/images.sh all

.PHONY: compose-test
compose-test: ## compose.yaml end to end on the project's engine: images, up --wait, a host workload, its flows in Kafka and the S3 archive, down -v
	bash deploy/docker/compose-test.sh

.PHONY: test-integration-docker
test-integration-docker: test-deps ## the end-to-end suites against Kafka, registry and S3 containers that testcontainers-go starts (SFSTREAM_STACK=docker, -tags docker) on the project's engine (PKG=, TEST=)
	bash deploy/docker/integration.sh '$(PKG)' '$(TEST)'
