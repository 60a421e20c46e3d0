# driftwatch: `make test` runs every test; `make demo` runs the demo.
GO      ?= go
BIN     ?= bin/driftwatch
PKGS    := ./...

.PHONY: all build image test test-python tools servers-up servers-down vet fuzz bench bench-stats bench-pipeline bench-scaleout bench-detect profile golden demo clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/driftwatch

## image: build the Dockerfile, unmodified, with buildah (daemonless, chroot
## isolation, no registry: local stand-ins for its two base images, made once
## from Debian bookworm packages and the host's Go) into a storage of its own
## (~/.cache/driftwatch/buildah, DRIFTWATCH_BUILDAH_DIR), then check the image;
## see deploy/image/buildah.sh. Needs buildah (apt-get install buildah) and root;
## about 2.5 minutes, 3.5 the first time.
image:
	bash deploy/image/buildah.sh

## test: vet, start the test servers on loopback (Debian's ClickHouse and
## Debian's prometheus-alertmanager, installed with apt-get on first use; an
## Apache Kafka KRaft broker from Maven Central jars, cached after the first
## download, on the machine's JDK), then every test with the race detector
## (fuzz targets run their seed corpora), then the Python client's tests
## (test-python); the servers are stopped afterwards.
## Last, alone on the machine, the container image is built from the
## Dockerfile with buildah and checked (TestImageWithBuildah, as make image).
## Tools the tests run are installed first (deploy/servers/<name>.sh install):
## promtool (Debian's prometheus package) checks deploy/prometheus; amtool
## comes with prometheus-alertmanager; buildah and mmdebstrap build the image;
## Debian's chromium (and a font) opens the HTML report headless
## (internal/report/browser). The tests get the environment that every
## server's and tool's env prints (DRIFTWATCH_TEST_CHROMIUM for chromium).
SERVERS ?= clickhouse kafka alertmanager
TOOLS   ?= promtool buildah chromium
test: vet tools
	@set -e; for s in $(SERVERS); do bash deploy/servers/$$s.sh start; done
	@set -a; for s in $(SERVERS) $(TOOLS); do eval "$$(bash deploy/servers/$$s.sh env)"; done; set +a; \
	rc=0; $(GO) test -race -count=1 -timeout 30m $(PKGS) || rc=$$?; \
	( $(TEST_PYTHON) ) || rc=$$?; \
	for s in $(SERVERS); do bash deploy/servers/$$s.sh stop; done; \
	DRIFTWATCH_TEST_IMAGE=1 $(GO) test -count=1 -run '^TestImageWithBuildah$$' ./deploy/ || rc=$$?; exit $$rc

tools:
	@set -e; for t in $(TOOLS); do bash deploy/servers/$$t.sh install; done

## test-python: the Python client's tests (clients/python/tests, pytest): its
## validator against the contract cases the consumer's tests also run
## (consumer/testdata/contract/cases.json), and, with the Kafka test server's
## environment (make test gives it; else they are skipped, or fail under CI),
## its Kafka tests and the wire test, which replays what it sent with
## driftwatch. The virtualenv is made once per pyproject.toml by
## clients/python/venv.sh (pip, from PyPI, into ~/.cache/driftwatch); the
## client is installed from the work tree, as pip installs it, into a
## temporary directory each run, and driftwatch is built there.
# The recipe of test-python, inlined in test's (not a sub-make: make
# -n would run that line, go test and all, and deploy/make_test.go reads
# make -n test).
TEST_PYTHON = py=$$(sh clients/python/venv.sh) && tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	"$$py" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --target "$$tmp/site" ./clients/python && \
	$(GO) build -o "$$tmp/driftwatch" ./cmd/driftwatch && \
	PYTHONPATH="$$tmp/site" DRIFTWATCH_BIN="$$tmp/driftwatch" "$$py" -m pytest -q clients/python/tests
test-python:
	@$(TEST_PYTHON)

## servers-up, servers-down: start or stop the test servers by hand;
## eval "$$(bash deploy/servers/<name>.sh env)" then gives tests their addresses.
servers-up:
	@set -e; for s in $(SERVERS); do bash deploy/servers/$$s.sh start; done
servers-down:
	@for s in $(SERVERS); do bash deploy/servers/$$s.sh stop; done

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
	$(GO) test -run='^$$' -bench='^Benchmark(Replay|JSONDecode|ContractDecode)$$' -benchmem -benchtime=5x -count=1 ./bench/

## bench-stats: every statistic at 1e3, 1e5 and 1e7 observations beside SciPy,
## statsmodels, numpy and River timed on the same inputs in the same run;
## writes bench/RESULTS.md (about 10 minutes; see bench/stats/run.sh for knobs).
bench-stats:
	GO=$(GO) PYTHON=$(PYTHON) sh bench/stats/run.sh

## bench-pipeline: issue 14's figures side by side in one run on the generated
## workload (bench/workload: 1 KB records, 40 features): Go benchmarks (parse
## floors, decode, decode + windows + statistics at 1 and 2 cores, allocations
## per record), replay's CPU and max RSS, the heap after 10M vs 1M records,
## `driftwatch run` vs a plain franz-go consumer on the Kafka test broker, the
## Python peers (pandas + SciPy, NannyML, Evidently; installed from PyPI by
## bench/pipeline/setup.sh) and the profiles; writes the pipeline section of
## bench/RESULTS.md (about 20 minutes; knobs in bench/pipeline/run.sh).
bench-pipeline:
	GO=$(GO) sh bench/pipeline/run.sh

## bench-scaleout: issue 15's figures on the Kafka and ClickHouse test servers
## (started with servers-up if they are not running, left running): records/s
## of one scaled-out `driftwatch run` pinned to one core against two pinned to
## two, interleaved over rounds, with the instances', the broker's and
## ClickHouse's CPU; then a load test of two instances at three times a stated
## peak rate for 5 minutes, sampling lag, CPU and RSS every second into
## bench/scaleout-load.csv and bench/scaleout-load.svg; writes the scaleout
## section of bench/RESULTS.md (about 10 minutes; knobs in bench/scaleout/run.sh).
bench-scaleout:
	GO=$(GO) sh bench/scaleout/run.sh

## bench-detect: issue 16's detection benchmark (bench/detect): generated
## streams of every kind of change with their ground truth, driftwatch's
## defaults (baseline + replay) and Evidently's DataDriftPreset on the same
## data, scored for recall and false alarms; writes bench/DETECTION.md. Evidently
## comes from the golden virtualenv (pinned requirements, pip from PyPI); when
## it cannot be installed, driftwatch's side still runs and the report says why
## (about 35 minutes on two cores: 51 streams, three per scenario). Then the
## streams kept aside (other sizes, strengths and seeds, driftwatch alone, about
## a minute) into bench/DETECTION-aside.md.
DETECT_SETUP_LOG ?= $(or $(TMPDIR),/tmp)/driftwatch-bench-detect-setup.log
bench-detect:
	@$(MAKE) --no-print-directory $(GOLDEN_VENV)/.installed > $(DETECT_SETUP_LOG) 2>&1 || \
		echo "bench-detect: installing Evidently failed (see $(DETECT_SETUP_LOG)); driftwatch's side runs alone"
	$(GO) run ./bench/detect -python $(GOLDEN_VENV)/bin/python -setup-log $(DETECT_SETUP_LOG)
	$(GO) run ./bench/detect -set aside -seed 7100 -work $(or $(TMPDIR),/tmp)/driftwatch-bench-detect-aside

## profile: CPU and allocation profiles of the pipeline benchmarks with
## `go tool pprof -top` summaries, in bench/profiles (PROFILE_DIR).
profile:
	GO=$(GO) sh bench/pipeline/profile.sh

## golden: regenerate every <pkg>/testdata/golden/<name>.json with its gen_<name>.py,
## using the reference libraries pinned in stats/testdata/golden/requirements.txt
## (SciPy, scikit-learn, Fairlearn, River, statsmodels, Evidently from PyPI), installed with pip
## into the virtualenv $(GOLDEN_VENV), with a fixed PYTHONHASHSEED (set order feeds some
## references, e.g. Evidently's category handling); then report the case counts.
## Scripts named gen_*_nannyml.py run instead with NannyML and its dependencies,
## pinned in stats/testdata/golden/requirements-nannyml.txt, in the virtualenv
## $(NANNYML_VENV). make test only reads the committed files.
PYTHON       ?= python3
GOLDEN_VENV  ?= .venv-golden
GOLDEN_REQS  := stats/testdata/golden/requirements.txt
NANNYML_VENV ?= .venv-nannyml
NANNYML_REQS := stats/testdata/golden/requirements-nannyml.txt

$(GOLDEN_VENV)/.installed: $(GOLDEN_REQS)
	$(PYTHON) -m venv $(GOLDEN_VENV)
	$(GOLDEN_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(GOLDEN_REQS)
	touch $@

$(NANNYML_VENV)/.installed: $(NANNYML_REQS)
	$(PYTHON) -m venv $(NANNYML_VENV)
	$(NANNYML_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(NANNYML_REQS)
	touch $@

golden: $(GOLDEN_VENV)/.installed $(NANNYML_VENV)/.installed
	@set -e; for f in $$(find . \( -path ./$(GOLDEN_VENV) -o -path ./$(NANNYML_VENV) \) -prune -o -path '*/testdata/golden/gen_*.py' -print | sort); do \
		case $$f in *_nannyml.py) py=$(NANNYML_VENV)/bin/python ;; *) py=$(GOLDEN_VENV)/bin/python ;; esac; \
		NML_DISABLE_USAGE_LOGGING=1 PYTHONHASHSEED=0 $$py $$f; \
	done
	$(GO) test -count=1 -run '^TestGoldenFiles$$' -v ./stats/

demo:
	$(GO) run ./cmd/driftwatch demo

clean:
	rm -rf bin driftwatch-demo
