"""``ycm.Client.from_profile`` reads the ``ycm`` command line's settings file with the
command line's precedence (keywords, then the environment, then the profile), reads a
``client_secret_file``, refuses what the command line refuses, and its clients work
against ycm-mock; ``ycm.aio.AsyncClient.from_profile`` does the same."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

import ycm
import ycm.aio
from conftest import CLIENT_ID, CLIENT_SECRET, TOKEN, LogCapture, Mock, mock_binary

VARIABLES = (
    "YCM_BASE_URL", "YCM_ACCESS_TOKEN", "YCM_CLIENT_ID", "YCM_CLIENT_SECRET",
    "YCM_PROFILE", "YCM_SHARED_STATE", "YCM_PROXY",
)


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty XDG_CONFIG_HOME and no YCM_* variable."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "config" / "ycm").mkdir(parents=True)
    yield tmp_path / "config" / "ycm"


def write(config_home: Path, text: str, mode: int = 0o600) -> Path:
    path = config_home / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def secret_file(config_home: Path, name: str = "prod") -> Path:
    """A secret file as ``ycm configure`` writes it."""
    path = config_home / f"{name}.secret"
    path.write_text(CLIENT_SECRET + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def test_client_credentials_from_a_profile_work_against_the_mock(
    mock: Mock, config_home: Path
) -> None:
    write(
        config_home,
        f'[profiles.prod]\nbase_url = "{mock.url}"\nclient_id = "{CLIENT_ID}"\n'
        f'client_secret_file = "{secret_file(config_home)}"\ntimeout_ms = 10000\n',
    )
    with ycm.Client.from_profile("prod") as client:
        assert client.base_url == mock.url
        assert client.get_user(13329).user_id == 13329
    assert mock.stats()["token_requests"] == 1


def test_the_default_profile_and_ycm_profile(
    mock: Mock, config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        config_home,
        f'[profiles.default]\nbase_url = "{mock.url}"\naccess_token = "{TOKEN}"\n'
        '[profiles.other]\nbase_url = "http://127.0.0.1:9"\naccess_token = "x"\n',
    )
    with ycm.Client.from_profile() as client:
        assert client.base_url == mock.url
    monkeypatch.setenv("YCM_PROFILE", "other")
    with ycm.Client.from_profile() as client:
        assert client.base_url == "http://127.0.0.1:9"
    monkeypatch.setenv("YCM_PROFILE", "missing")
    with pytest.raises(ycm.InvalidArgumentError, match='profile "missing" is not in'):
        ycm.Client.from_profile()
    # An explicit name beats YCM_PROFILE.
    with ycm.Client.from_profile("default") as client:
        assert client.base_url == mock.url


def test_keywords_beat_the_environment_which_beats_the_profile(
    mock: Mock, config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        config_home,
        f'[profiles.default]\nbase_url = "http://127.0.0.1:9"\nclient_id = "{CLIENT_ID}"\n'
        f'client_secret_file = "{secret_file(config_home)}"\n',
    )
    monkeypatch.setenv("YCM_BASE_URL", mock.url)
    monkeypatch.setenv("YCM_ACCESS_TOKEN", TOKEN)  # replaces the profile's credentials
    with ycm.Client.from_profile() as client:
        assert client.base_url == mock.url
        client.get_user(13329)
    assert mock.stats()["token_requests"] == 0
    with ycm.Client.from_profile(base_url="http://127.0.0.1:8") as client:
        assert client.base_url == "http://127.0.0.1:8"
    monkeypatch.setenv("YCM_CLIENT_ID", CLIENT_ID)
    with pytest.raises(ycm.InvalidArgumentError, match="either the token or the client"):
        ycm.Client.from_profile()


def test_what_the_command_line_refuses_is_refused(config_home: Path) -> None:
    cases = [
        ('[profiles.default]\nbase_urll = "x"\n', 'key "base_urll" is unknown'),
        ('[profiles.default]\nbase_url = "http://h"\n', "no credentials"),
        ('[profiles.default]\naccess_token = "t"\n', "no base URL"),
        ('[profiles.default]\nbase_url = "http://h"\nclient_id = "i"\n', "client_id needs"),
        ("[profiles.default\n", "not valid TOML"),
        (
            '[profiles.default]\nbase_url = "http://h"\nclient_id = "i"\n'
            'client_secret_file = "/nonexistent/secret"\n',
            "cannot be read",
        ),
    ]
    for text, expected in cases:
        write(config_home, text)
        with pytest.raises(ycm.InvalidArgumentError) as caught:
            ycm.Client.from_profile()
        assert expected in str(caught.value), (text, str(caught.value))


def test_a_readable_file_draws_a_warning_only_when_it_holds_a_secret(
    mock: Mock, config_home: Path, ycm_logs: LogCapture
) -> None:
    write(
        config_home,
        f'[profiles.default]\nbase_url = "{mock.url}"\nclient_id = "{CLIENT_ID}"\n'
        f'client_secret_file = "{secret_file(config_home, "default")}"\n',
        0o644,
    )
    ycm.Client.from_profile().close()
    assert not [r for r in ycm_logs.records if r.levelno == logging.WARNING]
    # The secret file itself open to others is refused, as the CLI refuses it.
    secret = secret_file(config_home, "default")
    secret.chmod(0o640)
    with pytest.raises(ycm.InvalidArgumentError, match="chmod 600"):
        ycm.Client.from_profile()
    secret.chmod(0o600)
    path = write(config_home, f'[profiles.default]\nbase_url = "{mock.url}"\naccess_token = "{TOKEN}"\n', 0o644)
    ycm.Client.from_profile().close()
    [warning] = [r for r in ycm_logs.records if r.levelno == logging.WARNING]
    assert str(path) in warning.getMessage() and "chmod 600" in warning.getMessage()
    assert TOKEN not in warning.getMessage()


def test_the_asyncio_client_reads_profiles_too(mock: Mock, config_home: Path) -> None:
    write(config_home, f'[profiles.default]\nbase_url = "{mock.url}"\naccess_token = "{TOKEN}"\n')

    async def main() -> int:
        async with ycm.aio.AsyncClient.from_profile(max_workers=2) as client:
            return (await client.get_user(13329)).user_id

    assert asyncio.run(main()) == 13329


def test_an_explicit_config_file(mock: Mock, tmp_path: Path, config_home: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text(f'[profiles.x]\nbase_url = "{mock.url}"\naccess_token = "{TOKEN}"\n')
    with ycm.Client.from_profile("x", config_file=str(other)) as client:
        assert client.get_user(13329).user_id == 13329


ACCEPTED = [
    '# settings\n[profiles.default]\nbase_url = "https://ycm.example.com"  # a comment\n'
    "client_id = 'literal \\\\ kept'\ntimeout_ms = 10_000\nallow_insecure_http = false\n",
    '[profiles."my prod"]\n"quoted key" = "tab\\there \\u00e9\\U0001F600 \\"q\\" \\\\"\nmax_retries = -1\n',
    "[profiles]\n[profiles.a]\nx = +3\n[profiles.b]\ny = true\n",
    "",
]
REFUSED = [
    "[profiles.a]\nx = [1, 2]\n",
    "[profiles.a]\nx = { y = 1 }\n",
    '[profiles.a]\nx = """multi"""\n',
    "[profiles.a]\nx = 1.5\n",
    "[profiles.a]\na.b = 1\n",
    "[profiles.a]\nx = 1\nx = 2\n",
    "[profiles.a]\n[profiles.a]\n",
    '[profiles.a]\nx = "open\n',
    "[profiles.a]\nx = 1 y\n",
    "[[profiles]]\n",
    '[profiles.a]\nx = "bad \\q escape"\n',
]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib, the reference reader, is 3.11+")
def test_the_small_toml_reader_agrees_with_tomllib() -> None:
    import tomllib

    from ycm import _toml_subset

    for text in ACCEPTED:
        assert _toml_subset.loads(text) == tomllib.loads(text), text


def test_the_small_toml_reader_refuses_what_a_settings_file_does_not_use() -> None:
    from ycm import _toml_subset

    for text in REFUSED:
        with pytest.raises(ValueError):
            _toml_subset.loads(text)


def test_from_profile_works_with_the_small_reader(
    mock: Mock, config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ycm import _profile, _toml_subset

    monkeypatch.setattr(_profile, "_toml_loads", _toml_subset.loads)
    write(
        config_home,
        f'# written by ycm configure\n[profiles.prod]\nbase_url = "{mock.url}"\n'
        f'client_id = "{CLIENT_ID}"\nclient_secret_file = "{secret_file(config_home)}"\n',
    )
    with ycm.Client.from_profile("prod") as client:
        assert client.get_user(13329).user_id == 13329
    write(config_home, "[profiles.prod]\nbase_url = [1]\n")
    with pytest.raises(ycm.InvalidArgumentError, match="install tomli"):
        ycm.Client.from_profile("prod")


def test_a_profile_written_by_ycm_configure(mock: Mock, config_home: Path) -> None:
    """The ``ycm`` binary (``YCM_CLI_BIN``, else beside ycm-mock) writes, Python reads."""
    cli = Path(os.environ.get("YCM_CLI_BIN") or mock_binary().with_name("ycm"))
    if not cli.is_file():
        pytest.skip(f"no ycm command line at {cli} (cargo build --release -p yeastar-ycm-cli)")
    env = {"PATH": os.environ.get("PATH", ""), "XDG_CONFIG_HOME": str(config_home.parent)}
    subprocess.run(
        [str(cli), "--profile", "written", "--base-url", mock.url, "--quiet",
         "configure", "--client-id", CLIENT_ID, "--secret-stdin"],
        input=CLIENT_SECRET + "\n", text=True, env=env, check=True, capture_output=True,
    )
    assert (config_home / "written.secret").stat().st_mode & 0o777 == 0o600
    with ycm.Client.from_profile("written") as client:
        assert client.get_user(13329).user_id == 13329
    assert mock.stats()["token_requests"] == 1
