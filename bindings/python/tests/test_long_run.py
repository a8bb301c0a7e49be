"""Issue 4's acceptance run: ``examples/credentials_run.py`` (a Python program that builds
``ycm.Client(url, client_id=..., client_secret=...)``) updates a user for 10 seconds against
a ycm-mock whose tokens live 2 seconds, with zero failed calls, and the mock counts token
requests about once per token lifetime (4 to 8 in 10 s), not once per call.

It takes about 10 s, so it is marked ``slow``: it runs in the normal suite (``make py-test``),
and ``-m "not slow"`` leaves it out of a quick run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict

import pytest

from conftest import CLIENT_ID, CLIENT_SECRET, Mock

PACKAGE_DIR = Path(__file__).resolve().parents[1]
EXAMPLE = PACKAGE_DIR / "examples" / "credentials_run.py"
SECONDS = 10
TOKEN_TTL = 2


def figures(output: str) -> Dict[str, str]:
    """The ``name: value`` lines the example prints."""
    return dict(re.findall(r"^([a-z ]+): (.+)$", output, flags=re.MULTILINE))


@pytest.mark.slow
def test_credentials_client_runs_across_expiries_without_a_failure(
    start_mock_with: Callable[..., Mock],
) -> None:
    mock = start_mock_with("--no-static-token", "--token-ttl", str(TOKEN_TTL))
    env = dict(os.environ)
    # The checkout's package, whatever interpreter runs the tests; YCM_LIBRARY is inherited.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_DIR), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            mock.url,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
            "--seconds",
            str(SECONDS),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=SECONDS + 50,
    )
    report = figures(done.stdout)
    print(f"\n{done.stdout}{done.stderr}", end="")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert report["failures"] == "0", done.stderr
    calls = int(report["calls"])
    tokens = int(report["token requests"])

    stats = mock.stats()
    assert stats["token_requests"] == tokens
    assert stats["update_user"] >= calls  # a replay after a 401 would count twice
    # Roughly once per TTL (2 s over 10 s), not once per call.
    assert 4 <= tokens <= 8, stats
    assert calls >= 20 * tokens, (calls, tokens)
    # The first token comes from the client-credentials grant, the later ones from refreshes.
    grants = [
        entry["body"].split("&", 1)[0]
        for entry in mock.log()
        if entry["path"].startswith("/dm/open_api/oauth/token")
    ]
    assert len(grants) == tokens
    assert grants[0] == "grant_type=client_credentials", grants
    assert "grant_type=refresh_token" in grants[1:], grants
