"""Build hook of the yeastar-ycm package: puts a checked ``libycm.so`` into ``ycm/``.

Where the library comes from, first match wins:

1. ``$YCM_LIBRARY``: that file, as it is (``make dist`` gives the stripped release library,
   ``make py-install-check`` the one just built). Nothing is compiled.
2. Otherwise it is built from source with setuptools-rust in no-binding mode (``cargo rustc
   --lib --crate-type cdylib --locked``), from ``rust/`` in an sdist (the crate as ``cargo
   package`` ships it, with its Cargo.lock) or from the checkout this directory sits in,
   then stripped. Needs cargo (https://rustup.rs) on PATH.

Either way the library is refused unless it is an ELF shared object that exports
``ycm_version`` and reports this package's version: a stale, foreign or junk file never
ends up in a wheel. The wheel is tagged ``py3-none-<platform>`` (the library is native, but
ctypes needs no Python ABI); ``make dist`` then gives it its manylinux tag with auditwheel.

A library of another architecture (``make dist-wheels`` builds an aarch64 one with zig on
an x86_64 machine, and passes ``--plat-name linux_aarch64`` to bdist_wheel) cannot be
loaded here: it must still be an ELF shared object that exports ``ycm_version`` (read with
binutils' ``readelf``), and the wheel's platform tag must name its architecture; its
version is checked where it runs (``make dist-cross-test``, under qemu).

``python -m build --sdist`` puts the crate into ``rust/`` of the sdist: the files of
``cargo package --no-verify`` (whose normalized Cargo.toml stands alone, outside the
workspace), so the sdist builds with nothing but cargo and the crates.io registry.
"""

from __future__ import annotations

import ctypes
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools_rust import Binding, RustExtension, Strip
from setuptools_rust.build import build_rust

HERE = Path(__file__).resolve().parent
LIBRARY = "libycm.so"
CRATE = "yeastar-ycm"
SDIST_CRATE_DIR = HERE / "rust"
CHECKOUT_MANIFEST = HERE.parent.parent / "Cargo.toml"


def package_version() -> str:
    text = (HERE / "ycm" / "_version.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.MULTILINE)
    if not match:
        raise SystemExit("yeastar-ycm: ycm/_version.py has no __version__")
    return match.group(1)


VERSION = package_version()


def soname(version: str) -> str:
    """cargo-c's SONAME, as the Makefile gives it: libycm.so.MAJOR, or .0.MINOR for 0.x."""
    major, minor, patch = version.split(".")[:3]
    if major != "0":
        return f"libycm.so.{major}"
    return f"libycm.so.0.{minor}" if minor != "0" else f"libycm.so.0.0.{patch}"


def crate_manifest() -> Optional[Path]:
    """The crate to build: rust/ of an sdist, else the checkout's (if this is one)."""
    for manifest in (SDIST_CRATE_DIR / "Cargo.toml", CHECKOUT_MANIFEST):
        try:
            text = manifest.read_text(encoding="utf-8")
        except OSError:
            continue
        if re.search(rf'^name\s*=\s*"{CRATE}"\s*$', text, re.MULTILINE):
            return manifest
    return None


# ELF e_machine numbers, named as platform.machine() and the wheel's platform tag name them.
ELF_MACHINES = {62: "x86_64", 183: "aarch64"}
ET_DYN = 3


def elf_arch(path: Path) -> Optional[str]:
    """The architecture of a little-endian 64-bit ELF shared object, else None."""
    with open(path, "rb") as f:
        header = f.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        return None
    if int.from_bytes(header[16:18], "little") != ET_DYN:
        return None
    machine = int.from_bytes(header[18:20], "little")
    return ELF_MACHINES.get(machine, f"ELF machine {machine}")


def check_library(path: Path, origin: str) -> None:
    """Refuses anything but a libycm of this package's version (raises SystemExit)."""
    def refuse(why: str) -> None:
        raise SystemExit(f"yeastar-ycm: refusing {path} ({origin}): {why}")

    if not path.is_file():
        refuse("no such file")
    arch = elf_arch(path)
    if arch is None:
        refuse("not an ELF shared library")
    if arch != platform.machine():
        check_foreign_library(path, str(arch), refuse)
        return
    # A fresh interpreter loads it: a broken library cannot take the build down with it.
    probe = (
        "import ctypes, sys\n"
        "lib = ctypes.CDLL(sys.argv[1])\n"
        "try:\n    fn = lib.ycm_version\nexcept AttributeError:\n"
        "    print('NOSYMBOL'); sys.exit(0)\n"
        "fn.restype = ctypes.c_char_p\n"
        "print('VERSION', (fn() or b'').decode('utf-8', 'replace'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60
    )
    out = result.stdout.strip()
    if result.returncode != 0:
        refuse(f"it does not load: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
    if out == "NOSYMBOL":
        refuse("it does not export ycm_version, so it is not libycm")
    found = out.split(" ", 1)[1] if out.startswith("VERSION ") else out
    if found != VERSION:
        refuse(f"it is libycm {found!r}, but this package is {VERSION}")


def check_foreign_library(path: Path, arch: str, refuse: Callable[[str], None]) -> None:
    """What can be checked of a library this machine cannot load: its exports."""
    readelf = shutil.which("readelf")
    if readelf is None:
        refuse(f"it is built for {arch}, and `readelf` (binutils) is needed to check it here")
    result = subprocess.run(
        [str(readelf), "--dyn-syms", "--wide", str(path)], capture_output=True, text=True
    )
    exported = {
        fields[7]
        for fields in (line.split() for line in result.stdout.splitlines())
        if len(fields) >= 8 and fields[3] == "FUNC" and fields[6] != "UND"
    }
    if result.returncode != 0 or "ycm_version" not in exported:
        refuse("it does not export ycm_version, so it is not libycm")
    print(f"yeastar-ycm: {path} is built for {arch}: not loaded on this {platform.machine()} "
          f"machine, so its version is not checked here")


class BuildRustLibrary(build_rust):  # type: ignore[misc]
    """setuptools-rust's build, installing the cdylib as ycm/libycm.so, stripped, checked."""

    def get_dylib_ext_path(self, ext: RustExtension, target_fname: str) -> str:
        default = Path(super().get_dylib_ext_path(ext, target_fname))
        return str(default.parent / LIBRARY)

    def run(self) -> None:
        if os.environ.get("YCM_LIBRARY"):
            return  # build_py bundles that file instead
        super().run()
        built = Path(self.get_dylib_ext_path(self.distribution.rust_extensions[0], "ycm.libycm"))
        if not built.is_absolute():
            built = Path.cwd() / built
        strip = shutil.which("strip")
        if strip is None:
            raise SystemExit("yeastar-ycm: `strip` (binutils) is needed to build the wheel")
        subprocess.run([strip, "--strip-unneeded", str(built)], check=True)
        check_library(built, "built from source")
        print(f"yeastar-ycm: built {built} ({built.stat().st_size} bytes)")


class BuildPyWithLibrary(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        env = os.environ.get("YCM_LIBRARY")
        if not env:
            return
        source = Path(env).expanduser().resolve()
        check_library(source, "from YCM_LIBRARY")
        target = Path(self.build_lib) / "ycm" / LIBRARY
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)
        print(f"yeastar-ycm: bundled {source} ({source.stat().st_size} bytes) as {target}")


class SdistWithCrate(sdist):  # type: ignore[misc]
    """Adds rust/: the files `cargo package` would publish, normalized Cargo.toml included."""

    def make_release_tree(self, base_dir: str, files: List[str]) -> None:
        super().make_release_tree(base_dir, files)
        if (SDIST_CRATE_DIR / "Cargo.toml").is_file():
            shutil.copytree(SDIST_CRATE_DIR, Path(base_dir) / "rust")  # an sdist of an sdist
            return
        if not CHECKOUT_MANIFEST.is_file():
            raise SystemExit("yeastar-ycm: no crate to put in the sdist (not in a checkout)")
        with tempfile.TemporaryDirectory() as tmp:
            # --allow-dirty: an sdist is made from the working tree, like the Python files
            # next to it; --no-verify: the wheel build compiles it anyway.
            subprocess.run(
                ["cargo", "package", "-p", CRATE, "--no-verify", "--allow-dirty", "--quiet",
                 "--manifest-path", str(CHECKOUT_MANIFEST), "--target-dir", tmp],
                check=True,
            )
            crate = Path(tmp) / "package" / f"{CRATE}-{VERSION}.crate"
            if not crate.is_file():
                raise SystemExit(f"yeastar-ycm: cargo package made no {crate.name}: is "
                                 f"Cargo.toml at version {VERSION}?")
            dest = Path(base_dir) / "rust"
            prefix = f"{CRATE}-{VERSION}/"
            with tarfile.open(crate) as tar:
                for member in tar.getmembers():
                    if not member.isfile() or not member.name.startswith(prefix):
                        continue
                    relative = member.name[len(prefix):]
                    if relative in (".cargo_vcs_info.json", "Cargo.toml.orig"):
                        continue
                    out = dest / relative
                    out.parent.mkdir(parents=True, exist_ok=True)
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    out.write_bytes(extracted.read())
        for needed in ("Cargo.toml", "Cargo.lock", "build.rs", "cbindgen.toml", "src/lib.rs",
                       "include/ycm.h"):
            if not (dest / needed).is_file():
                raise SystemExit(f"yeastar-ycm: the crate lacks {needed}; the sdist could not build")


class NativeDistribution(Distribution):  # type: ignore[misc]
    """Holds native code (the bundled library), so wheels are platform wheels."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):  # type: ignore[misc]
    """py3-none-PLATFORM; with --plat-name, that platform must be the library's architecture."""

    def get_tag(self) -> Tuple[str, str, str]:
        _, _, plat = super().get_tag()
        library = Path(self.bdist_dir) / "ycm" / LIBRARY
        arch = elf_arch(library) if library.is_file() else None
        if arch is not None and not plat.endswith(f"_{arch}"):
            raise SystemExit(f"yeastar-ycm: the wheel would be tagged {plat}, but its "
                             f"libycm.so is built for {arch}")
        return "py3", "none", plat


def rust_extensions() -> List[RustExtension]:
    if os.environ.get("YCM_LIBRARY"):
        return []
    manifest = crate_manifest()
    if manifest is None:
        # Only an sdist or the checkout can build; say so when a build is attempted.
        manifest = SDIST_CRATE_DIR / "Cargo.toml"
    return [
        RustExtension(
            "ycm.libycm",
            path=str(manifest),
            binding=Binding.NoBinding,
            py_limited_api=False,
            strip=Strip.No,
            cargo_manifest_args=["--locked"],
            rustc_flags=[f"-Clink-arg=-Wl,-soname,{soname(VERSION)}"],
        )
    ]


setup(
    version=VERSION,
    distclass=NativeDistribution,
    rust_extensions=rust_extensions(),
    cmdclass={
        "build_py": BuildPyWithLibrary,
        "build_rust": BuildRustLibrary,
        "bdist_wheel": PlatformWheel,
        "sdist": SdistWithCrate,
    },
)
