"""Build hook of the ycm package: bundles libycm.so into the built package.

At build time (``pip install .``, ``pip wheel .``) the library is copied from
``$YCM_LIBRARY`` or, by default, from ``target/release/libycm.so`` of the ycm checkout this
directory sits in, straight into the build tree: the source tree never holds a copy that
could go stale. The wheel is tagged for the platform (the library is native code) but not
for a Python version or ABI (ctypes needs neither).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Tuple

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
LIBRARY = "libycm.so"


def library_source() -> Path:
    env = os.environ.get("YCM_LIBRARY")
    if env:
        path = Path(env).expanduser().resolve()
        origin = "YCM_LIBRARY"
    else:
        path = HERE.parent.parent / "target" / "release" / LIBRARY
        origin = "the ycm checkout"
    if not path.is_file():
        raise SystemExit(
            f"ycm: {path} (from {origin}) does not exist: run `cargo build --release` at the "
            "root of the ycm checkout first, or set YCM_LIBRARY to the library to bundle"
        )
    return path


class BuildPyWithLibrary(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        source = library_source()
        target = Path(self.build_lib) / "ycm" / LIBRARY
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        print(f"ycm: bundled {source} ({source.stat().st_size} bytes) as {target}")


class NativeDistribution(Distribution):  # type: ignore[misc]
    """Holds native code (the bundled library), so wheels are platform wheels."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):  # type: ignore[misc]
    def get_tag(self) -> Tuple[str, str, str]:
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(
    distclass=NativeDistribution,
    cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel},
)
