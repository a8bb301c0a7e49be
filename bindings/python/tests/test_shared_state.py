"""The host scope through the Python package: processes sharing a client ID make one token
grant, and a wrong secret makes one failed grant across every process, each of which then
raises ``UnauthorizedError`` naming the latch, while the right secret works at once."""

from pathlib import Path
from typing import Callable, List

import pytest

import ycm

from conftest import Mock, run_scripts

CLIENT_ID = "ycm-mock-client"
CLIENT_SECRET = "ycm-mock-secret"

SCRIPT = """
import sys
import ycm
url, secret, state_dir = sys.argv[1:4]
with ycm.Client(url, client_id="ycm-mock-client", client_secret=secret,
                shared_state="host", state_dir=state_dir) as client:
    try:
        client.update_user(13329, company="from a process")
        print("ok")
    except ycm.UnauthorizedError as error:
        print("unauthorized:", error)
"""


def run_processes(mock: Mock, secret: str, state_dir: Path, count: int) -> List[str]:
    return run_scripts(SCRIPT, [[mock.url, secret, str(state_dir)]] * count, timeout=60)


def test_processes_of_one_host_make_one_grant(
    start_mock_with: Callable[..., Mock], tmp_path: Path
) -> None:
    mock = start_mock_with("--no-static-token")
    assert run_processes(mock, CLIENT_SECRET, tmp_path / "state", 4) == ["ok"] * 4
    assert mock.stats()["token_grants"] == 1


def test_a_wrong_secret_makes_one_failed_grant_across_processes(
    start_mock_with: Callable[..., Mock], tmp_path: Path
) -> None:
    mock = start_mock_with("--no-static-token")
    state = tmp_path / "state"
    outputs = run_processes(mock, "rotated-away", state, 4)
    assert all(o.startswith("unauthorized:") for o in outputs), outputs
    assert sum("were refused at" in o for o in outputs) >= 3, outputs
    assert not any("rotated-away" in o for o in outputs)
    assert mock.stats()["refused_grants"] == 1
    assert run_processes(mock, CLIENT_SECRET, state, 1) == ["ok"]


def test_bad_shared_state_options_are_refused_naming_the_key() -> None:
    for options, key in [
        ({"rate_limit": "fast"}, "BURST/RATE/INTERVAL_S"),
        ({"shared_state": "cluster"}, "shared_state"),
    ]:
        with pytest.raises(ycm.InvalidArgumentError, match=key):
            ycm.Client("http://127.0.0.1:1", "t", **options)  # type: ignore[arg-type]


def test_twelve_processes_under_a_cap_of_eight_tokens_get_no_refused_grant(
    start_mock_with: Callable[..., Mock], tmp_path: Path
) -> None:
    mock = start_mock_with("--no-static-token", "--max-tokens", "8")
    assert run_processes(mock, CLIENT_SECRET, tmp_path / "state", 12) == ["ok"] * 12
    stats = mock.stats()
    assert (stats["token_grants"], stats["refused_grants"]) == (1, 0)
