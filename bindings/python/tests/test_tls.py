"""TLS through the Python package: a ycm-mock serving HTTPS with a certificate from a
private CA made here with the openssl command; the client trusts it only via ``ca_file``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Iterator, Tuple

import pytest

import ycm
from conftest import TOKEN, Mock, start_mock


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def https_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Mock, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    d = tmp_path_factory.mktemp("tls")
    (d / "leaf.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
    )
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=ycm test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost", cwd=d)
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext", cwd=d)
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", "leaf.key", "-out", "leaf.pk8", cwd=d)
    with start_mock("--tls-cert", str(d / "leaf.pem"), "--tls-key", str(d / "leaf.pk8")) as mock:
        assert mock.url.startswith("https://")
        yield mock, d / "ca.pem"


def test_private_ca_through_ca_file(https_mock: Tuple[Mock, Path]) -> None:
    mock, ca = https_mock
    with ycm.Client(mock.url, TOKEN, ca_file=str(ca)) as client:
        result = client.update_user(13329, company="over TLS")
        assert result.http_status == 200
        assert client.get_user(13329).company == "over TLS"


def test_untrusted_certificate_is_a_tls_error(https_mock: Tuple[Mock, Path]) -> None:
    mock, _ = https_mock
    with ycm.Client(mock.url, TOKEN, max_retries=0) as client:
        with pytest.raises(ycm.TlsError) as raised:
            client.update_user(13329, company="x")
    assert raised.value.code is ycm.Code.TLS
    assert not isinstance(raised.value, ConnectionError)
