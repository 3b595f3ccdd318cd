# thinkio: the two commands a newcomer needs are `make run` and `make test` (see README.md).
# Each installs what it needs on a fresh machine (Python packages into .venv, npm packages
# into git-ignored node_modules folders, Debian packages with apt-get when missing).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# What `make run` needs: thinkio, its dependencies and uvloop; not the test toolchain.
RUN_STAMP := $(VENV)/.installed-run
PYTEST := HYPOTHESIS_PROFILE=ci $(PY) -m pytest -p no:cacheprovider

# Every folder with a package-lock.json gets `npm ci` (pinned; node_modules is git-ignored).
NODE_DIRS := $(patsubst %/package-lock.json,%,$(wildcard protocol/*/package-lock.json \
               tests/*/package-lock.json tests/*/*/package-lock.json examples/*/package-lock.json \
               bench/package-lock.json bench/*/package-lock.json))
# Debian packages the tests need, as "command:package" (installed only when missing).
SYSTEM_DEPS ?= chromium:chromium redis-server:redis-server redis-cli:redis-tools openssl:openssl

.PHONY: run test lint unit protocol setup node-deps system-deps fuzz-long fuzz-net soak ci-soak \
        ci-fuzz-net interop-table bench profile wheel-test compiled compiled-test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# The test install (.[test]) holds everything running needs, so it counts.
$(RUN_STAMP): pyproject.toml
	@if [ $(STAMP) -nt pyproject.toml ]; then touch $@; exit 0; fi; \
	echo "installing thinkio and what it needs to run (h11, wsproto, anyio, uvloop) into $(VENV); this may take a minute"; \
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV) || exit 1; \
	$(PY) -m pip install -q --disable-pip-version-check -e '.[speed]' > $(VENV)/pip-run.log 2>&1 \
	  || { cat $(VENV)/pip-run.log; exit 1; }; \
	touch $@

setup: $(STAMP)

node-deps:
	@for d in $(NODE_DIRS); do \
	  if [ ! -d $$d/node_modules ] || [ $$d/package-lock.json -nt $$d/node_modules ]; then \
	    echo "npm ci in $$d"; (cd $$d && npm ci --silent --no-audit --no-fund) || exit 1; \
	    touch $$d/node_modules; \
	  fi; \
	done

system-deps:
	@missing=""; for dep in $(SYSTEM_DEPS); do \
	  command -v $${dep%%:*} >/dev/null 2>&1 || missing="$$missing $${dep#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## The example chat app (examples/chat) on http://127.0.0.1:8360; Ctrl-C stops it.
## Installs only what running needs; npm ci only in its folder (the socket.io browser client,
## from the npm registry).
run: $(RUN_STAMP)
	@$(MAKE) --no-print-directory node-deps NODE_DIRS=examples/chat
	$(VENV)/bin/thinkio run examples/chat --host 127.0.0.1 --port 8360

# Only folders that exist (a checkout may predate one of them).
LINT_PATHS := thinkio tests setup.py conftest.py $(wildcard fuzz protocol examples bench soak)
UNIT_PATHS := tests $(wildcard fuzz)

lint: $(STAMP)
	$(PY) -m ruff check $(LINT_PATHS)
	$(PY) -m mypy thinkio
	$(PY) -m mypy $(wildcard soak fuzz/net fuzz/__main__.py tests/soak)

# The compiled build first: the benchmark's smoke test runs a server of it.
unit: $(STAMP) node-deps system-deps compiled
	$(PYTEST) $(UNIT_PATHS) -q -n 2 --durations=20

## The conformance suite, against thinkio (asyncio and trio) and against Node's reference server.
protocol: $(STAMP) node-deps
	$(PYTEST) protocol -q
	$(PYTEST) protocol -q --server node

## The whole test run: lint, unit + fuzz (bounded `ci` profile), conformance, the protocol
## suites again on the compiled build, and the quick profiles of the soak suite (~90 s) and of
## the network fuzzer (~60 s).
test: lint unit protocol compiled-test ci-soak ci-fuzz-net

## The compiled build (setup.py: the protocol modules compiled with mypyc), built as a wheel
## and installed into .build/compiled, which `make bench` runs; rebuilt only when thinkio/
## changed (about a minute).
compiled: $(STAMP)
	$(PY) -m bench.compiled

## The suites that exercise the compiled modules, run against the compiled build: the sans-I/O
## and server unit tests, the property tests (fuzz/), and the conformance suite on both
## backends (about 2 min). conftest.py stops the run if it would import the Python source.
COMPILED_ENV := THINKIO_EXPECT_COMPILED=1 PYTHONSAFEPATH=1 \
                PYTHONPATH=$(CURDIR)/.build/compiled:$(CURDIR)
COMPILED_TESTS := $(addprefix tests/,engineio socketio websocket http engine server client \
                    net dispatch testing test_layering.py test_compiled.py) $(wildcard fuzz)
compiled-test: compiled node-deps
	$(COMPILED_ENV) $(PYTEST) --import-mode=append $(COMPILED_TESTS) -q -n 2
	$(COMPILED_ENV) $(PYTEST) --import-mode=append protocol -q

## The soak and chaos suite (soak/README.md): real servers driven from outside, figures and
## goals; bounded, loopback only, about 12 min. The short profile: make soak SOAK_ARGS=--quick
SOAK_ARGS ?=
soak: $(STAMP) system-deps
	$(PY) -m soak $(SOAK_ARGS)

# Scenarios the server is known to fail (none today). CI runs them and prints their figures; a listed
# scenario that passes fails the run, so each name goes as soon as the server is fixed.
SOAK_KNOWN_FAILURES :=
ci-soak:
	@$(MAKE) --no-print-directory soak \
	  SOAK_ARGS="--quick $(foreach name,$(SOAK_KNOWN_FAILURES),--known-failure $(name))"

## The network fuzzer (fuzz/README.md) against thinkio on asyncio and trio and against Node's
## reference server, 5 minutes each. Any other server: python -m fuzz --url URL --minutes N
FUZZ_NET_ARGS ?= --minutes 5
fuzz-net: $(STAMP) node-deps
	$(PY) -m fuzz --start thinkio:asyncio --start thinkio:trio --start node $(FUZZ_NET_ARGS)

ci-fuzz-net:
	@$(MAKE) --no-print-directory fuzz-net FUZZ_NET_ARGS="--seconds 12 --seed 1"

## The built wheel and sdist, installed into a fresh venv outside the repository, serving
## `thinkio new` to the python-socketio client (part of `make unit`; about 30 s).
wheel-test: $(STAMP)
	$(PYTEST) tests/packaging -q

## Regenerate docs/interop.md (the real-client matrix) from a fresh run, of a committed tree
## only: the page names the commit it was made from. Its "other real clients" rows are tests
## elsewhere (tests/admin, tests/plain, ...), named in tests/interop/rows.py and run again here.
interop-table: $(STAMP) node-deps system-deps
	@dirty="$$(git status --porcelain -- . ':!docs/interop.md')"; \
	if [ -n "$$dirty" ]; then \
	  echo "make interop-table: refused, the tree has uncommitted changes (docs/interop.md must come from a commit):"; \
	  echo "$$dirty"; echo "commit or stash them, then run it again"; exit 1; \
	fi
	@rows="$$($(PY) -m tests.interop.rows)" || exit 1; \
	echo "$(PYTEST) tests/interop tests/nodeapi $$rows -q --interop-table docs/interop.md"; \
	$(PYTEST) tests/interop tests/nodeapi $$rows -q --interop-table docs/interop.md

## Side by side, one run: thinkio (uvloop, asyncio, trio: the compiled build; uvloop from the
## source) vs python-socketio (uvicorn[standard])
## vs Node's socket.io, server and load generator pinned to separate CPUs (about 15 min; writes
## docs/performance.md + .png, refused on uncommitted changes under thinkio/ or bench/).
## Quick profile (< 1 min): make bench BENCH_ARGS=--quick. Table only: make bench BENCH_ARGS=
BENCH_ARGS ?= --write-docs
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) node-deps compiled
	$(PY) -m bench $(BENCH_ARGS)

## Where a Python server's CPU goes in one scenario (py-spy, by layer and function):
## make profile SCENARIO=ack-10 [PROFILE_ARGS='--server thinkio-trio --seconds 10']
SCENARIO ?= ack-10
PROFILE_ARGS ?=
profile: $(BENCH_STAMP)
	$(PY) -m bench.profile $(SCENARIO) $(PROFILE_ARGS)

## A long fuzz campaign: make fuzz-long SECONDS=600
SECONDS ?= 600
fuzz-long: $(STAMP)
	$(PY) -m fuzz.campaign --seconds $(SECONDS)

clean:
	rm -rf $(VENV) .build build .hypothesis .mypy_cache .ruff_cache .pytest_cache
