"""The ctypes declarations of ``ycm._ffi`` must match ``include/ycm.h`` exactly.

The header is parsed with regular expressions over cbindgen's regular output: functions
(return and parameter types), function-pointer typedefs (the log callback), structures
(field types and array sizes), the enums (``ycm_code``, ``ycm_log_level``), the opaque
types and the ``YCM_*`` macros. A type the header uses without declaring it fails too. Anything the parser does not recognise
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
    "uint64_t": ctypes.c_uint64,
    "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64,
    "enum ycm_code": ctypes.c_int,
    "enum ycm_log_level": ctypes.c_int,
    "enum ycm_control": ctypes.c_int,
    "enum ycm_sync_event_kind": ctypes.c_int,
    "int": ctypes.c_int,
    "bool": ctypes.c_bool,
    "char": ctypes.c_char,
}

# The enums of the header and the Python declaration of each: {C name: value}.
ENUMS: Dict[str, Dict[str, int]] = {
    "ycm_code": {("YCM_OK" if c is ycm.Code.OK else f"YCM_ERR_{c.name}"): int(c) for c in ycm.Code},
    "ycm_log_level": {k: v for k, v in vars(_ffi).items() if k.startswith("YCM_LOG_")},
    "ycm_control": {"YCM_CONTINUE": _ffi.YCM_CONTINUE, "YCM_ABORT": _ffi.YCM_ABORT},
    "ycm_sync_event_kind": {k: v for k, v in vars(_ffi).items() if k.startswith("YCM_SYNC_")},
}

# Macros that are not part of the Python declarations but are known.
OTHER_MACROS = {"YCM_H", "YCM_VERSION_MAJOR", "YCM_VERSION_MINOR", "YCM_VERSION_PATCH", "YCM_VERSION_STRING"}


class Function(NamedTuple):
    ret: str
    params: Tuple[str, ...]


class Header(NamedTuple):
    functions: Dict[str, Function]
    callbacks: Dict[str, Function]  # typedef RET (*NAME)(PARAMS);
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

    def parameters(raw_params: str, name: str) -> Tuple[str, ...]:
        params: List[str] = []
        if raw_params.strip() != "void":
            for param in raw_params.split(","):
                typed = re.fullmatch(r"(.+?)\s*\b\w+", " ".join(param.split()))
                assert typed, f"cannot parse parameter {param!r} of {name}"
                params.append(_normalise_type(typed.group(1)))
        return tuple(params)

    callbacks: Dict[str, Function] = {}

    def callback(match: "re.Match[str]") -> str:
        ret, name, raw_params = match.groups()
        callbacks[name] = Function(_normalise_type(ret), parameters(raw_params, name))
        return " "

    code = re.sub(
        r"typedef\s+([\w\s\*]+?)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;",
        callback,
        code,
    )

    functions: Dict[str, Function] = {}
    for statement in code.split(";"):
        statement = statement.strip().rstrip("}").strip()
        if not statement:
            continue
        found = re.fullmatch(r"(.+?)\b(ycm_\w+)\s*\((.*)\)", statement, re.DOTALL)
        assert found, f"the drift test does not understand this part of ycm.h: {statement!r}"
        ret, name, raw_params = found.groups()
        function = Function(_normalise_type(ret), parameters(raw_params, name))
        # cbindgen may repeat a prototype; C allows that only when both are the same.
        assert functions.get(name, function) == function, f"{name} is declared twice, differently"
        functions[name] = function
    return Header(functions, callbacks, structs, enums, opaque, macros)


def ctypes_for(ctype: str, header: Header) -> Any:
    """The ctypes type the package must use for a C type of ``header``."""
    if ctype == "void":
        return None
    stars = len(ctype) - len(ctype.rstrip("*"))
    base = ctype.rstrip("*").strip()
    const = base.startswith("const ")
    base = base.removeprefix("const ").strip()
    declared = [f"struct {n}" for n in [*header.structs, *header.opaque]]
    declared += [f"enum {n}" for n in header.enums] + list(header.callbacks)
    if not (base in declared or base in SCALARS and not base.startswith("enum ") or base == "void"):
        raise AssertionError(f"the header uses the type {base!r} without declaring it")
    if base == "void" and stars:
        inner_void: Any = ctypes.c_void_p
        for _ in range(stars - 1):
            inner_void = ctypes.POINTER(inner_void)
        return inner_void
    if base in header.callbacks:
        result_fn: Any = getattr(_ffi, base)
        for _ in range(stars):
            result_fn = ctypes.POINTER(result_fn)
        return result_fn
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
    if isinstance(ctype, type) and hasattr(ctype, "_argtypes_"):  # a CFUNCTYPE
        function: Any = ctype
        args = ", ".join(describe(a) for a in function._argtypes_)
        return f"CFUNCTYPE({describe(function._restype_)}; {args})"
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
            want_ret = describe(ctypes_for(function.ret, header))
            want_args = [describe(ctypes_for(p, header)) for p in function.params]
        except AssertionError as exc:
            found.append(f"{name}: {exc}")
            continue
        fn = getattr(_ffi.lib, name)
        compare(f"{name} restype", want_ret, describe(fn.restype))
        compare(f"{name} argtypes", want_args, [describe(a) for a in fn.argtypes])
        restype, argtypes = _ffi.SIGNATURES[name]
        compare(f"{name} table", (want_ret, want_args), (describe(restype), [describe(a) for a in argtypes]))

    compare("callback types", sorted(header.callbacks), ["ycm_log_fn", "ycm_sync_event_fn"])
    for name, function in header.callbacks.items():
        declared = getattr(_ffi, name, None)
        if declared is None:
            continue
        try:
            want_fn = (
                describe(ctypes_for(function.ret, header)),
                [describe(ctypes_for(p, header)) for p in function.params],
            )
        except AssertionError as exc:
            found.append(f"{name}: {exc}")
            continue
        have_fn = (describe(declared._restype_), [describe(a) for a in declared._argtypes_])
        compare(f"callback type {name}", want_fn, have_fn)

    compare(
        "structs",
        sorted(header.structs),
        ["ycm_log_record", "ycm_status", "ycm_sync_callbacks", "ycm_sync_event", "ycm_user_fields"],
    )
    for name, fields in header.structs.items():
        structure = getattr(_ffi, name, None)
        if structure is None:
            continue
        want = []
        for ctype, field, length in fields:
            try:
                base = ctypes_for(ctype, header)
            except AssertionError as exc:
                found.append(f"{name}.{field}: {exc}")
                continue
            want.append((field, describe(base * length if length else base)))
        have = [(field[0], describe(field[1])) for field in structure._fields_]
        compare(f"struct {name} fields", want, have)

    compare("enums", sorted(header.enums), sorted(ENUMS))
    for name, values in ENUMS.items():
        compare(f"enum {name}", header.enums.get(name), values)

    compare("opaque types", sorted(header.opaque), ["ycm_cancel", "ycm_client", "ycm_plan"])

    constants = {k: v for k, v in header.macros.items() if k not in OTHER_MACROS}
    enum_members = {k for values in ENUMS.values() for k in values}
    python_constants = {
        k: str(v) for k, v in vars(_ffi).items() if k.startswith("YCM_") and k not in enum_members
    }
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


def test_every_code_has_its_exception_class_and_the_library_s_name(header_text: str) -> None:
    # ENUMS above compares ycm.Code with the header's enum ycm_code both ways; here every code
    # but YCM_OK has its own exception class, and the library names each code as the header.
    from ycm._errors import ERROR_CLASSES

    header_codes = parse_header(header_text).enums["ycm_code"]
    failures = [c for c in ycm.Code if c is not ycm.Code.OK]
    assert list(ERROR_CLASSES) == failures
    assert len(set(ERROR_CLASSES.values())) == len(failures)
    for code, cls in ERROR_CLASSES.items():
        assert issubclass(cls, ycm.YcmError) and cls.__doc__, code
    assert {c.c_name: int(c) for c in ycm.Code} == header_codes


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
    ("a cancel parameter", "const struct ycm_cancel *cancel);", "struct ycm_cancel *cancel, int32_t flags);"),
    ("a new code after cancelled", "YCM_ERR_CANCELLED = 30,", "YCM_ERR_CANCELLED = 30,\n  YCM_ERR_PAUSED = 31,"),
    ("a log level value", "YCM_LOG_TRACE = 5", "YCM_LOG_TRACE = 6"),
    ("a log record field type", "uint64_t elapsed_ms;", "uint32_t elapsed_ms;"),
    ("a new log record field", "const char *request_id;\n} ycm_log_record;", "const char *request_id;\n  uint32_t retry_wait_ms;\n} ycm_log_record;"),
    ("a callback parameter", "(const struct ycm_log_record *record, void *user_data);", "(const struct ycm_log_record *record, void *user_data, int32_t x);"),
    ("a callback return type", "typedef void (*ycm_log_fn)", "typedef int32_t (*ycm_log_fn)"),
    ("a log callback argument", "enum ycm_log_level min_level,", "uint32_t min_level,"),
    ("a sync event field type", "int64_t user_id;", "int32_t user_id;"),
    ("a new sync event field", "const char *row_json;\n} ycm_sync_event;", "const char *row_json;\n  uint64_t extra;\n} ycm_sync_event;"),
    ("a sync callback return type", "typedef int (*ycm_sync_event_fn)", "typedef int64_t (*ycm_sync_event_fn)"),
    ("a control value", "YCM_ABORT = 1,", "YCM_ABORT = 2,"),
    ("a sync event kind", "YCM_SYNC_STOPPING = 3,", "YCM_SYNC_STOPPING = 4,"),
    ("a sync plan parameter", "const char *format,\n                                const struct ycm_cancel *cancel,", "int32_t format,\n                                const struct ycm_cancel *cancel,"),
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
