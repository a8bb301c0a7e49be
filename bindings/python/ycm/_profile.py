"""The ``ycm`` command line's settings file, read for :meth:`ycm.Client.from_profile`.

The file is ``$XDG_CONFIG_HOME/ycm/config.toml`` (default ``~/.config/ycm/config.toml``),
one ``[profiles.NAME]`` table per YCM instance holding the client's keyword options
(``base_url``, ``access_token`` or ``client_id`` with ``client_secret`` or
``client_secret_file``, ``timeout_ms``, ``shared_state``, ...), as ``ycm configure`` writes
it. The precedence is the command line's (``cli/src/settings.rs``), highest first: the
keywords given to ``from_profile``; the environment (``YCM_BASE_URL``, ``YCM_ACCESS_TOKEN``,
``YCM_CLIENT_ID`` + ``YCM_CLIENT_SECRET``, ``YCM_SHARED_STATE``, ``YCM_PROXY``;
``YCM_PROFILE`` names the profile); the profile; the library's defaults (``shared_state``
stays ``"process"`` unless set: the CLI alone defaults to ``"host"``). Credentials come as
a unit from the highest layer that gives any. Unknown keys are refused, as the CLI refuses
them. TOML is read with :mod:`tomllib` (Python 3.11+); on 3.9 and 3.10 with its backport
``tomli`` when installed, else with ``_toml_subset``, a small reader of the part of TOML a
settings file uses that refuses the rest (the package keeps no dependency, so that the
wheel installs offline).
"""

from __future__ import annotations

import inspect
import logging
import os
import shlex
import stat
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

_toml_loads: Callable[[str], Dict[str, Any]]
if sys.version_info >= (3, 11):
    from tomllib import loads as _toml_loads
else:  # pragma: no cover - exercised on 3.9 and 3.10 (make dist-test)
    try:
        from tomli import loads as _toml_loads
    except ImportError:
        from ._toml_subset import loads as _toml_loads

from ._errors import Code, local_error

CLIENT_SECRET_FILE = "client_secret_file"
_CREDENTIALS = ("access_token", "client_id", "client_secret", CLIENT_SECRET_FILE)

logger = logging.getLogger("ycm")


def config_path(environ: Mapping[str, str]) -> Optional[Path]:
    """The settings file: ``$XDG_CONFIG_HOME/ycm/config.toml``, else under ``~/.config``."""
    xdg = environ.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "ycm" / "config.toml"
    home = environ.get("HOME", "")
    return Path(home) / ".config" / "ycm" / "config.toml" if home else None


def _refuse(message: str) -> Exception:
    return local_error(Code.INVALID_ARGUMENT, message)


def _warn_if_readable(path: Path, what: str) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        who = "others" if mode & stat.S_IROTH else "its group"
        logger.warning(
            "%s %s is readable by %s (mode %o); it holds a secret: chmod 600 it",
            what, path, who, mode & 0o777,
        )


def _secret_held(document: Mapping[str, Any]) -> Optional[str]:
    """Where the document holds a secret (as the CLI decides), e.g. ``profile "x" access_token``."""
    profiles = document.get("profiles")
    if not isinstance(profiles, dict):
        return None
    for name, profile in profiles.items():
        if not isinstance(profile, dict):
            continue
        for key, value in profile.items():
            if key in ("access_token", "client_secret"):
                return f'profile "{name}" {key}'
            if key in ("proxy", "shared_state") and isinstance(value, str) and "://" in value:
                authority = value.split("://", 1)[1].split("/", 1)[0]
                if "@" in authority:
                    return f'profile "{name}" {key}'
    return None


def _load_table(path: Path, name: str, named: bool) -> Dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = None
    except OSError as exc:
        raise _refuse(f'settings file "{path}" cannot be read: {exc}') from None
    if raw is None:
        if named:
            raise _refuse(f'profile "{name}" is not in "{path}" (the file does not exist)')
        return {}
    try:
        document = _toml_loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and TOMLDecodeError are ValueErrors
        raise _refuse(f'settings file "{path}" is not valid TOML: {exc}') from None
    holder = _secret_held(document)
    if holder:
        _warn_if_readable(path, f"settings file (its {holder})")
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict):
        raise _refuse(f'settings file "{path}": "profiles" must be a table of [profiles.NAME] tables')
    profile = profiles.get(name)
    if profile is None:
        if named:
            raise _refuse(
                f'profile "{name}" is not in "{path}": add a [profiles.{name}] table or name another profile'
            )
        return {}
    if not isinstance(profile, dict):
        raise _refuse(f'settings file "{path}": profiles.{name} must be a table')
    return dict(profile)


def _check_secret_file(profile: str, path: Path, mode: int, owner: int) -> None:
    """The CLI's rule (cli/src/settings.rs ``check_secret_file``), as ssh applies it to a
    private key: a file another user (but root) owns, or that its group or others may use at
    all (any bit of mode 077), is refused with the command that fixes it."""
    me = os.geteuid()
    quoted = shlex.quote(str(path))
    if owner not in (me, 0):
        raise _refuse(
            f'profile "{profile}": client_secret_file "{path}" is owned by uid {owner}, not by '
            f"uid {me} running ycm (nor root): refused, as ssh refuses a key another user "
            f"controls; take it over with `chown {me} {quoted} && chmod 600 {quoted}`"
        )
    if mode & 0o077:
        who = {(True, True): "its group and others", (True, False): "its group"}.get(
            (bool(mode & 0o070), bool(mode & 0o007)), "others"
        )
        access = {(True, True): "read and written", (True, False): "read", (False, True): "written"}.get(
            (bool(mode & 0o044), bool(mode & 0o022)), "used"
        )
        raise _refuse(
            f'profile "{profile}": client_secret_file "{path}" has mode {mode & 0o7777:04o}: it '
            f"can be {access} by {who}, so ycm refuses it (as ssh refuses an unprotected private "
            f"key) and sends nothing; run `chmod 600 {quoted}`"
        )


def _read_secret_file(profile: str, file: str) -> str:
    path = Path(file).expanduser()
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            _check_secret_file(profile, path, status.st_mode, status.st_uid)
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _refuse(f'profile "{profile}": client_secret_file "{path}" cannot be read: {exc}') from None
    secret = text.splitlines()[0].rstrip() if text else ""
    if not secret:
        raise _refuse(f'profile "{profile}": client_secret_file "{path}" is empty')
    return secret


def resolve(
    name: Optional[str],
    overrides: Mapping[str, Any],
    known: Tuple[str, ...],
    environ: Optional[Mapping[str, str]] = None,
    config_file: Optional[Path] = None,
) -> Dict[str, Any]:
    """The keyword arguments of :class:`ycm.Client` for profile ``name`` (see the module)."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    get: Callable[[str], Optional[str]] = lambda key: env.get(key) or None  # noqa: E731
    named = name is not None or get("YCM_PROFILE") is not None
    profile_name = name or get("YCM_PROFILE") or "default"
    path = Path(config_file) if config_file is not None else config_path(env)
    table = _load_table(path, profile_name, named) if path is not None else {}
    allowed = set(known) | {CLIENT_SECRET_FILE}
    for key in table:
        if key not in allowed:
            raise _refuse(
                f'settings file "{path}", profile "{profile_name}": key "{key}" is unknown; '
                f"known keys: {', '.join(sorted(allowed))}"
            )

    options: Dict[str, Any] = {
        k: v for k, v in table.items() if k not in _CREDENTIALS and k != "base_url"
    }
    for key, variable in (("shared_state", "YCM_SHARED_STATE"), ("proxy", "YCM_PROXY")):
        if get(variable) is not None:
            options[key] = get(variable)
    base_url = get("YCM_BASE_URL") or table.get("base_url")

    env_token, env_id, env_secret = (
        get("YCM_ACCESS_TOKEN"), get("YCM_CLIENT_ID"), get("YCM_CLIENT_SECRET"),
    )
    credentials: Dict[str, Any]
    if env_token or env_id or env_secret:
        if env_token and not (env_id or env_secret):
            credentials = {"access_token": env_token}
        elif env_id and env_secret and not env_token:
            credentials = {"client_id": env_id, "client_secret": env_secret}
        elif env_token:
            raise _refuse(
                "the environment sets YCM_ACCESS_TOKEN and YCM_CLIENT_ID/YCM_CLIENT_SECRET: "
                "set either the token or the client credentials"
            )
        else:
            raise _refuse("YCM_CLIENT_ID and YCM_CLIENT_SECRET must be set together")
    else:
        secret = table.get("client_secret")
        if secret is not None and table.get(CLIENT_SECRET_FILE) is not None:
            raise _refuse(
                f'profile "{profile_name}" sets both client_secret and client_secret_file: keep one'
            )
        if table.get(CLIENT_SECRET_FILE) is not None:
            secret = _read_secret_file(profile_name, str(table[CLIENT_SECRET_FILE]))
        token, client_id = table.get("access_token"), table.get("client_id")
        if token is not None and client_id is None and secret is None:
            credentials = {"access_token": token}
        elif token is None and client_id is not None and secret is not None:
            credentials = {"client_id": client_id, "client_secret": secret}
        elif token is None and client_id is None and secret is None:
            credentials = {}
        elif token is not None:
            raise _refuse(f'profile "{profile_name}" sets access_token and client credentials: keep one')
        else:
            raise _refuse(
                f'profile "{profile_name}": client_id needs client_secret_file (or client_secret), '
                "and the other way round"
            )

    given = {k: v for k, v in overrides.items() if v is not None}
    if any(k in given for k in _CREDENTIALS):
        credentials = {}
    result: Dict[str, Any] = {**options, **credentials}
    if base_url is not None:
        result["base_url"] = base_url
    result.update(given)
    if "base_url" not in result:
        raise _refuse(
            "no base URL: pass base_url=, set YCM_BASE_URL, or put base_url in a profile of "
            f'"{path}"'
        )
    if not any(k in result for k in ("access_token", "client_id", "client_secret")):
        raise _refuse(
            "no credentials: set YCM_ACCESS_TOKEN, or YCM_CLIENT_ID and YCM_CLIENT_SECRET, or "
            "put access_token or client_id and client_secret_file in the profile "
            "(`ycm configure` writes one)"
        )
    return result


def client_keywords(init: Callable[..., Any]) -> Tuple[str, ...]:
    """The option names a client constructor takes (its parameters but ``self``)."""
    return tuple(p for p in inspect.signature(init).parameters if p != "self")
