"""Updates are sent as UTF-8: the 64 KiB body limit counts the same bytes in Python as in C
(and Rust, behind the C ABI), so non-ASCII text is not inflated by ``\\u`` escapes; a str
holding a lone surrogate (it has no UTF-8 form) is refused as ``InvalidUtf8Error`` naming
the field, with nothing sent."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

import ycm
from ycm import _ffi
from conftest import TOKEN, Mock

LIMIT = 65536
EMOJI = "\U0001f600"  # 4 bytes of UTF-8, 12 bytes as a JSON \u escape pair


def remark_body(size: int) -> Dict[str, str]:
    """``{"remark": ...}`` whose compact JSON is exactly ``size`` bytes of UTF-8, mostly emoji."""
    frame = len(b'{"remark":""}')
    emoji, pad = divmod(size - frame, len(EMOJI.encode("utf-8")))
    body = {"remark": EMOJI * emoji + "x" * pad}
    wire = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert len(wire) == size
    return body


def c_verdict(body: Dict[str, Any]) -> "tuple[int, str]":
    """What the C ABI says of the same body as UTF-8 JSON text."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    status = _ffi.lib.ycm_validate_user_update(text)
    return status.code, status.message.decode("utf-8")


def test_5500_emoji_are_accepted_and_stored(mock: Mock) -> None:
    remark = EMOJI * 5500  # 22,000 bytes of UTF-8; was refused as "66014 bytes"
    ycm.validate_user_update(remark=remark)
    with ycm.Client(mock.url, TOKEN) as client:
        client.update_user(13329, remark=remark)
        assert client.get_user(13329).remark == remark
    assert mock.user(13329)["remark"] == remark


def test_a_body_at_the_limit_is_accepted_everywhere(mock: Mock) -> None:
    body = remark_body(LIMIT)
    assert c_verdict(body) == (0, "")
    ycm.validate_user_update(body)
    with ycm.Client(mock.url, TOKEN) as client:
        result = client.update_user(13329, body)
    assert result.http_status == 200
    assert mock.user(13329)["remark"] == body["remark"]
    # Sent as UTF-8 on the wire, not as \u escapes.
    logged = [entry for entry in mock.log() if entry["method"] == "PUT"]
    assert len(logged) == 1 and EMOJI in logged[0]["body"]


def test_a_body_one_byte_over_the_limit_is_refused_like_c(mock: Mock) -> None:
    body = remark_body(LIMIT + 1)
    code, message = c_verdict(body)
    assert code == ycm.Code.INVALID_BODY
    assert f"{LIMIT + 1} bytes" in message
    with pytest.raises(ycm.InvalidBodyError) as offline:
        ycm.validate_user_update(body)
    assert offline.value.message == message
    with ycm.Client(mock.url, TOKEN) as client:
        with pytest.raises(ycm.InvalidBodyError) as sent:
            client.update_user(13329, body)
    assert sent.value.message == message and sent.value.attempts == 0
    client.close()
    assert mock.requests() == 0


@pytest.mark.parametrize(
    "fields,keywords,field",
    [
        ({"remark": "ab\ud800"}, {}, "remark"),
        ({}, {"first_name": "\udcff"}, "firstName"),
        ({"company": "ok", "lastName": "x\udfff\ud800y"}, {}, "lastName"),
        ({"company": ["\ud800"]}, {}, "company"),  # even where the type is wrong anyway
        ({"re\ud800mark": "x"}, {}, "re\\ud800mark"),
    ],
    ids=["mapping", "keyword", "second field", "nested", "field name"],
)
def test_a_lone_surrogate_is_invalid_utf8_naming_the_field(
    mock: Mock, fields: Dict[str, Any], keywords: Dict[str, Any], field: str
) -> None:
    client = ycm.Client(mock.url, TOKEN)
    for call in (
        lambda: ycm.validate_user_update(fields, **keywords),
        lambda: client.update_user(13329, fields, **keywords),
    ):
        with pytest.raises(ycm.InvalidUtf8Error) as raised:
            call()
        error = raised.value
        assert isinstance(error, ValueError) and error.code is ycm.Code.INVALID_UTF8
        assert field in error.message and "surrogate" in error.message
        assert "JSON" not in error.message
        assert error.attempts == 0
    client.close()
    assert mock.requests() == 0
