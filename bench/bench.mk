# Benchmarks: ycm against peers doing the same work on the same ycm-mock, in one run.
# Included by the top Makefile (CARGO, PYTHON, VENV, RELEASE, LIB_SO, MOCK_BIN and HEADER
# come from there). See bench/README.md.
#
#   make bench              build, run every benchmark (about 2 minutes), print the table,
#                           write bench/results/latest.md
#   make bench-bins         only build bench/build/bench_ycm and bench/build/bench_curl
#   make bench-clean        remove bench/build and bench/results
#   make bench-fleet        one client ID across processes: 8 processes x 200 updates,
#                           sync runs, short tokens, the host scope's cost (bench_fleet.rs)
#   make soak               the memory guard: SOAK_CALLS (1000000) updates on one client,
#                           VmRSS after SOAK_FIRST (10000) and after all; fails at >= 1 MiB
#                           growth (bench/soak.sh, bench/c/soak.c)
#
# Knobs (make variables or environment): BENCH_ROUNDS (5), BENCH_REQUESTS (5000 per C run),
# BENCH_THREADS (4), BENCH_PY_REQUESTS (1000), BENCH_WRK_SECONDS (2); SOAK_CALLS, SOAK_FIRST.

BENCH_DIR     := bench
BENCH_BUILD   := $(BENCH_DIR)/build
BENCH_CFLAGS  := -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -pthread -Iinclude
BENCH_PY      := $(VENV)/bin/python
BENCH_PY_STAMP := $(VENV)/.bench-requirements

BENCH_ROUNDS      ?= 5
BENCH_REQUESTS    ?= 5000
BENCH_THREADS     ?= 4
BENCH_PY_REQUESTS ?= 1000
BENCH_WRK_SECONDS ?= 2
SOAK_CALLS        ?= 1000000
SOAK_FIRST        ?= 10000
FLEET_ROUNDS      ?= 3

.PHONY: bench bench-bins bench-deps bench-py-deps bench-clean soak bench-sync bench-fleet

bench: release bench-deps bench-py-deps
	@$(MAKE) --no-print-directory bench-bins
	@MOCK_BIN=$(MOCK_BIN) LIB_SO=$(LIB_SO) BENCH_BUILD=$(CURDIR)/$(BENCH_BUILD) \
	PYTHON=$(PYTHON) BENCH_PY=$(BENCH_PY) BENCH_ROUNDS=$(BENCH_ROUNDS) \
	BENCH_REQUESTS=$(BENCH_REQUESTS) BENCH_THREADS=$(BENCH_THREADS) \
	BENCH_PY_REQUESTS=$(BENCH_PY_REQUESTS) BENCH_WRK_SECONDS=$(BENCH_WRK_SECONDS) \
	$(BENCH_DIR)/run.sh

bench-bins: $(BENCH_BUILD)/bench_ycm $(BENCH_BUILD)/bench_curl $(BENCH_BUILD)/bench_paired

# System packages: libcurl's headers are required (the peer); wrk is optional (the ceiling).
bench-deps:
	@dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || \
	(apt-get update && apt-get install -y libcurl4-openssl-dev)
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk >/dev/null 2>&1 || \
	(apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1) || \
	echo "bench: wrk is not installable here; the mock's ceiling will be skipped"

# `requests` (pinned in bench/requirements.txt) goes into the project venv; a stamp inside
# the venv makes this a no-op until the pin changes or the venv is recreated.
bench-py-deps: $(BENCH_PY_STAMP)

$(BENCH_PY_STAMP): $(BENCH_DIR)/requirements.txt
	@test -x $(BENCH_PY) || $(PYTHON) -m venv $(VENV)
	$(BENCH_PY) -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

$(BENCH_BUILD)/bench_ycm: $(BENCH_DIR)/c/bench_ycm.c $(BENCH_DIR)/c/bench_common.h $(HEADER) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -L$(RELEASE) -lycm -Wl,-rpath,$(RELEASE) -o $@

$(BENCH_BUILD)/bench_curl: $(BENCH_DIR)/c/bench_curl.c $(BENCH_DIR)/c/bench_common.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -lcurl -o $@

# The bulk-sync figures of issue 10 (examples/bench_sync.rs), each against its own mock.
bench-sync: release
	$(CARGO) run --release --example bench_sync -- $(MOCK_BIN) $(BENCH_SYNC_SCENARIOS)

# One client ID across processes (examples/bench_fleet.rs): fleet, sync, token, cost;
# FLEET_ROUNDS (3) runs per figure, medians printed. About 15 minutes in all.
bench-fleet: release
	FLEET_ROUNDS=$(FLEET_ROUNDS) $(CARGO) run --release --example bench_fleet -- $(MOCK_BIN) $(BENCH_FLEET_SCENARIOS)

soak: release
	@$(MAKE) --no-print-directory $(BENCH_BUILD)/soak
	@MOCK_BIN=$(MOCK_BIN) SOAK_BIN=$(CURDIR)/$(BENCH_BUILD)/soak PYTHON=$(PYTHON) \
	SOAK_CALLS=$(SOAK_CALLS) SOAK_FIRST=$(SOAK_FIRST) $(BENCH_DIR)/soak.sh

$(BENCH_BUILD)/soak: $(BENCH_DIR)/c/soak.c $(HEADER) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -L$(RELEASE) -lycm -Wl,-rpath,$(RELEASE) -o $@

bench-clean:
	rm -rf $(BENCH_BUILD) $(BENCH_DIR)/results

$(BENCH_BUILD)/bench_paired: $(BENCH_DIR)/c/bench_paired.c $(BENCH_DIR)/c/bench_common.h $(HEADER) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -L$(RELEASE) -lycm -Wl,-rpath,$(RELEASE) -lcurl -o $@
