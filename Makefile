# opsconform: `make mock` serves the embedded profiles, `make test` runs every test.
GO       ?= go
ADDR     ?= 127.0.0.1:8060
BIN      ?= bin/opsconform
PKGS     := ./...
BENCH    ?= .
BENCHTIME ?= 1s

.PHONY: all build mock test vet fmt-check bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/opsconform

## mock: serve every embedded profile on $(ADDR)
mock:
	$(GO) run ./cmd/opsconform mock --addr $(ADDR)

## test: formatting, vet and every test under the race detector
test: fmt-check vet
	$(GO) test -race -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: every benchmark with allocations
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) $(PKGS)

clean:
	rm -rf bin
