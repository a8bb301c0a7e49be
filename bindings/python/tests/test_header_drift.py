"""The ctypes declarations of ``ycm._ffi`` must match ``include/ycm.h`` exactly.

The header is parsed with regular expressions over cbindgen's regular output: functions
(return and parameter types), structures (field types and array sizes), the ``ycm_code``
enum, the opaque types and the ``YCM_*`` macros. Anything the parser does not recognise
fails the test, so a header that gains or changes anything fails here until the Python
declarations follow. The parser itself is tested on mutated copies of the header.
"""

from __future__ import annotations

import ctypes
import re
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Tuple

import pytest

import ycm
from ycm import _ffi

HEADER = Path(__file__).resolve().parents[3] / "include" / "ycm.h"

# C scalar types and the ctypes type each must be declared with.
SCALARS: Dict[str, Any] = {
    "uint8_t": ctypes.c_uint8,
    "uint16_t": ctypes.c_uint16,
    "uint32_t": ctypes.c_uint32,
    "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64,
    "enum ycm_code": ctypes.c_int,
    "char": ctypes.c_char,
}

# Macros that are not part of the Python declarations but are known.
OTHER_MACROS = {"YCM_H", "YCM_VERSION_MAJOR", "YCM_VERSION_MINOR", "YCM_VERSION_PATCH", "YCM_VERSION_STRING"}


class Function(NamedTuple):
    ret: str
    params: Tuple[str, ...]


class Header(NamedTuple):
    functions: Dict[str, Function]
    structs: Dict[str, List[Tuple[str, str, int]]]  # name -> [(type, field, array length or 0)]
    enums: Dict[str, Dict[str, int]]
    opaque: List[str]
    macros: Dict[str, str]


def _normalise_type(text: str) -> str:
    text = " ".join(text.split())
    return re.sub(r"\s*(\*+)\s*", r" \1", text).strip()


def parse_header(text: str) -> Header:
    macros = dict(re.findall(r"^#define\s+(\w+)(?:[ \t]+(.*?))?\s*$", text, re.MULTILINE))
    code = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    code = re.sub(r"//[^\n]*", " ", code)
    code = re.sub(r"^\s*#[^\n]*", " ", code, flags=re.MULTILINE)
    code = re.sub(r'extern\s+"C"\s*\{', " ", code)

    structs: Dict[str, List[Tuple[str, str, int]]] = {}
    enums: Dict[str, Dict[str, int]] = {}

    def block(match: "re.Match[str]") -> str:
        kind, tag, body, alias = match.groups()
        assert tag == alias, f"typedef {kind} {tag} is aliased as {alias}"
        if kind == "enum":
            entries: Dict[str, int] = {}
            for entry in filter(None, (e.strip() for e in body.split(","))):
                name, value = re.fullmatch(r"(\w+)\s*=\s*(-?\d+)", entry).groups()  # type: ignore[union-attr]
                entries[name] = int(value)
            enums[tag] = entries
        else:
            fields = []
            for decl in filter(None, (d.strip() for d in body.split(";"))):
                found = re.fullmatch(r"(.+?)\s*\b(\w+)\s*(?:\[(\d+)\])?", decl, re.DOTALL)
                assert found, f"cannot parse field {decl!r} of struct {tag}"
                ctype, name, length = found.groups()
                fields.append((_normalise_type(ctype), name, int(length or 0)))
            structs[tag] = fields
        return " "

    code = re.sub(
        r"typedef\s+(struct|enum)\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", block, code, flags=re.DOTALL
    )
    opaque = re.findall(r"typedef\s+struct\s+(\w+)\s+\1\s*;", code)
    code = re.sub(r"typedef\s+struct\s+(\w+)\s+\1\s*;", " ", code)

    functions: Dict[str, Function] = {}
    for statement in code.split(";"):
        statement = statement.strip().rstrip("}").strip()
        if not statement:
            continue
        found = re.fullmatch(r"(.+?)\b(ycm_\w+)\s*\((.*)\)", statement, re.DOTALL)
        assert found, f"the drift test does not understand this part of ycm.h: {statement!r}"
        ret, name, raw_params = found.groups()
        params: List[str] = []
        if raw_params.strip() != "void":
            for param in raw_params.split(","):
                typed = re.fullmatch(r"(.+?)\s*\b\w+", " ".join(param.split()))
                assert typed, f"cannot parse parameter {param!r} of {name}"
                params.append(_normalise_type(typed.group(1)))
        function = Function(_normalise_type(ret), tuple(params))
        # cbindgen may repeat a prototype; C allows that only when both are the same.
        assert functions.get(name, function) == function, f"{name} is declared twice, differently"
        functions[name] = function
    return Header(functions, structs, enums, opaque, macros)


def ctypes_for(ctype: str) -> Any:
    """The ctypes type the package must use for a C type of the header."""
    if ctype == "void":
        return None
    stars = len(ctype) - len(ctype.rstrip("*"))
    base = ctype.rstrip("*").strip()
    const = base.startswith("const ")
    base = base.removeprefix("const ").strip()
    if base == "char" and stars:
        # Inputs and static strings are c_char_p; strings the caller frees are c_void_p.
        inner: Any = ctypes.c_char_p if const and stars == 1 else ctypes.c_void_p
        for _ in range(stars - 1):
            inner = ctypes.POINTER(inner)
        return inner
    if base.startswith("struct "):
        result: Any = getattr(_ffi, base.removeprefix("struct "))
    elif base in SCALARS:
        result = SCALARS[base]
    else:
        raise AssertionError(f"the drift test does not know the C type {ctype!r}")
    for _ in range(stars):
        result = ctypes.POINTER(result)
    return result


def describe(ctype: Any) -> str:
    """A readable, comparable name for a ctypes type."""
    if ctype is None:
        return "None"
    if isinstance(ctype, type) and issubclass(ctype, ctypes.Array):
        return f"{describe(ctype._type_)}[{ctype._length_}]"
    if isinstance(ctype, type) and issubclass(ctype, ctypes._Pointer):
        return f"POINTER({describe(ctype._type_)})"
    return str(ctype.__name__)


def differences(header: Header) -> List[str]:
    """Every way the Python declarations differ from ``header``."""
    found: List[str] = []

    def compare(what: str, expected: object, actual: object) -> None:
        if expected != actual:
            found.append(f"{what}: header says {expected}, Python says {actual}")

    compare("functions", sorted(header.functions), sorted(_ffi.SIGNATURES))
    for name, function in header.functions.items():
        if name not in _ffi.SIGNATURES:
            continue
        try:
            want_ret = describe(ctypes_for(function.ret))
            want_args = [describe(ctypes_for(p)) for p in function.params]
        except AssertionError as exc:
            found.append(f"{name}: {exc}")
            continue
        fn = getattr(_ffi.lib, name)
        compare(f"{name} restype", want_ret, describe(fn.restype))
        compare(f"{name} argtypes", want_args, [describe(a) for a in fn.argtypes])
        restype, argtypes = _ffi.SIGNATURES[name]
        compare(f"{name} table", (want_ret, want_args), (describe(restype), [describe(a) for a in argtypes]))

    compare("structs", sorted(header.structs), ["ycm_status", "ycm_user_fields"])
    for name, fields in header.structs.items():
        structure = getattr(_ffi, name, None)
        if structure is None:
            continue
        want = []
        for ctype, field, length in fields:
            try:
                base = ctypes_for(ctype)
            except AssertionError as exc:
                found.append(f"{name}.{field}: {exc}")
                continue
            want.append((field, describe(base * length if length else base)))
        have = [(field[0], describe(field[1])) for field in structure._fields_]
        compare(f"struct {name} fields", want, have)

    compare("enums", sorted(header.enums), ["ycm_code"])
    codes = {("YCM_OK" if c is ycm.Code.OK else f"YCM_ERR_{c.name}"): int(c) for c in ycm.Code}
    compare("enum ycm_code", header.enums.get("ycm_code"), codes)

    compare("opaque types", sorted(header.opaque), ["ycm_client"])

    constants = {k: v for k, v in header.macros.items() if k not in OTHER_MACROS}
    python_constants = {k: str(v) for k, v in vars(_ffi).items() if k.startswith("YCM_")}
    compare("macros", constants, python_constants)
    return found


@pytest.fixture(scope="module")
def header_text() -> str:
    return HEADER.read_text(encoding="utf-8")


def test_declarations_match_the_header(header_text: str) -> None:
    header = parse_header(header_text)
    assert len(header.functions) >= 14
    assert differences(header) == []


def test_version_macros_match_the_library(header_text: str) -> None:
    macros = parse_header(header_text).macros
    assert macros["YCM_VERSION_STRING"] == f'"{ycm.__version__}"'
    parts = [macros[f"YCM_VERSION_{p}"] for p in ("MAJOR", "MINOR", "PATCH")]
    assert ".".join(parts) == ycm.__version__


MUTATIONS = [
    # (what changes, old text, new text)
    ("a parameter type", "int64_t user_id,\n", "int32_t user_id,\n"),
    ("a return type", "const char *ycm_version(void);", "char *ycm_version(void);"),
    ("a new function", "const char *ycm_version(void);", "const char *ycm_version(void);\nvoid ycm_new_thing(int32_t x);"),
    ("an extra parameter", "ycm_string_free(char *string);", "ycm_string_free(char *string, int32_t n);"),
    ("an array size", "char message[512];", "char message[256];"),
    ("a field type", "uint16_t http_status;", "uint32_t http_status;"),
    ("a new field", "int64_t pbx_limit;", "int64_t pbx_limit;\n  uint8_t extra;"),
    ("a code value", "YCM_ERR_INTERNAL = 90,", "YCM_ERR_INTERNAL = 91,"),
    ("a new code", "YCM_ERR_INTERNAL = 90,", "YCM_ERR_INTERNAL = 90,\n  YCM_ERR_NEW = 91,"),
    ("a constant", "#define YCM_PBX_LIMIT_AT_MOST 2", "#define YCM_PBX_LIMIT_AT_MOST 3"),
    ("a new constant", "#define YCM_PBX_LIMIT_AT_MOST 2", "#define YCM_PBX_LIMIT_AT_MOST 2\n#define YCM_PBX_LIMIT_MAX 4"),
    ("a new opaque type", "typedef struct ycm_client ycm_client;", "typedef struct ycm_client ycm_client;\ntypedef struct ycm_batch ycm_batch;"),
]


@pytest.mark.parametrize("what,old,new", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_changed_header_is_detected(header_text: str, what: str, old: str, new: str) -> None:
    assert old in header_text, f"mutation {what!r} no longer applies to ycm.h"
    changed = header_text.replace(old, new)
    try:
        found = differences(parse_header(changed))
    except AssertionError:
        return  # the parser refused the change: also a failure of the drift test
    assert found, f"{what} went unnoticed"
