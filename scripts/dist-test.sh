#!/usr/bin/env bash
# make dist-test: the library as its users get it, never from the checkout. Run by
# `make dist-test` (part of `make test`), which passes MAKE, CARGO, DIST_PY_BIN (the venv of
# bindings/python/requirements-dist.txt), VERSION, SONAME, REALNAME and MOCK_BIN.
#
#  1. `make install DESTDIR=...` into a temporary prefix; a C and a C++ program (copies of
#     bindings/c/examples) built with CMake (find_package(yeastar-ycm), ycm::ycm and
#     ycm::ycm_static) and with pkg-config (shared, and --static) update a user on ycm-mock;
#     the shared ones record the SONAME, not a path, and still run after the prefix is moved
#     (LD_LIBRARY_PATH); ycm.hpp refuses C++14 clearly; `make uninstall` empties the prefix;
#     a non-default LIBDIR and INCLUDEDIR are honoured.
#  2. The crate: `cargo package` succeeds with the files the sdist needs; a Rust dependent
#     resolves it to an rlib without cbindgen.
#  3. Python: `make dist-sdist dist-wheel`; the wheel (of the library linked here; the
#     manylinux2014 ones are scripts/dist-cross-test.sh's) is py3-none-manylinux, < 4 MB, with a
#     stripped library; it installs into a fresh venv of every pyenv interpreter >= 3.9 and
#     updates a user on ycm-mock; the sdist installs into a fresh venv (cargo builds the
#     library from the sdist's own sources) and does the same; junk libraries are refused.
#
# Prints one line per check and "N passed, N failed" at the end; exits 1 on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${MAKE:=make}" "${CARGO:=cargo}" "${DIST_PY_BIN:?}" "${VERSION:?}" "${SONAME:?}" "${REALNAME:?}"
: "${MOCK_BIN:=$root/target/release/ycm-mock}"
# shellcheck source=scripts/mock.sh
. "$root/scripts/mock.sh"

work=$(mktemp -d)
cleanup() { stop_mock; rm -rf "$work"; }
trap cleanup EXIT
export CCACHE_DISABLE=1
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
# check NAME CMD...: runs CMD with its output in a log, shown on failure.
check() {
  local name=$1 log
  shift
  log="$work/log.$((passed + failed))"
  if "$@" >"$log" 2>&1; then ok "$name"; else bad "$name"; sed 's/^/     | /' "$log" | tail -n 40; fi
}
section() { echo "== dist-test: $*"; }

start_mock "$MOCK_BIN"
token=ycm-mock-token
user=13329

# update BIN [ENV...]: BIN updates the user's company on the mock and reads it back.
company_n=0
update_with() {
  company_n=$((company_n + 1))
  local company="dist-test company $company_n" out
  out=$("$@" "$mock_url" "$token" "$user" "$company") || { echo "$out"; return 1; }
  echo "$out"
  grep -q "$company" <<<"$out" || { echo "the user read back has not company '$company'"; return 1; }
}

# --- 1. C and C++ from an installed prefix ---------------------------------------------------
section "make install, C and C++ users"
stage="$work/stage"
prefix=/opt/yeastar-ycm
inst="$stage$prefix"
check "make install DESTDIR=... PREFIX=$prefix (no cargo run)" \
  env PATH="/nonexistent-no-cargo:/usr/bin:/bin" CARGO=/nonexistent/cargo \
  "$MAKE" --no-print-directory -C "$root" install DESTDIR="$stage" PREFIX="$prefix"
check "installed files" bash -c "
  test -f '$inst/lib/$REALNAME' && test \"\$(readlink '$inst/lib/$SONAME')\" = '$REALNAME' &&
  test \"\$(readlink '$inst/lib/libycm.so')\" = '$SONAME' && test -f '$inst/lib/libycm.a' &&
  test -f '$inst/include/ycm.h' && test -f '$inst/include/ycm.hpp' &&
  test -f '$inst/lib/pkgconfig/ycm.pc' &&
  test -f '$inst/lib/cmake/yeastar-ycm/yeastar-ycm-config.cmake' &&
  test -f '$inst/lib/cmake/yeastar-ycm/yeastar-ycm-config-version.cmake'"
check "the installed libycm.so has SONAME $SONAME and no debug info" bash -c "
  readelf -d '$inst/lib/$REALNAME' | grep -q 'Library soname: \[$SONAME\]' &&
  ! readelf -S '$inst/lib/$REALNAME' | grep -q '\.debug_info' &&
  readelf -S '$inst/lib/$REALNAME' | grep -q '\.gnu_debuglink'"
check "the installed libycm.a has no debug info" bash -c "
  ! readelf -S '$inst/lib/libycm.a' 2>/dev/null | grep -q '\.debug_info'"
check "ycm.pc Libs.private is rustc's native-static-libs line" bash -c "
  grep -qxF \"Libs.private: \$(cat '$root/target/release/ycm-native-static-libs.txt')\" '$inst/lib/pkgconfig/ycm.pc'"

src="$work/src"
mkdir -p "$src"
cp bindings/c/examples/update_user.c bindings/c/examples/update_user.cpp "$src/"
cat >"$src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(ycm_user C CXX)
find_package(yeastar-ycm 0.1 CONFIG REQUIRED)
add_executable(c_shared update_user.c)
target_link_libraries(c_shared PRIVATE ycm::ycm)
add_executable(cpp_shared update_user.cpp)
target_link_libraries(cpp_shared PRIVATE ycm::ycm)
add_executable(c_static update_user.c)
target_link_libraries(c_static PRIVATE ycm::ycm_static)
get_target_property(ycm_features ycm::ycm INTERFACE_COMPILE_FEATURES)
message(STATUS "ycm::ycm compile features: ${ycm_features}")
EOF
cflags="-std=c11 -Wall -Wextra -Wpedantic -Werror"
cxxflags="-Wall -Wextra -Wpedantic -Werror"
build="$work/cmake-build"
check "cmake: find_package(yeastar-ycm 0.1 CONFIG REQUIRED)" bash -c "
  cmake -S '$src' -B '$build' -DCMAKE_PREFIX_PATH='$inst' -DCMAKE_C_FLAGS='$cflags' \
    -DCMAKE_CXX_FLAGS='$cxxflags' -DCMAKE_BUILD_TYPE=Release | tee '$work/cmake.log'"
check "cmake: build the C (shared, static) and C++ programs" cmake --build "$build"
# The compiler's default may already be C++17 (then CMake adds no -std flag): check that the
# requirement is declared.
check "cmake: ycm::ycm requires cxx_std_17 in a C++ project" \
  grep -q 'ycm::ycm compile features: cxx_std_17' "$work/cmake.log"
mkdir -p "$work/cmake-too-new"
sed 's/find_package(yeastar-ycm 0.1 /find_package(yeastar-ycm 0.2 /' "$src/CMakeLists.txt" >"$work/cmake-too-new/CMakeLists.txt"
check "cmake: find_package(yeastar-ycm 0.2) is refused by the version file" bash -c "
  ! cmake -S '$work/cmake-too-new' -B '$work/cmake-too-new/b' -DCMAKE_PREFIX_PATH='$inst' >'$work/too-new.log' 2>&1 &&
  grep -q 'compatible with requested version \"0.2\"' '$work/too-new.log'"

export PKG_CONFIG_PATH="$inst/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
pcb="$work/pc-build"
mkdir -p "$pcb"
check "pkg-config: C, shared" bash -c "
  cc $cflags '$src/update_user.c' \$(pkg-config --cflags --libs ycm) -o '$pcb/c_shared'"
check "pkg-config: C++17, shared" bash -c "
  c++ -std=c++17 $cxxflags '$src/update_user.cpp' \$(pkg-config --cflags --libs ycm) -o '$pcb/cpp_shared'"
# --static: the archive instead of -lycm (the linker prefers the .so next to it), and
# Libs.private, rustc's own list, for the rest.
check "pkg-config --static: C, libycm.a and Libs.private" bash -c "
  cc $cflags '$src/update_user.c' \$(pkg-config --cflags ycm) \
    \$(pkg-config --static --libs ycm | sed 's/-lycm\b/-l:libycm.a/') -o '$pcb/c_static'"
check "ycm.hpp refuses C++14 with a clear error" bash -c "
  ! c++ -std=c++14 -fsyntax-only \$(pkg-config --cflags ycm) '$src/update_user.cpp' >'$work/cxx14.log' 2>&1 &&
  grep -q 'ycm.hpp needs C++17 or newer' '$work/cxx14.log'"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

for bin in "$build/c_shared" "$build/cpp_shared" "$pcb/c_shared" "$pcb/cpp_shared"; do
  check "$(basename "$(dirname "$bin")")/$(basename "$bin") records NEEDED $SONAME, not a path" bash -c "
    readelf -d '$bin' | grep -q 'Shared library: \[$SONAME\]'"
done
for bin in "$build/c_static" "$pcb/c_static"; do
  check "$(basename "$(dirname "$bin")")/$(basename "$bin") does not need libycm.so" bash -c "
    ! readelf -d '$bin' | grep -q 'libycm'"
done
for bin in "$build/c_shared" "$build/cpp_shared" "$build/c_static"; do
  check "cmake $(basename "$bin") updates a user on ycm-mock" update_with "$bin"
done
for bin in "$pcb/c_shared" "$pcb/cpp_shared"; do
  check "pkg-config $(basename "$bin") updates a user on ycm-mock" \
    update_with env LD_LIBRARY_PATH="$inst/lib" "$bin"
done
check "pkg-config c_static updates a user on ycm-mock" update_with "$pcb/c_static"

moved="$work/moved"
mv "$inst" "$moved"
check "after the prefix moved, the shared programs do not find libycm without help" bash -c "
  ! '$pcb/c_shared' '$mock_url' '$token' '$user' x"
for bin in "$build/c_shared" "$build/cpp_shared" "$pcb/c_shared" "$pcb/cpp_shared"; do
  check "moved prefix: $(basename "$(dirname "$bin")")/$(basename "$bin") runs with LD_LIBRARY_PATH (SONAME)" \
    update_with env LD_LIBRARY_PATH="$moved/lib" "$bin"
done
check "moved prefix: static programs still run" update_with "$pcb/c_static"
mv "$moved" "$inst"

check "make uninstall" "$MAKE" --no-print-directory -C "$root" uninstall DESTDIR="$stage" PREFIX="$prefix"
check "make uninstall leaves the prefix empty" bash -c "
  [ -z \"\$(find '$stage' -mindepth 1 -not -type d)\" ] && [ -z \"\$(find '$inst' -mindepth 1 2>/dev/null)\" ]"

stage2="$work/stage2"
check "make install with LIBDIR and INCLUDEDIR of its own" \
  "$MAKE" --no-print-directory -C "$root" install DESTDIR="$stage2" PREFIX=/usr \
  LIBDIR=/usr/lib/x86_64-linux-gnu INCLUDEDIR=/usr/include/ycm
check "  files under that LIBDIR and INCLUDEDIR; ycm.pc names them" bash -c "
  test -f '$stage2/usr/lib/x86_64-linux-gnu/$REALNAME' && test -f '$stage2/usr/include/ycm/ycm.h' &&
  grep -qx 'libdir=\${prefix}/lib/x86_64-linux-gnu' '$stage2/usr/lib/x86_64-linux-gnu/pkgconfig/ycm.pc' &&
  grep -qx 'includedir=\${prefix}/include/ycm' '$stage2/usr/lib/x86_64-linux-gnu/pkgconfig/ycm.pc'"
check "  cmake finds it there" bash -c "
  cmake -S '$src' -B '$work/cmake-build2' -DCMAKE_PREFIX_PATH='$stage2/usr' >/dev/null &&
  cmake --build '$work/cmake-build2' --target c_shared >/dev/null &&
  LD_LIBRARY_PATH='$stage2/usr/lib/x86_64-linux-gnu' '$work/cmake-build2/c_shared' '$mock_url' '$token' '$user' 'libdir company' | grep -q 'libdir company'"
check "  make uninstall empties it" bash -c "
  '$MAKE' --no-print-directory -C '$root' uninstall DESTDIR='$stage2' PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu INCLUDEDIR=/usr/include/ycm >/dev/null &&
  [ -z \"\$(find '$stage2' -mindepth 1 -not -type d)\" ]"
check "make install without built libraries fails clearly, without running cargo" bash -c "
  ! '$MAKE' --no-print-directory -C '$root' install DESTDIR='$work/stage3' RELEASE='$work/empty' \
    LIB_SO='$work/empty/libycm.so' LIB_A='$work/empty/libycm.a' NATIVE_LIBS='$work/empty/n' >'$work/noinst.log' 2>&1 &&
  grep -q 'make install never runs cargo: build first with' '$work/noinst.log' && [ ! -e '$work/stage3' ]"

# --- 2. the crate ----------------------------------------------------------------------------
section "the crate"
pkg="$work/cargo-package"
check "cargo package -p yeastar-ycm" \
  "$CARGO" package -p yeastar-ycm --no-verify --allow-dirty --target-dir "$pkg"
crate="$pkg/package/yeastar-ycm-$VERSION.crate"
check "  the .crate holds what a build needs (Cargo.lock, build.rs, cbindgen.toml, include/ycm.h, licenses)" bash -c "
  list=\$(tar tzf '$crate') &&
  for f in Cargo.toml Cargo.lock build.rs cbindgen.toml include/ycm.h src/lib.rs src/ffi/mod.rs LICENSE-MIT LICENSE-APACHE CHANGELOG.md README.md; do
    grep -qx \"yeastar-ycm-$VERSION/\$f\" <<<\"\$list\" || { echo \"missing \$f\"; exit 1; }; done"
dep="$work/dependent"
mkdir -p "$dep/src" "$dep/vendor"
tar xzf "$crate" -C "$dep/vendor"
cat >"$dep/Cargo.toml" <<EOF
[package]
name = "ycm-dependent"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
yeastar-ycm = { path = "vendor/yeastar-ycm-$VERSION" }

[workspace]
EOF
echo 'fn main() { println!("{}", ycm::VERSION); }' >"$dep/src/main.rs"
cp Cargo.lock "$dep/Cargo.lock"
# As on a fresh machine: a cargo home that holds only what a build for this host fetched
# (metadata without --filter-platform wants every platform's crates, and failed there).
check "  a Rust dependent gets the rlib only, and neither cbindgen nor the C libraries" bash -c "
  cd '$dep' && host=\$(rustc -vV | sed -n 's/^host: //p') &&
  export CARGO_HOME='$work/fresh-cargo-home' && '$CARGO' fetch --quiet --target \$host &&
  tree=\$('$CARGO' tree -e normal,build --offline --prefix none 2>&1) && echo \"\$tree\" | head -n 5 &&
  ! grep -q cbindgen <<<\"\$tree\" &&
  meta=\$('$CARGO' metadata --format-version 1 --offline --filter-platform \$host) &&
  '$DIST_PY_BIN' -c '
import json, sys
m = json.load(sys.stdin)
kinds = [t[\"crate_types\"] for p in m[\"packages\"] if p[\"name\"] == \"yeastar-ycm\" for t in p[\"targets\"] if set(t[\"kind\"]) & {\"lib\", \"rlib\", \"cdylib\", \"staticlib\"}]
assert kinds == [[\"rlib\"]], kinds' <<<\"\$meta\""

# --- 3. Python -------------------------------------------------------------------------------
section "Python sdist and wheel"
check "make dist-sdist dist-wheel" "$MAKE" --no-print-directory -C "$root" dist-sdist dist-wheel
dist_py="$root/target/dist/python"
sdist="$dist_py/yeastar_ycm-$VERSION.tar.gz"
# The wheel of the library linked here (make dist-wheel); the manylinux2014 wheels of
# make dist-wheels have their own test (make dist-cross-test).
wheels=("$root/target/dist/python-host"/yeastar_ycm-"$VERSION"-*.whl)
wheel=${wheels[0]}
echo "     wheel: $(basename "$wheel"), $(stat -c %s "$wheel") bytes; sdist: $(stat -c %s "$sdist") bytes"
check "the wheel is tagged py3-none-manylinux_2_N_x86_64" bash -c "
  [[ '$(basename "$wheel")' =~ ^yeastar_ycm-$VERSION-py3-none-manylinux_2_[0-9]+_x86_64\.whl\$ ]]"
check "the wheel is under 4 MB" test "$(stat -c %s "$wheel")" -lt 4000000
wheel_lib="$work/wheel-lib"
check "the wheel's libycm.so is stripped, with the SONAME" bash -c "
  mkdir -p '$wheel_lib' && cd '$wheel_lib' && '$DIST_PY_BIN' -m zipfile -e '$wheel' . &&
  ! readelf -S ycm/libycm.so | grep -q '\.debug_info' &&
  readelf -d ycm/libycm.so | grep -q 'Library soname: \[$SONAME\]' &&
  grep -q '^Requires-Python: >=3.9' yeastar_ycm-$VERSION.dist-info/METADATA"
check "the sdist holds the crate (rust/: Cargo.toml, Cargo.lock, build.rs, cbindgen.toml, include/, src/)" bash -c "
  list=\$(tar tzf '$sdist') &&
  for f in Cargo.toml Cargo.lock build.rs cbindgen.toml include/ycm.h src/lib.rs; do
    grep -qx \"yeastar_ycm-$VERSION/rust/\$f\" <<<\"\$list\" || { echo \"missing rust/\$f\"; exit 1; }; done &&
  ! grep -q 'libycm.so' <<<\"\$list\""

cat >"$work/update.py" <<'EOF'
import sys, ycm
url, token, user, company = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with ycm.Client(url, token) as client:
    client.update_user(user, company=company)
    read = client.get_user(user)
print(sys.version.split()[0], ycm.__version__, ycm.library_path, read.company)
assert read.company == company, read.company
EOF
py_update() { # PYTHON: runs update.py from $work, with no YCM_LIBRARY and no PYTHONPATH
  update_with env -C "$work" -u YCM_LIBRARY -u PYTHONPATH "$1" "$work/update.py"
}

interpreters=()
for dir in "$HOME"/.pyenv/versions/3.*; do
  [ -x "$dir/bin/python3" ] || continue
  "$dir/bin/python3" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null || continue
  interpreters+=("$dir/bin/python3")
done
[ ${#interpreters[@]} -gt 0 ] || interpreters=("$(command -v python3)")
for py in "${interpreters[@]}"; do
  v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  venv="$work/venv-wheel-$v"
  check "Python $v: the wheel installs into a fresh venv" bash -c "
    '$py' -m venv '$venv' && '$venv/bin/python' -m pip install --quiet --disable-pip-version-check --no-index '$wheel'"
  check "Python $v: the installed package updates a user on ycm-mock" py_update "$venv/bin/python"
done

# Built from the sdist's own sources; a cache of compiled dependencies (not the checkout's
# target/) keeps a second run short.
venv="$work/venv-sdist"
check "the sdist installs into a fresh venv (cargo builds libycm.so from it)" bash -c "
  python3 -m venv '$venv' && cd '$work' &&
  env -u YCM_LIBRARY CARGO_TARGET_DIR='$root/target/dist-test-sdist' \
    '$venv/bin/python' -m pip install --quiet --disable-pip-version-check '$sdist'"
check "  that package updates a user on ycm-mock" py_update "$venv/bin/python"
check "  its libycm.so is stripped and under 4 MB" bash -c "
  lib=\$(cd '$work' && '$venv/bin/python' -c 'import ycm; print(ycm.library_path)') &&
  ! readelf -S \"\$lib\" | grep -q '\.debug_info' && [ \$(stat -c %s \"\$lib\") -lt 4000000 ]"

# Junk is refused by the build: a text file, a real library that is not libycm, and a
# library that says it is libycm of another version.
unpacked="$work/sdist-src"
mkdir -p "$unpacked" && tar xzf "$sdist" -C "$unpacked"
printf 'not a library\n' >"$work/junk.so"
printf 'const char *ycm_version(void) { return "9.9.9"; }\n' >"$work/fake.c"
cc -shared -fPIC -o "$work/libfake.so" "$work/fake.c"
libm=$(cc -print-file-name=libm.so.6)
for case in "junk.so:not an ELF shared library" "libfake.so:it is libycm '9.9.9', but this package is $VERSION" \
            "$libm:does not export ycm_version"; do
  lib=${case%%:*} why=${case#*:}
  [ "${lib#/}" != "$lib" ] || lib="$work/$lib"
  check "the build refuses YCM_LIBRARY=$(basename "$lib") ($why)" bash -c "
    ! env YCM_LIBRARY='$lib' '$DIST_PY_BIN' -m build --wheel --no-isolation --outdir '$work/junk-out' \
      '$unpacked/yeastar_ycm-$VERSION' >'$work/junk.log' 2>&1 &&
    grep -qF \"$why\" '$work/junk.log' && [ -z \"\$(ls '$work/junk-out' 2>/dev/null)\" ]"
done

echo "dist-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
