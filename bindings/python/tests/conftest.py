"""Fixtures: one ycm-mock server per test session, started from the built binary on a free
loopback port (``$YCM_MOCK_BIN``, or ``target/release/ycm-mock`` of this checkout) and
stopped at the end; every test gets it freshly reset (users, counters, tokens, faults).
``start_mock_with`` starts extra mocks with their own command-line options for one test, and
``fault_server`` runs ``ycm-fault-server --case NAME`` (``$YCM_FAULT_SERVER_BIN``, or the
binary next to ycm-mock), a scripted raw-TCP peer, for one test.

Tests marked ``slow`` (the acceptance long run) belong to the normal suite; deselect them
with ``-m "not slow"`` for a quick run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, cast

import pytest

REPO = Path(__file__).resolve().parents[3]
TOKEN = "ycm-mock-token"
CLIENT_ID = "ycm-mock-client"
CLIENT_SECRET = "ycm-mock-secret"
# The first line of a child script that gets Ctrl-C (SIGINT): Python's own handler, as when
# it runs in a terminal. A shell that starts the test suite in the background without job
# control starts it with SIGINT ignored, and a child inherits that and keeps it.
CTRL_C_AS_IN_A_TERMINAL = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


class Mock:
    """A running ycm-mock and its admin endpoints."""

    def __init__(self, url: str, process: "subprocess.Popen[bytes]") -> None:
        self.url = url
        self.process = process

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def stats(self) -> Dict[str, int]:
        return cast(Dict[str, int], self._request("GET", "/__mock/stats"))

    def requests(self) -> int:
        return self.stats()["requests"]

    def log(self) -> List[Dict[str, Any]]:
        return cast(List[Dict[str, Any]], self._request("GET", "/__mock/log"))

    def user(self, user_id: int) -> Dict[str, Any]:
        return cast(Dict[str, Any], self._request("GET", f"/__mock/users/{user_id}"))

    def faults(self, **faults: Any) -> None:
        self._request("POST", "/__mock/faults", faults)

    def reset(self) -> None:
        self._request("POST", "/__mock/reset", {})

    def expire(self) -> None:
        self._request("POST", "/__mock/expire", {})

    def revoke(self) -> None:
        self._request("POST", "/__mock/revoke", {})

    def log_text(self) -> str:
        """The raw JSON text of ``/__mock/log``, exactly as the mock serves it."""
        with urllib.request.urlopen(self.url + "/__mock/log", timeout=10) as response:
            return cast(bytes, response.read()).decode("utf-8")


def mock_binary() -> Path:
    env = os.environ.get("YCM_MOCK_BIN")
    path = Path(env) if env else REPO / "target" / "release" / "ycm-mock"
    if not path.is_file():
        pytest.fail(
            f"ycm-mock not found at {path}: run `cargo build --release -p ycm-mock` "
            "or set YCM_MOCK_BIN",
            pytrace=False,
        )
    return path


def read_first_line(
    process: "subprocess.Popen[bytes]", timeout: float, name: str = "ycm-mock"
) -> str:
    """The first stdout line of the process, or an error after ``timeout`` seconds."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buffer = b""
    try:
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise RuntimeError(f"{name} printed no line within {timeout} s")
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"{name} exited with status {process.wait()}")
            buffer += chunk
    finally:
        selector.close()
    return buffer.split(b"\n", 1)[0].decode()


def stop(process: "subprocess.Popen[bytes]") -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def start_mock(*args: str) -> Iterator[Mock]:
    """Runs ycm-mock on a free loopback port with extra command-line ``args``."""
    process = subprocess.Popen(
        [str(mock_binary()), "--addr", "127.0.0.1:0", "--quiet", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        line = read_first_line(process, timeout=15)
        prefix = "ycm-mock listening on "
        assert line.startswith(prefix), line
        yield Mock(line[len(prefix) :], process)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def mock_server() -> Iterator[Mock]:
    with start_mock() as server:
        yield server


@pytest.fixture
def mock(mock_server: Mock) -> Mock:
    mock_server.reset()
    return mock_server


@pytest.fixture
def start_mock_with() -> Iterator[Callable[..., Mock]]:
    """``start_mock_with("--token-ttl", "1", ...)`` starts a ycm-mock with those options;
    every mock started so is stopped when the test ends."""
    with contextlib.ExitStack() as stack:

        def start(*args: str) -> Mock:
            return stack.enter_context(start_mock(*args))

        yield start


def fault_server_binary() -> Path:
    env = os.environ.get("YCM_FAULT_SERVER_BIN")
    path = Path(env) if env else mock_binary().parent / "ycm-fault-server"
    if not path.is_file():
        pytest.fail(
            f"ycm-fault-server not found at {path}: run `cargo build --release -p ycm-mock` "
            "or set YCM_FAULT_SERVER_BIN",
            pytrace=False,
        )
    return path


@contextlib.contextmanager
def start_fault_server(case: str) -> Iterator[str]:
    """Runs ``ycm-fault-server --case CASE`` on a free loopback port; yields its URL."""
    process = subprocess.Popen(
        [str(fault_server_binary()), "--case", case, "--addr", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        line = read_first_line(process, timeout=15, name="ycm-fault-server")
        prefix = "ycm-fault-server listening on "
        assert line.startswith(prefix), line
        yield line[len(prefix) :]
    finally:
        stop(process)


@pytest.fixture
def fault_server() -> Iterator[Callable[[str], str]]:
    """``fault_server("reset")`` starts a scripted peer for that case and returns its URL;
    every peer started so is stopped when the test ends."""
    with contextlib.ExitStack() as stack:

        def start(case: str) -> str:
            return stack.enter_context(start_fault_server(case))

        yield start


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (a port just bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a long acceptance run (part of the normal suite; -m 'not slow' skips it)"
    )


class LogCapture(logging.Handler):
    """Keeps every record that reaches the ``ycm`` logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> List[str]:
        """Every record rendered, with all its attributes (for the secret sweep)."""
        return [f"{r.getMessage()} {vars(r)!r}" for r in self.records]


@pytest.fixture
def ycm_logs() -> Iterator[LogCapture]:
    """Records of ``logging.getLogger("ycm")`` and its children at DEBUG, for one test."""
    logger = logging.getLogger("ycm")
    capture = LogCapture()
    level = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)


class Redis:
    """A real ``redis-server`` on a free loopback port, without persistence."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: Optional["subprocess.Popen[bytes]"] = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> None:
        """Starts it again on the same port, empty."""
        self.kill()
        self.start()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Redis]:
    """A real redis-server for one test (skipped where it is not installed, except on CI,
    where ``.ci/run`` installs it)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; .ci/run installs it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = Redis(tmp_path)
    try:
        yield server
    finally:
        server.kill()


def run_scripts(script: str, argv_list: List[List[str]], timeout: float = 120) -> List[str]:
    """Runs ``python -c script`` once per argument list, all at once (as separate processes
    of a fleet would), and returns each one's stripped stdout; a failed process fails the
    test with its stderr."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argv_list
    ]
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=timeout)
        assert child.returncode == 0, err
        outputs.append(out.strip())
    return outputs
