"""A reader of the part of TOML a ``ycm`` settings file uses, for Python 3.9 and 3.10
(which lack :mod:`tomllib`) when the ``tomli`` backport is not installed.

It reads what ``ycm configure`` and the README's examples write: ``[a.b]`` table headers,
``key = value`` lines with bare or ``"quoted"`` keys, basic ``"..."`` strings (with TOML's
escapes), literal ``'...'`` strings, integers, ``true`` and ``false``, and comments. Anything
else (arrays, inline tables, multi-line strings, floats, dates, dotted keys) is refused with
a :class:`ValueError` that says so, never misread. A test checks that it agrees with
:mod:`tomllib` on the documents it accepts.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Set, Tuple

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_INTEGER = re.compile(r"[+-]?(0|[1-9](_?[0-9])*)")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_BEYOND = "is beyond what ycm reads without tomllib (install tomli, or use Python 3.11+)"


def _basic(text: str, start: int, line: int) -> Tuple[str, int]:
    """The basic string opening at ``text[start]``; returns it and the index after it."""
    out: List[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            e = text[i + 1 : i + 2]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(e)
            digits = text[i + 2 : i + 2 + width] if width else ""
            if width and re.fullmatch(r"[0-9A-Fa-f]+", digits) and len(digits) == width:
                out.append(chr(int(digits, 16)))
                i += 2 + width
                continue
            raise ValueError(f"line {line}: bad escape in a string")
        if ord(c) < 0x20 and c != "\t":
            raise ValueError(f"line {line}: a control character in a string")
        out.append(c)
        i += 1
    raise ValueError(f"line {line}: unterminated string")


def _key(text: str, i: int, line: int) -> Tuple[str, int]:
    if text.startswith('"', i):
        return _basic(text, i, line)
    match = _BARE.match(text, i)
    if not match:
        raise ValueError(f"line {line}: expected a key")
    return match.group(), match.end()


def _rest_is_comment(text: str, i: int, line: int) -> None:
    rest = text[i:].strip()
    if rest and not rest.startswith("#"):
        raise ValueError(f"line {line}: unexpected {rest!r}")


def loads(text: str) -> Dict[str, Any]:
    """The document as nested dicts, or :class:`ValueError` naming the line."""
    document: Dict[str, Any] = {}
    table = document
    defined: Set[Tuple[str, ...]] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            raise ValueError(f"line {number}: arrays of tables {_BEYOND}")
        if line.startswith("["):
            path: List[str] = []
            i = 1
            while True:
                i = len(line) - len(line[i:].lstrip())
                key, i = _key(line, i, number)
                path.append(key)
                i = len(line) - len(line[i:].lstrip())
                if line.startswith(".", i):
                    i += 1
                    continue
                if not line.startswith("]", i):
                    raise ValueError(f"line {number}: bad table header")
                _rest_is_comment(line, i + 1, number)
                break
            if tuple(path) in defined:
                raise ValueError(f"line {number}: table [{'.'.join(path)}] defined twice")
            defined.add(tuple(path))
            table = document
            for key in path:
                table = table.setdefault(key, {})
                if not isinstance(table, dict):
                    raise ValueError(f"line {number}: {key} is not a table")
            continue
        key, i = _key(line, 0, number)
        rest = line[i:].lstrip()
        if rest.startswith("."):
            raise ValueError(f"line {number}: dotted keys {_BEYOND}")
        if not rest.startswith("="):
            raise ValueError(f"line {number}: expected '=' after {key!r}")
        value_text = rest[1:].lstrip()
        start = len(line) - len(value_text)
        value: Any
        if value_text.startswith('"""') or value_text.startswith("'''"):
            raise ValueError(f"line {number}: multi-line strings {_BEYOND}")
        if value_text.startswith('"'):
            value, end = _basic(line, start, number)
        elif value_text.startswith("'"):
            close = line.find("'", start + 1)
            if close < 0:
                raise ValueError(f"line {number}: unterminated string")
            value, end = line[start + 1 : close], close + 1
        else:
            word = re.match(r"[^\s#]+", value_text)
            token = word.group() if word else ""
            end = start + len(token)
            if token in ("true", "false"):
                value = token == "true"
            elif _INTEGER.fullmatch(token):
                value = int(token.replace("_", ""))
            else:
                raise ValueError(f"line {number}: the value {token or value_text!r} {_BEYOND}")
        _rest_is_comment(line, end, number)
        if key in table:
            raise ValueError(f"line {number}: key {key!r} defined twice")
        table[key] = value
    return document
