# ycm: build, demo, test, bench, header, install. `make help` lists the targets.
# The C layer's rules live in bindings/c/c.mk, the Python package's in bindings/python/python.mk.

CARGO      ?= cargo
PYTHON     ?= python3
PREFIX     ?= /usr/local
VENV       := $(CURDIR)/.venv
RELEASE    := $(CURDIR)/target/release
LIB_SO     := $(RELEASE)/libycm.so
LIB_A      := $(RELEASE)/libycm.a
MOCK_BIN   := $(RELEASE)/ycm-mock
HEADER     := $(CURDIR)/include/ycm.h

.PHONY: help all build release header header-check lint rust-test loom test demo bench install clean

help:
	@echo "make demo      build everything, start ycm-mock, update user 13329 from C and Python"
	@echo "make test      fmt, clippy, docs, Rust tests, header drift, C tests (ASan+UBSan, valgrind), Python tests"
	@echo "make bench     benchmarks against peers on the same mock server"
	@echo "make soak      RSS after 10,000 and 1,000,000 calls on one client (SOAK_CALLS=N to shorten)"
	@echo "make header    regenerate include/ycm.h"
	@echo "make fuzz      run every fuzz target for FUZZ_SECONDS (default 60)"
	@echo "make install   install the library, header and pkg-config file under PREFIX=$(PREFIX)"

all: release

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --release --workspace

# build.rs generates the header into OUT_DIR on every build; this also writes include/ycm.h.
header:
	YCM_WRITE_HEADER=1 $(CARGO) build --lib

# Fails when the committed include/ycm.h differs from a fresh generation or from Cargo.toml's
# version (also part of rust-test).
header-check:
	$(CARGO) test --test header

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --workspace --no-deps

rust-test:
	$(CARGO) test --workspace

# Model-checks the shared token renewal (src/token_cache.rs) with loom; its own target dir
# because the cfg changes every crate's build.
loom:
	RUSTFLAGS="--cfg ycm_loom" CARGO_TARGET_DIR=$(CURDIR)/target/loom $(CARGO) test --lib token_cache

test: lint header-check rust-test loom c-test py-test
	@echo "make test: all suites passed"

demo: release c-build py-venv
	@scripts/demo.sh

install: release
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 $(HEADER) bindings/c/include/ycm.hpp $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)|' \
		bindings/c/ycm.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ycm.pc

clean: bench-clean
	$(CARGO) clean
	rm -rf bindings/c/build $(VENV)

include bindings/c/c.mk
include bindings/python/python.mk
include bench/bench.mk
include fuzz/fuzz.mk
