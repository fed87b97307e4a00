# VisitRelay: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
SWIFT ?= swift
RUN_CONFIG ?= release
# Parallel test workers: the machines have 2 cores.
TEST_FLAGS ?= --parallel

.PHONY: run test deps deps-test format format-check traces-check build build-tests unit-tests systemd-check bwe-check bwe-sim e2e bench load janus-compare soak fuzz sanitize install clean
PREFIX ?= /usr/local

## make run: install what is missing, build, start the relay on its embedded defaults.
run: deps
	$(SWIFT) build -c $(RUN_CONFIG) --product visit-relay
	exec $$($(SWIFT) build -c $(RUN_CONFIG) --show-bin-path)/visit-relay

## make test: install what is missing, build, run every test (unit, then real browsers).
test: deps-test format-check traces-check unit-tests systemd-check bwe-check e2e

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test

build: deps
	$(SWIFT) build

build-tests: deps-test
	$(SWIFT) build --build-tests

## Swift sources follow .swift-format (SwiftNIO's: 120 columns); `make format` rewrites them to it.
SWIFT_FORMAT_PATHS = Package.swift Sources Tests Benchmarks Fuzz
format-check:
	$(SWIFT) format lint --strict --recursive --parallel --configuration .swift-format $(SWIFT_FORMAT_PATHS)

format:
	$(SWIFT) format format --in-place --recursive --parallel --configuration .swift-format $(SWIFT_FORMAT_PATHS)

## The recorded traces are the ones PROVENANCE.md names: their checksums match.
traces-check:
	cd Traces && sha256sum --quiet -c SHA256SUMS

unit-tests: build-tests
	$(SWIFT) test --skip-build $(TEST_FLAGS)

## The shipped unit passes `systemd-analyze verify` and rates 2.0 or lower in `systemd-analyze security`.
systemd-check: build-tests
	scripts/check-systemd.sh $$($(SWIFT) build --show-bin-path)/visit-relay

## make install: the release binary, the unit, the sysusers snippet and the default configuration.
install: deps
	$(SWIFT) build -c release --product visit-relay
	install -D -m 0755 $$($(SWIFT) build -c release --show-bin-path)/visit-relay $(DESTDIR)$(PREFIX)/bin/visit-relay
	cp -R $$($(SWIFT) build -c release --show-bin-path)/VisitRelay_RelayDaemon.resources $(DESTDIR)$(PREFIX)/bin/
	install -D -m 0644 systemd/visit-relay.service $(DESTDIR)/etc/systemd/system/visit-relay.service
	install -D -m 0644 systemd/visit-relay.sysusers.conf $(DESTDIR)/usr/lib/sysusers.d/visit-relay.conf
	test -e $(DESTDIR)/etc/visit-relay/visit-relay.yaml || install -D -m 0644 systemd/visit-relay.yaml $(DESTDIR)/etc/visit-relay/visit-relay.yaml
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/visit-relay/README.md
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemd-sysusers && systemctl daemon-reload; fi

## The bandwidth estimator's goal on the recorded links (bwe-sim, virtual time, seconds of CPU):
## queueing delay p95 <= 200 ms at utilisation >= 60 % on each goal trace with a sender's pacing,
## or the run fails; the relay's own pacing is run and printed beside it (README, "bwe-sim").
bwe-check: build-tests
	$$($(SWIFT) build --show-bin-path)/bwe-sim --check-goal --plot-dir .build/bwe-sim --json .build/bwe-sim.json

## make bwe-sim: the same in a release build (BWE_ARGS for other traces or parameters, e.g.
## BWE_ARGS="--trace Verizon-EVDO-driving.up --set standing_queue_limit_ms=150").
BWE_ARGS ?= --check-goal
bwe-sim: deps
	$(SWIFT) build -c release --product bwe-sim
	$$($(SWIFT) build -c release --show-bin-path)/bwe-sim --plot-dir .build/bwe-sim --json .build/bwe-sim.json $(BWE_ARGS)

## Real Chromium and Firefox visits through the relay, in a loopback-only network namespace (root).
e2e: build-tests
	python3 Tests/E2E/test_visit.py --relay $$($(SWIFT) build --show-bin-path)/visit-relay --results .build/e2e-results.json

## make bench: the micro-benchmarks (package-benchmark), in their own scratch path, the kernel's own
## cost per forwarded UDP datagram (udp-floor), then a short load run (10 visits, 10 s) against a
## release relay.
bench: deps
	VISITRELAY_BENCHMARKS=1 $(SWIFT) package --scratch-path .build-bench benchmark --target MediaCoreBenchmarks
	$(SWIFT) build -c release --product udp-floor
	$$($(SWIFT) build -c release --show-bin-path)/udp-floor 3
	scripts/load-run.sh --visits 10 --seconds 10

## make load: a load ramp against a release relay (LOAD_ARGS to change it); report in .build/load.json,
## plot in .build/load-ramp.svg.
LOAD_ARGS ?= --mode ramp --step 10 --seconds 5 --max-visits 400
load: deps
	scripts/load-run.sh $(LOAD_ARGS)

## make janus-compare: visit-relay and Janus 1.1.2's VideoRoom on the same simulated visits, one after
## the other, both in a loopback-only network namespace made for the run (root; installs janus when
## missing); prints both tables and the ratios (JANUS_ARGS to change the run, e.g.
## JANUS_ARGS="--mode ramp --step 10 --seconds 5 --max-visits 80"). Report in .build/janus-compare/.
JANUS_ARGS ?= --visits 10 --seconds 10
janus-compare: deps
	scripts/janus-compare.sh $(JANUS_ARGS)

## make soak: SOAK_VISITS (half the capacity an earlier make load measured here) for 20 one-minute intervals;
## fails if relay memory grows 5 % or more, descriptors leak, or loss reaches 1 %.
SOAK_VISITS ?= 65
soak: deps
	scripts/load-run.sh --mode steady --visits $(SOAK_VISITS) --seconds 60 --intervals 20 --soak-check

## make fuzz: build every libFuzzer target of Fuzz/Package.swift (SwiftPM, libFuzzer + ASan) and run each
## for FUZZ_SECONDS (default 30).
fuzz: deps
	Fuzz/run.sh

## make sanitize: every unit test under AddressSanitizer, then ThreadSanitizer, each in its own
## scratch path (.build-asan, .build-tsan). A report from either (memory error, leak, data race)
## fails the run; scripts/lsan-suppressions.txt names the toolchain's own leaks only.
sanitize: deps-test
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt \
		$(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

clean:
	rm -rf .build .build-bench .build-asan .build-tsan Fuzz/bin Fuzz/out
