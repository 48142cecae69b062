# opsconform: `make mock` serves the embedded profiles, `make test` runs every test.
GO       ?= go
ADDR     ?= 127.0.0.1:8060
BIN      ?= bin/opsconform
PKGS     := ./...
BENCH    ?= .

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build mock test vet lint fmt-check readme bench bench-specs load fuzz soak clean

all: build

## build: a static binary (CGO_ENABLED=0): it needs no libc, so it runs on any
## Linux of its architecture, and maps no libc.so or ld.so, a MiB less RSS
## (make load). Nothing in it needs cgo; only the race detector does, in make test.
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/opsconform

## mock: serve every embedded profile on $(ADDR)
mock:
	CGO_ENABLED=0 $(GO) run ./cmd/opsconform mock --addr $(ADDR)

## test: formatting, vet, staticcheck and every test under the race detector
## (the suites run every profile against the mock: the self-conformance run)
test: fmt-check vet lint
	$(GO) test -race -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

## readme: rewrite README's table of the operations served from the embedded specs
## (make test fails while they disagree)
readme:
	$(GO) test ./specs -run '^TestReadmeOperations$$' -count=1 -update

lint:
	$(GO) run $(STATICCHECK) $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: every Go benchmark (routing, each auth mode, the limiter, pages per
## profile through the pipeline and the answer stage alone, start-up, spec
## loading), BENCHCOUNT runs each, with allocations and, where a benchmark
## reports it, cpu-ns/op (CPU time per op, which a shared machine does not
## inflate as it does ns/op); benchstat summarises .bench/bench.txt.
## BENCH=List picks benchmarks by name; BENCH_OLD=FILE compares with an
## earlier run's file (copy .bench/bench.txt aside, change, run again).
## Benchmarks never run in make test (go test runs them only with -bench).
BENCHCOUNT ?= 6
BENCHTIME  ?= 500ms
BENCH_PKGS ?= ./mock ./specs
BENCH_OLD  ?=
BENCHSTAT  ?= golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
bench:
	@mkdir -p .bench
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCHCOUNT) -benchtime $(BENCHTIME) $(BENCH_PKGS) | tee .bench/bench.txt
	$(GO) run $(BENCHSTAT) $(if $(BENCH_OLD),old=$(BENCH_OLD) new=.bench/bench.txt,.bench/bench.txt)

## load: the load benchmark (cmd/opsconform-load), on loopback, bounded: a
## bare net/http handler serving the mock's own bytes (the limit), the mock
## (bin/opsconform, a process of its own) on a 100-item page through every
## auth mode (apikey, Bearer, rest_api_key, Digest), and Prism and WireMock
## on the same page (installed with npm into .bench/ when Node.js and Java
## are there; the report says why when they are not), at 1, 16 and 64
## connections in alternating rounds. Writes BENCHMARKS.md: req/s, p50, p99
## and server CPU per request against the bare handler, cold start, RSS.
## About 5 minutes; LOAD_FLAGS adds flags (-before OTHER_BINARY to compare
## two builds in the same rounds, -rounds 5, -duration 3s, -prism=false).
LOAD_FLAGS ?=
load: build
	$(GO) build -o bin/opsconform-load ./cmd/opsconform-load
	bin/opsconform-load -bin $(BIN) -cache .bench -out BENCHMARKS.md $(LOAD_FLAGS)

## bench-specs: start-up, first answer and peak memory on a small, a 4 MB and
## GitHub's 13 MB description (downloads @octokit/openapi@23.0.2 with npm into .bench/)
bench-specs: build
	BIN=$(BIN) scripts/bench-specs.sh

## fuzz: every Fuzz target of every package, one after another, FUZZTIME each
## (make test runs only their seed corpora). A failure leaves its input in the
## package's testdata/fuzz, which then runs with the seeds: commit it with the fix.
## FUZZ=Redact picks targets by name.
FUZZTIME ?= 30s
FUZZ     ?= .
fuzz:
	@$(GO) test -list '^Fuzz' $(PKGS) | awk '/^Fuzz/ {t[n++]=$$1} /^ok/ {for (i=0;i<n;i++) print $$2, t[i]; n=0}' | \
	grep -E ' .*$(FUZZ)' | while read -r pkg target; do \
		echo "== $$target ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) "$$pkg" || exit 1; \
	done

## soak: SOAK_REQUESTS random requests (valid, invalid, oversized, every
## profile) over loopback; fails on any 5xx or on heap or goroutines growing
## after warm-up. SOAK_FLAGS=-race adds the race detector (about 5x slower).
SOAK_REQUESTS ?= 100000
SOAK_FLAGS    ?=
soak:
	SOAK_REQUESTS=$(SOAK_REQUESTS) $(GO) test $(SOAK_FLAGS) -tags soak -run '^TestSoak$$' -count=1 -timeout 60m -v ./mock

clean:
	rm -rf bin .bench
