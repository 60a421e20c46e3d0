# driftwatch: `make test` runs every test; `make demo` runs the demo.
GO      ?= go
BIN     ?= bin/driftwatch
PKGS    := ./...

.PHONY: all build test vet fuzz bench golden demo clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/driftwatch

## test: vet, then every test with the race detector (fuzz targets run their seed corpora).
test: vet
	$(GO) test -race -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## fuzz: run every fuzz target in the module for FUZZTIME each (default 30s).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; \
			$(GO) test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## bench: records per second of replay beside plain JSON decoding of the same file.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=5x -count=1 ./bench/

## golden: regenerate golden files from the reference implementations
## (python3 with scipy, scikit-learn, fairlearn and river from PyPI). make test only reads them.
golden:
	python3 stats/testdata/golden.py
	for f in $$(find . -path '*/testdata/golden/gen_*.py' | sort); do python3 $$f || exit 1; done

demo:
	$(GO) run ./cmd/driftwatch demo

clean:
	rm -rf bin driftwatch-demo
