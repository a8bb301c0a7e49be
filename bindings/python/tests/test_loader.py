"""The loader: absolute paths only, in the documented order, and a clear ImportError that
lists every place searched. Each case runs in a fresh interpreter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

import ycm

PACKAGE = Path(ycm.__file__).resolve().parent


def run(code: str, path: Path, env_library: Optional[str], cwd: Path) -> "subprocess.CompletedProcess[str]":
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if k not in ("YCM_LIBRARY", "PYTHONPATH")}
    env["PYTHONPATH"] = str(path)
    if env_library is not None:
        env["YCM_LIBRARY"] = env_library
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def copy_package(tmp_path: Path) -> Path:
    """A copy of the package outside the checkout (no bundled library)."""
    root = tmp_path / "site"
    shutil.copytree(PACKAGE, root / "ycm", ignore=shutil.ignore_patterns("libycm.so", "__pycache__"))
    return root


def test_missing_library_lists_what_was_searched(tmp_path: Path) -> None:
    root = copy_package(tmp_path)
    result = run("import ycm", root, None, tmp_path)
    assert result.returncode != 0
    assert "ImportError: ycm: cannot find libycm.so" in result.stderr
    assert str(root / "ycm" / "libycm.so") in result.stderr
    assert "YCM_LIBRARY" in result.stderr
    assert "not inside one" in result.stderr


def test_explicit_library_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    root = copy_package(tmp_path)
    missing = tmp_path / "nowhere" / "libycm.so"
    result = run("import ycm", root, str(missing), tmp_path)
    assert result.returncode != 0
    assert f"{missing} (from YCM_LIBRARY)" in result.stderr


def test_env_library_is_loaded_by_absolute_path(tmp_path: Path) -> None:
    root = copy_package(tmp_path)
    shutil.copy(ycm.library_path, tmp_path / "libycm.so")
    # A relative YCM_LIBRARY is made absolute: no dlopen search path is ever involved.
    result = run("import ycm; print(ycm.library_path, ycm.__version__)", root, "libycm.so", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / "libycm.so"), ycm.__version__]


def test_bundled_library_comes_first(tmp_path: Path) -> None:
    root = copy_package(tmp_path)
    shutil.copy(ycm.library_path, root / "ycm" / "libycm.so")
    result = run("import ycm; print(ycm.library_path)", root, str(tmp_path / "missing.so"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(root / "ycm" / "libycm.so")


def test_checkout_library_is_the_fallback(tmp_path: Path) -> None:
    if (PACKAGE / "libycm.so").is_file():
        # An installed package (make dist-cross-test runs this suite on the wheel): its
        # bundled library comes first (test_bundled_library_comes_first), no fallback.
        pytest.skip("this package is installed with its own libycm.so")
    result = run("import ycm; print(ycm.library_path)", PACKAGE.parent, None, tmp_path)
    assert result.returncode == 0, result.stderr
    checkout = PACKAGE.parents[2] / "target" / "release" / "libycm.so"
    if os.environ.get("CARGO_TARGET_DIR"):
        checkout = Path(os.environ["CARGO_TARGET_DIR"]).resolve() / "release" / "libycm.so"
    assert result.stdout.strip() == str(checkout)


def test_library_of_another_version_is_refused(tmp_path: Path) -> None:
    """The package and the library it loads are one version: a copy of the package that
    says 9.9.9 refuses the current library with an ImportError naming both versions."""
    root = copy_package(tmp_path)
    version_file = root / "ycm" / "_version.py"
    version_file.write_text(version_file.read_text().replace(ycm.__version__, "9.9.9"))
    result = run("import ycm", root, str(ycm.library_path), tmp_path)
    assert result.returncode != 0
    assert "ImportError: ycm:" in result.stderr
    assert f"is libycm {ycm.__version__}, but this package (yeastar-ycm) is 9.9.9" in result.stderr
