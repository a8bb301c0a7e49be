# The Python package's rules, included by the top Makefile (paths relative to the repo root;
# CARGO, PYTHON, VENV, RELEASE, LIB_SO and MOCK_BIN come from there).
#
#   make py-venv           $(VENV) with the pinned tools of bindings/python/requirements-dev.txt,
#                          and the package importable from the checkout (a .pth file), so that
#                          `$(VENV)/bin/python bindings/python/examples/update_user.py` works
#   make py-test           mypy --strict, pytest against ycm-mock, then py-install-check
#   make py-install-check  pip-installs bindings/python into a throwaway venv and imports it
#                          from outside the checkout with no environment variable set
#
# Tests load the checkout's library (YCM_LIBRARY=$(LIB_SO)) and start $(MOCK_BIN) and
# $(FAULT_SERVER_BIN) themselves (override with YCM_MOCK_BIN and YCM_FAULT_SERVER_BIN). The
# 10-second acceptance run of issue 4 (tests/test_long_run.py, marked `slow`) is part of
# py-test; for a quick run: cd bindings/python && pytest -m "not slow".

PY_DIR      := bindings/python
PY_VENV_PY  := $(VENV)/bin/python
PY_STAMP    := $(VENV)/.py-dev-requirements
PY_PIP      := -m pip install --quiet --disable-pip-version-check
FAULT_SERVER_BIN := $(RELEASE)/ycm-fault-server

.PHONY: py-venv py-test py-typecheck py-unit py-install-check

py-venv: $(PY_STAMP)

# A stamp inside the venv: redone when the pins change or the venv is recreated.
$(PY_STAMP): $(PY_DIR)/requirements-dev.txt
	@test -x $(PY_VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(PY_VENV_PY) $(PY_PIP) -r $<
	$(PY_VENV_PY) -c 'import sys, sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()["purelib"], "ycm-checkout.pth").write_text(sys.argv[1] + "\n")' $(CURDIR)/$(PY_DIR)
	@touch $@

# The steps, as canned recipes so that py-test runs each once after one cargo build.
define PY_TYPECHECK
cd $(PY_DIR) && $(PY_VENV_PY) -m mypy --strict ycm tests examples
endef

define PY_UNIT
cd $(PY_DIR) && YCM_LIBRARY=$(LIB_SO) YCM_MOCK_BIN=$${YCM_MOCK_BIN:-$(MOCK_BIN)} \
	YCM_FAULT_SERVER_BIN=$${YCM_FAULT_SERVER_BIN:-$(FAULT_SERVER_BIN)} \
	$(PY_VENV_PY) -m pytest -q -p no:cacheprovider
endef

# The installed package must carry its own, current libycm.so: run from a directory outside
# the checkout with no YCM_LIBRARY and no PYTHONPATH, the bundled copy must be the library
# just built (given to setup.py as YCM_LIBRARY, so pip compiles nothing; `make dist-test`
# builds from the sdist instead).
define PY_INSTALL_CHECK
@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
$(PYTHON) -m venv "$$tmp/venv"; \
YCM_LIBRARY=$(LIB_SO) "$$tmp/venv/bin/python" $(PY_PIP) $(CURDIR)/$(PY_DIR); \
cd "$$tmp"; \
env -u YCM_LIBRARY -u PYTHONPATH "$$tmp/venv/bin/python" -c 'import ycm; print(ycm.__version__)'; \
bundled=$$(env -u YCM_LIBRARY -u PYTHONPATH "$$tmp/venv/bin/python" -c \
	'import pathlib, ycm; p = pathlib.Path(ycm.library_path); assert p.parent == pathlib.Path(ycm.__file__).parent, p; print(p)'); \
cmp -s "$$bundled" $(LIB_SO) || { echo "py-install-check: $$bundled differs from $(LIB_SO)"; exit 1; }; \
echo "py-install-check: pip install $(PY_DIR) works; the bundled libycm.so is the current $(LIB_SO)"
endef

py-typecheck: py-venv
	$(PY_TYPECHECK)

py-unit: release py-venv
	$(PY_UNIT)

py-install-check: release
	$(PY_INSTALL_CHECK)

py-test: release py-venv
	$(PY_TYPECHECK)
	$(PY_UNIT)
	$(PY_INSTALL_CHECK)
