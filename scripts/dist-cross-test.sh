#!/usr/bin/env bash
# make dist-cross-test: the manylinux2014 wheels of `make dist-wheels` as users get them. Run
# by `make dist-cross-test` (and so by .ci/run), which passes DIST_PY_BIN (the dist venv,
# with zig), VERSION, SONAME, MOCK_BIN, FAULT_SERVER_BIN, WHEEL_DIR, WHEEL_GLIBC and WHEELS
# (the wheel file names that must exist).
#
#  1. Every wheel: named py3-none-manylinux2014_ARCH.manylinux_2_17_ARCH; `auditwheel show`
#     finds it consistent with manylinux_2_17_ARCH; its libycm.so is an ELF of ARCH with the
#     SONAME, stripped, needing nothing but glibc's own libraries, and referencing no glibc
#     symbol version newer than WHEEL_GLIBC (objdump -T); under 4 MB.
#  2. x86_64: the wheel installs (--no-index) into a fresh venv of Python 3.9 and of 3.13
#     (pyenv: ~/.pyenv/versions/3.9*, 3.13*), and the package's own tests
#     (bindings/python/tests, pytest as pinned in requirements-dev.txt) pass against the
#     installed package and the library it bundles, run from outside the checkout.
#  3. aarch64: bindings/c/examples/update_user.c and a version check, compiled by zig cc for
#     aarch64 glibc WHEEL_GLIBC against the wheel's libycm.so, run under qemu-aarch64 (with
#     Debian's aarch64 glibc, libc6-arm64-cross): they create a client and update a user on
#     ycm-mock over loopback.
#
# Prints one line per check and "N passed, N failed" at the end; exits 1 on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DIST_PY_BIN:?}" "${VERSION:?}" "${SONAME:?}" "${WHEEL_DIR:?}" "${WHEEL_GLIBC:?}" "${WHEELS:?}"
: "${MOCK_BIN:=$root/target/release/ycm-mock}" "${FAULT_SERVER_BIN:=$root/target/release/ycm-fault-server}"
: "${QEMU_AARCH64:=qemu-aarch64}" "${AARCH64_SYSROOT:=/usr/aarch64-linux-gnu}"
# shellcheck source=scripts/mock.sh
. "$root/scripts/mock.sh"

work=$(mktemp -d)
cleanup() { stop_mock; rm -rf "$work"; }
trap cleanup EXIT
checks_name=dist-cross-test
CHECK_LOG_LINES=60
# shellcheck source=scripts/checks.sh
. "$root/scripts/checks.sh"
glibc_tag=${WHEEL_GLIBC/./_}

start_mock "$MOCK_BIN"
token=ycm-mock-token
user=13329

# --- 1. every wheel --------------------------------------------------------------------------
declare -A wheel_of
for name in $WHEELS; do
  arch=${name%.whl}
  arch=${arch##*.manylinux_"${glibc_tag}"_}
  wheel="$WHEEL_DIR/$name"
  wheel_of[$arch]=$wheel
  section "$name"
  if [ ! -f "$wheel" ]; then
    bad "$name exists in $WHEEL_DIR (make dist-wheels)"
    continue
  fi
  echo "     $name: $(stat -c %s "$wheel") bytes"
  check "tagged py3-none-manylinux2014_$arch.manylinux_${glibc_tag}_$arch" bash -c "
    [[ '$name' == yeastar_ycm-$VERSION-py3-none-manylinux2014_$arch.manylinux_${glibc_tag}_$arch.whl ]] &&
    '$DIST_PY_BIN' -m zipfile -l '$wheel' | grep -q 'yeastar_ycm-$VERSION.dist-info/WHEEL' &&
    '$DIST_PY_BIN' -c '
import sys, zipfile
tags = [l.split(\": \", 1)[1] for l in zipfile.ZipFile(sys.argv[1]).read(\"yeastar_ycm-$VERSION.dist-info/WHEEL\").decode().splitlines() if l.startswith(\"Tag: \")]
print(tags)
assert sorted(tags) == sorted([\"py3-none-manylinux2014_$arch\", \"py3-none-manylinux_${glibc_tag}_$arch\"]), tags' '$wheel'"
  check "auditwheel show: consistent with manylinux_${glibc_tag}_$arch" bash -c "
    out=\$(PATH='$(dirname "$DIST_PY_BIN")':\$PATH '$DIST_PY_BIN' -m auditwheel show '$wheel' 2>&1) && echo \"\$out\" &&
    tr '\n' ' ' <<<\"\$out\" | grep -q 'consistent with the following platform tag: \"manylinux_${glibc_tag}_$arch\"'"
  check "under 4 MB" test "$(stat -c %s "$wheel")" -lt 4000000
  lib="$work/$arch/ycm/libycm.so"
  mkdir -p "$work/$arch"
  (cd "$work/$arch" && "$DIST_PY_BIN" -m zipfile -e "$wheel" .)
  machine=$([ "$arch" = x86_64 ] && echo 'Advanced Micro Devices X86-64' || echo AArch64)
  check "libycm.so: ELF of $arch, SONAME $SONAME, stripped" bash -c "
    readelf -h '$lib' | grep -q 'Machine: *$machine' &&
    readelf -d '$lib' | grep -q 'Library soname: \[$SONAME\]' &&
    ! readelf -S '$lib' | grep -q '\.debug_info' && ! readelf -S '$lib' | grep -q ' \.symtab'"
  check "libycm.so needs only glibc's libraries" bash -c "
    needed=\$(readelf -d '$lib' | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p') && echo \$needed &&
    for n in \$needed; do case \$n in libc.so.6|libm.so.6|libpthread.so.0|libdl.so.2|librt.so.1|ld-linux-x86-64.so.2|ld-linux-aarch64.so.1) ;; *) echo \"needs \$n\"; exit 1;; esac; done"
  check "libycm.so references no glibc symbol newer than $WHEEL_GLIBC (objdump -T)" bash -c "
    versions=\$(objdump -T '$lib' | grep -o 'GLIBC_[0-9][0-9.]*' | sort -uV) && echo \$versions &&
    [ -n \"\$versions\" ] && newest=\$(tail -n 1 <<<\"\$versions\") && echo \"newest: \$newest\" &&
    [ \"\$(printf '%s\n%s\n' \"\$newest\" 'GLIBC_$WHEEL_GLIBC' | sort -V | tail -n 1)\" = 'GLIBC_$WHEEL_GLIBC' ]"
done

# --- 2. x86_64: the package's tests on Python 3.9 and 3.13 ------------------------------------
wheel=${wheel_of[x86_64]:-}
if [ -n "$wheel" ] && [ -f "$wheel" ]; then
  pytest_pin=$(grep -E '^pytest==' bindings/python/requirements-dev.txt)
  for minor in 3.9 3.13; do
    section "Python $minor: the x86_64 wheel and the package's tests"
    py=$(ls -d "$HOME"/.pyenv/versions/"$minor".* 2>/dev/null | sort -V | tail -n 1)
    py=${py:+$py/bin/python3}
    if [ -z "$py" ] || [ ! -x "$py" ]; then
      bad "Python $minor is installed (~/.pyenv/versions/$minor.*: pyenv install $minor)"
      continue
    fi
    venv="$work/venv-$minor"
    check "Python $minor: the wheel installs into a fresh venv (--no-index), with $pytest_pin" bash -c "
      '$py' -m venv '$venv' &&
      '$venv/bin/python' -m pip install --quiet --disable-pip-version-check --no-index '$wheel' &&
      '$venv/bin/python' -m pip install --quiet --disable-pip-version-check '$pytest_pin'"
    # From $work: no YCM_LIBRARY, no PYTHONPATH, and no checkout on sys.path, so `import ycm`
    # is the installed package with its bundled library.
    check "Python $minor: ycm is the installed package, loading its bundled manylinux2014 library" bash -c "
      cd '$work' && env -u YCM_LIBRARY -u PYTHONPATH '$venv/bin/python' -c '
import pathlib, sys, ycm
site = pathlib.Path(sys.prefix).resolve()
lib = pathlib.Path(ycm.library_path).resolve()
print(sys.version.split()[0], ycm.__version__, lib)
assert site in lib.parents and lib.parent == pathlib.Path(ycm.__file__).resolve().parent, lib
' && cmp '$work/x86_64/ycm/libycm.so' \"\$('$venv/bin/python' -c 'import ycm; print(ycm.library_path)')\""
    check "Python $minor: the package's tests pass (bindings/python/tests)" bash -c "
      cd '$work' && env -u YCM_LIBRARY -u PYTHONPATH YCM_MOCK_BIN='$MOCK_BIN' YCM_FAULT_SERVER_BIN='$FAULT_SERVER_BIN' \
        '$venv/bin/python' -m pytest -q -p no:cacheprovider -c '$root/bindings/python/pyproject.toml' \
        --rootdir '$root/bindings/python' '$root/bindings/python/tests' 2>&1 | tee '$work/pytest-$minor.log' | tail -n 15 &&
      [ \"\${PIPESTATUS[0]}\" = 0 ] || exit 1"
    tail -n 1 "$work/pytest-$minor.log" 2>/dev/null | sed 's/^/     /'
  done
fi

# --- 3. aarch64: C on the wheel's library under qemu-aarch64 ----------------------------------
wheel=${wheel_of[aarch64]:-}
if [ -n "$wheel" ] && [ -f "$wheel" ]; then
  section "aarch64: C programs on the wheel's libycm.so under $QEMU_AARCH64"
  libdir="$work/aarch64/ycm"
  ln -sfn libycm.so "$libdir/$SONAME"
  cat >"$work/version_check.c" <<'EOF'
/* The library run is the one this header describes. */
#include "ycm.h"

#include <stdio.h>
#include <string.h>

int main(void) {
  const char *v = ycm_version();
  printf("ycm_version() = %s, header %s\n", v ? v : "(null)", YCM_VERSION_STRING);
  return v != NULL && strcmp(v, YCM_VERSION_STRING) == 0 ? 0 : 1;
}
EOF
  zigcc=("$DIST_PY_BIN" -m ziglang cc -target "aarch64-linux-gnu.$WHEEL_GLIBC"
         -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$root/include" -L"$libdir" -lycm)
  check "zig cc: update_user.c and version_check.c for aarch64 glibc $WHEEL_GLIBC, against the wheel's library" bash -c "
    $(printf '%q ' "${zigcc[@]}") '$root/bindings/c/examples/update_user.c' -o '$work/update_user' &&
    $(printf '%q ' "${zigcc[@]}") '$work/version_check.c' -o '$work/version_check' &&
    readelf -h '$work/update_user' | grep -q 'Machine: *AArch64' &&
    readelf -d '$work/update_user' | grep -q 'Shared library: \[$SONAME\]'"
  qemu=("$QEMU_AARCH64" -L "$AARCH64_SYSROOT" -E "LD_LIBRARY_PATH=$libdir")
  check "qemu-aarch64: the library reports version $VERSION" "${qemu[@]}" "$work/version_check"
  company="dist-cross-test aarch64 $$"
  check "qemu-aarch64: update_user creates a client and updates user $user on ycm-mock ($mock_url)" bash -c "
    out=\$($(printf '%q ' "${qemu[@]}") '$work/update_user' '$mock_url' '$token' '$user' '$company') && echo \"\$out\" &&
    grep -q '\"company\":\"$company\"' <<<\"\$out\""
  check "  ycm-mock holds the new company" "$DIST_PY_BIN" -c '
import json, sys, urllib.request
user = json.load(urllib.request.urlopen(sys.argv[1], timeout=10))
print(user)
assert user["company"] == sys.argv[2], user' "$mock_url/__mock/users/$user" "$company"
fi

checks_summary
