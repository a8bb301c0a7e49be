"""Proxies through the Python package, via Debian's tinyproxy on loopback (started here with
a generated configuration; skipped loudly when it is not installed, failed when ``CI`` is
set): the ``proxy`` keyword for http (forwarded) and https (CONNECT, the private CA of
``test_tls`` verified end to end), Basic credentials and a 407, a refused proxy port, the
environment (``HTTPS_PROXY``, ``NO_PROXY``) and a malformed proxy URL. Every failure names
the proxy and never its password."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest

import ycm
from conftest import TOKEN, Mock
from test_tls import https_mock  # noqa: F401  (a fixture: the HTTPS mock and its CA file)

USER = "proxyuser"
PASSWORD = "pass-word_9"
PASSWORD_ENCODED = "pass%2Dword_9"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Tinyproxy:
    """A tinyproxy in the foreground on a free loopback port, files in ``directory``."""

    def __init__(self, directory: Path, connect_ports: List[int], basic_auth: bool) -> None:
        self.directory = directory
        for _ in range(5):
            self.port = free_port()
            lines = [
                f"Port {self.port}", "Listen 127.0.0.1", "Timeout 10", "Allow 127.0.0.1",
                f'LogFile "{directory / "tinyproxy.log"}"',
                f'PidFile "{directory / "tinyproxy.pid"}"',
                "LogLevel Info", "DisableViaHeader Yes",
            ]
            lines += [f"ConnectPort {port}" for port in connect_ports]
            if basic_auth:
                lines.append(f"BasicAuth {USER} {PASSWORD}")
            (directory / "tinyproxy.conf").write_text("\n".join(lines) + "\n")
            self.process = subprocess.Popen(
                ["tinyproxy", "-d", "-c", str(directory / "tinyproxy.conf")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return
                except OSError:
                    time.sleep(0.02)
            self.stop()
        raise RuntimeError(f"tinyproxy did not start: {self.log()}")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, password: Optional[str] = None) -> str:
        userinfo = "" if password is None else f"{USER}:{password}@"
        return f"http://{userinfo}{self.address}"

    def log(self) -> str:
        path = self.directory / "tinyproxy.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def start_tinyproxy(directory: Path, connect_ports: List[int], basic_auth: bool = False) -> Tinyproxy:
    if shutil.which("tinyproxy") is None:
        if os.environ.get("CI"):
            pytest.fail("tinyproxy is not installed, and CI is set: apt-get install tinyproxy")
        pytest.skip("SKIPPED LOUDLY: tinyproxy is not installed (apt-get install tinyproxy)")
    return Tinyproxy(directory, connect_ports, basic_auth)


@pytest.fixture
def proxy(tmp_path: Path, https_mock: Tuple[Mock, Path]) -> Iterator[Tinyproxy]:  # noqa: F811
    port = int(https_mock[0].url.rsplit(":", 1)[1])
    started = start_tinyproxy(tmp_path, [port], basic_auth=True)
    yield started
    started.stop()


def assert_names_proxy_without_password(error: ycm.YcmError, address: str) -> None:
    for text in (str(error), repr(error), error.message):
        assert address in str(error), text
        assert PASSWORD not in text and PASSWORD_ENCODED not in text, text


def test_http_and_https_through_the_proxy_keyword(
    proxy: Tinyproxy, mock: Mock, https_mock: Tuple[Mock, Path]  # noqa: F811
) -> None:
    secure, ca = https_mock
    with ycm.Client(mock.url, TOKEN, proxy=proxy.url(PASSWORD_ENCODED)) as client:
        assert client.update_user(13329, company="forwarded").http_status == 200
    assert f"PUT {mock.url}/dm/open_api/v1/users/13329" in proxy.log()
    with ycm.Client(secure.url, TOKEN, ca_file=str(ca), proxy=proxy.url(PASSWORD_ENCODED)) as client:
        assert client.update_user(13329, company="tunnelled").http_status == 200
        assert client.get_user(13329).company == "tunnelled"
    assert f"CONNECT {secure.url.removeprefix('https://')}" in proxy.log()


def test_a_407_is_an_http_error_naming_the_proxy(
    proxy: Tinyproxy, https_mock: Tuple[Mock, Path]  # noqa: F811
) -> None:
    secure, ca = https_mock
    with ycm.Client(secure.url, TOKEN, ca_file=str(ca), proxy=proxy.url()) as client:
        with pytest.raises(ycm.HttpError) as raised:
            client.update_user(13329, company="x")
    assert raised.value.http_status == 407
    assert raised.value.attempts == 1
    assert "407 Proxy Authentication Required" in str(raised.value)
    assert_names_proxy_without_password(raised.value, proxy.address)


def test_a_refused_proxy_port_is_a_connect_error(mock: Mock) -> None:
    address = f"127.0.0.1:{free_port()}"
    proxy_url = f"http://{USER}:{PASSWORD_ENCODED}@{address}"
    with ycm.Client(mock.url, TOKEN, proxy=proxy_url, retry_base_ms=1, retry_max_ms=5) as client:
        with pytest.raises(ycm.ConnectError) as raised:
            client.update_user(13329, company="x")
    assert str(raised.value).startswith(f'could not connect to the proxy {address} (from config key "proxy")')
    assert_names_proxy_without_password(raised.value, address)


def test_the_environment_and_no_proxy(
    proxy: Tinyproxy, https_mock: Tuple[Mock, Path], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    secure, ca = https_mock
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url(PASSWORD_ENCODED))
    before = proxy.log().count("CONNECT 127.0.0.1:")
    with ycm.Client(secure.url, TOKEN, ca_file=str(ca)) as client:
        client.update_user(13329, company="via HTTPS_PROXY")
    assert proxy.log().count("CONNECT 127.0.0.1:") == before + 1
    # NO_PROXY bypasses it; proxy="" turns it off.
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    with ycm.Client(secure.url, TOKEN, ca_file=str(ca)) as client:
        client.update_user(13329, company="direct")
    monkeypatch.delenv("NO_PROXY")
    with ycm.Client(secure.url, TOKEN, ca_file=str(ca), proxy="") as client:
        client.update_user(13329, company="direct again")
    assert proxy.log().count("CONNECT 127.0.0.1:") == before + 1


def test_a_malformed_proxy_url_is_refused_naming_where_it_came_from(
    mock: Mock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ycm.InvalidArgumentError) as raised:
        ycm.Client(mock.url, TOKEN, proxy=f"socks5://{USER}:{PASSWORD}@127.0.0.1:1080")
    assert str(raised.value).startswith('config key "proxy"')
    assert 'unsupported proxy scheme "socks5"' in str(raised.value)
    assert PASSWORD not in str(raised.value)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.setenv("all_proxy", "http://[::1")
    with pytest.raises(ycm.InvalidArgumentError) as raised:
        ycm.Client(mock.url, TOKEN)
    assert str(raised.value).startswith("environment variable all_proxy")
