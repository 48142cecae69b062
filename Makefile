# opsconform: `make mock` serves the embedded profiles, `make test` runs every test.
GO       ?= go
ADDR     ?= 127.0.0.1:8060
BIN      ?= bin/opsconform
PKGS     := ./...
BENCH    ?= .
BENCHTIME ?= 1s

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build mock test vet lint fmt-check readme bench bench-specs load fuzz soak clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/opsconform

## mock: serve every embedded profile on $(ADDR)
mock:
	$(GO) run ./cmd/opsconform mock --addr $(ADDR)

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

## bench: every benchmark with allocations
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) $(PKGS)

## load: wrk against a running mock, each list against the health endpoint as baseline.
## Windows are scaled to microseconds so no key's budget runs out: this measures serving.
LOAD_ADDR ?= 127.0.0.1:18099
LOAD_TIME ?= 10s
load: build
	@command -v wrk >/dev/null || { echo "load needs wrk (Debian: apt-get install wrk)"; exit 1; }
	@$(BIN) mock --addr $(LOAD_ADDR) --quiet --time-scale 1000000 > /dev/null & pid=$$!; \
	trap "kill $$pid" EXIT; sleep 1; \
	run() { printf '%-34s ' "$$1"; shift; wrk -t2 -c16 -d$(LOAD_TIME) "$$@" | awk '/Requests\/sec/ {print $$2 " req/s"}'; }; \
	run "baseline GET /__opsconform/health" http://$(LOAD_ADDR)/__opsconform/health; \
	run "opsmerge GET /api/v1/agents" -H "Authorization: Bearer $$(sed -n 's/^    secret: \(om_.*\)/\1/p' fixtures/opsmerge.yaml | head -1)" "http://$(LOAD_ADDR)/api/v1/agents"; \
	run "opmanager GET v2 listDevices" -H "apikey: $$(sed -n 's/^    secret: //p' fixtures/opmanager.yaml | head -1)" "http://$(LOAD_ADDR)/api/json/v2/device/listDevices"; \
	run "ivanti-ism GET incidents" -H "Authorization: rest_api_key=$$(sed -n 's/^    secret: //p' fixtures/ivanti-ism.yaml | head -1)" "http://$(LOAD_ADDR)/api/odata/businessobject/incidents?%24top=50"

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
