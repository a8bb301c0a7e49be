"""The Redis scope through the Python package, against ycm-mock and a real redis-server:
processes that share only the Redis URL (as on different hosts) make one token grant and
one failed grant for a wrong secret, keep together to a configured budget, go on when Redis
is killed (one warning record) and rejoin it when it is back; a forked child opens its own
connection; a wrong password is refused when the client is made, without showing it."""

import os
import time
from typing import Callable, List

import pytest

import ycm

from conftest import LogCapture, Mock, Redis, run_scripts

CLIENT_ID = "ycm-mock-client"
CLIENT_SECRET = "ycm-mock-secret"

SCRIPT = """
import sys
import ycm
url, secret, redis_url, updates = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
limit = sys.argv[5] if len(sys.argv) > 5 else None
with ycm.Client(url, client_id="ycm-mock-client", client_secret=secret,
                shared_state=redis_url, rate_limit=limit) as client:
    try:
        for i in range(updates):
            client.update_user(13329, company=f"from a process {i}")
        print("ok")
    except ycm.UnauthorizedError as error:
        print("unauthorized:", error)
"""


def run_processes(
    mock: Mock, secret: str, redis: Redis, count: int, updates: int = 1, limit: str = ""
) -> List[str]:
    argv = [mock.url, secret, redis.url, str(updates)] + ([limit] if limit else [])
    return run_scripts(SCRIPT, [argv] * count)


def test_a_fleet_makes_one_grant_and_one_failed_grant(
    start_mock_with: Callable[..., Mock], redis_server: Redis
) -> None:
    mock = start_mock_with("--no-static-token")
    assert run_processes(mock, CLIENT_SECRET, redis_server, 6) == ["ok"] * 6
    assert mock.stats()["token_grants"] == 1
    outputs = run_processes(mock, "rotated-away", redis_server, 4)
    assert all(o.startswith("unauthorized:") for o in outputs), outputs
    assert sum("redis (redis://127.0.0.1" in o for o in outputs) >= 3, outputs
    assert not any("rotated-away" in o for o in outputs)
    assert mock.stats()["refused_grants"] == 1


def test_a_fleet_keeps_to_the_configured_budget_and_shares_a_pause(
    start_mock_with: Callable[..., Mock], redis_server: Redis
) -> None:
    mock = start_mock_with("--no-static-token", "--rate-limit", "10/10/1")
    # 4 processes x 8 updates with the budget configured: no 429 at all.
    assert run_processes(mock, CLIENT_SECRET, redis_server, 4, 8, "10/10/1") == ["ok"] * 4
    assert mock.stats()["rate_limited"] == 0
    # Without it the fleet learns from the server: one shared pause, a few 429s in all.
    time.sleep(1.1)
    assert run_processes(mock, CLIENT_SECRET, redis_server, 4, 8) == ["ok"] * 4
    assert mock.stats()["rate_limited"] <= 8, mock.stats()


def test_a_killed_redis_fails_no_call_and_is_rejoined(
    start_mock_with: Callable[..., Mock], redis_server: Redis, ycm_logs: LogCapture
) -> None:
    mock = start_mock_with("--no-static-token")
    with ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    shared_state=redis_server.url) as client:
        client.update_user(13329, company="up")
        redis_server.kill()
        for i in range(5):
            client.update_user(13329, company=f"down {i}")
        redis_server.restart()
        time.sleep(1.1)
        client.update_user(13329, company="back")
    warnings = [r.getMessage() for r in ycm_logs.records if r.levelname == "WARNING"]
    assert sum("going on in process scope" in w for w in warnings) == 1, warnings
    assert sum("usable again" in w for w in warnings) == 1, warnings


def test_a_forked_child_opens_its_own_connection(
    start_mock_with: Callable[..., Mock], redis_server: Redis
) -> None:
    mock = start_mock_with("--no-static-token")
    with ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    shared_state=redis_server.url) as client:
        client.update_user(13329, company="parent")
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for i in range(20):
                    client.update_user(13329, company=f"child {i}")
                code = 0
            finally:
                os._exit(code)
        for i in range(20):
            client.update_user(13329, company=f"parent {i}")
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
    assert mock.stats()["token_grants"] == 1


def test_a_wrong_redis_password_is_refused_at_creation_without_showing_it(
    redis_server: Redis,
) -> None:
    bad = redis_server.url.replace("redis://", "redis://:hunter2-password@")
    with pytest.raises(ycm.InvalidArgumentError, match="shared_state") as caught:
        ycm.Client("http://127.0.0.1:1", "t", shared_state=bad)
    assert "hunter2" not in str(caught.value)
