# VisitRelay: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
SWIFT ?= swift
RUN_CONFIG ?= release
# Parallel test workers: the machines have 2 cores.
TEST_FLAGS ?= --parallel

.PHONY: run test deps deps-test build build-tests unit-tests e2e bench fuzz clean

## make run: install what is missing, build, start the relay on its embedded defaults.
run: deps
	$(SWIFT) build -c $(RUN_CONFIG) --product visit-relay
	exec $$($(SWIFT) build -c $(RUN_CONFIG) --show-bin-path)/visit-relay

## make test: install what is missing, build, run every test (unit, then real browsers).
test: deps-test unit-tests e2e

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test

build: deps
	$(SWIFT) build

build-tests: deps-test
	$(SWIFT) build --build-tests

unit-tests: build-tests
	$(SWIFT) test --skip-build $(TEST_FLAGS)

## Real Chromium and Firefox visits through the relay, in a loopback-only network namespace (root).
e2e: build-tests
	python3 Tests/E2E/test_visit.py --relay $$($(SWIFT) build --show-bin-path)/visit-relay --results .build/e2e-results.json

## make bench: the micro-benchmarks (package-benchmark), in their own scratch path.
bench: deps
	VISITRELAY_BENCHMARKS=1 $(SWIFT) package --scratch-path .build-bench benchmark --target MediaCoreBenchmarks

## make fuzz: build every libFuzzer target in Fuzz/Targets and run each for FUZZ_SECONDS (default 30).
fuzz: deps
	Fuzz/run.sh

clean:
	rm -rf .build .build-bench Fuzz/bin Fuzz/out
