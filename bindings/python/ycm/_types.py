"""Values returned to the caller: :class:`UpdateResult` (the outcome of an update),
:class:`User`, :class:`UserType` and :class:`UserPage` (the reads), and the
:data:`NO_LIMIT` sentinel for ``pbxCreationLimit``. Parsing of the library's JSON lives
here too: lenient where YCM may add things (unknown fields are ignored but kept in
``User.raw``, unknown user types become ``UserType.OTHER``), strict where a wrong value
would mislead (ids and counts must be integers).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Literal, Mapping, Optional, Tuple, Union


class _NoLimit(enum.Enum):
    NO_LIMIT = "no limit"

    def __repr__(self) -> str:
        return "ycm.NO_LIMIT"


NO_LIMIT: Final = _NoLimit.NO_LIMIT
"""``pbx_creation_limit=NO_LIMIT`` removes a reseller's PBX creation limit (sent as ``""``).
Reads report a reseller without a limit the same way."""

NoLimit = Literal[_NoLimit.NO_LIMIT]
"""The type of :data:`NO_LIMIT`."""


@dataclass(frozen=True)
class UpdateResult:
    """The outcome of a successful update.

    Attributes:
        request_id: the envelope's ``requestId``.
        status: the envelope's ``status``: always ``"Success"`` (failures raise).
        time: the envelope's ``time`` as an aware UTC datetime.
        timestamp: the envelope's ``time`` in Unix seconds.
        http_status: the HTTP status (200).
        attempts: HTTP requests made, retries and token requests included.
    """

    request_id: str
    status: str
    time: datetime
    timestamp: int
    http_status: int
    attempts: int


class UserType(str, enum.Enum):
    """The kind of a YCM account. Unknown types read as ``OTHER`` (see ``User.user_type_raw``)."""

    MY_COLLEAGUE = "My Colleague"
    RESELLER = "Reseller"
    HOSTING_USER = "Hosting User"
    OTHER = "Other"

    @classmethod
    def parse(cls, text: str) -> "UserType":
        """The type for a wire value; ``OTHER`` when this version does not know it."""
        for member in (cls.MY_COLLEAGUE, cls.RESELLER, cls.HOSTING_USER):
            if member.value == text:
                return member
        return cls.OTHER

    @classmethod
    def _missing_(cls, value: object) -> "UserType":
        return cls.OTHER


@dataclass(frozen=True)
class User:
    """A YCM user as the read endpoints describe it.

    ``pbx_creation_limit`` is an int, :data:`NO_LIMIT`, or None when the server does not
    report it; ``two_factor_authentication_enable`` (``"enable"``/``"disable"``) and
    ``created_reseller`` are None when not reported. ``raw`` holds the object as received.
    """

    user_id: int
    company: str
    first_name: str
    last_name: str
    email: str
    phone: str
    mobile: str
    address: str
    remark: str
    created_cloud_pbx: int
    user_type: UserType
    user_type_raw: str
    created_reseller: Optional[int] = None
    two_factor_authentication_enable: Optional[str] = None
    pbx_creation_limit: Union[int, NoLimit, None] = None
    raw: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )

    @property
    def is_reseller(self) -> bool:
        return self.user_type is UserType.RESELLER


@dataclass(frozen=True)
class UserPage:
    """One page of users (``GET /dm/open_api/v2/users``)."""

    page_size: int
    page_number: int
    total: int
    users: Tuple[User, ...]


class ParseError(Exception):
    """The library handed over JSON of an unexpected shape (becomes BadResponseError)."""


def _int(data: Mapping[str, Any], key: str, default: Optional[int] = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f'"{key}" must be an integer, got {value!r:.60}')
    return int(value)


def _opt_int(data: Mapping[str, Any], key: str) -> Optional[int]:
    if data.get(key) is None:
        return None
    return _int(data, key)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(f'"{key}" must be a string, got {value!r:.60}')
    return value


def _limit(value: Any) -> Union[int, NoLimit, None]:
    if value is None:
        return None
    if value == "":
        return NO_LIMIT
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ParseError(f'"pbxCreationLimit" must be an integer or "", got {value!r:.60}')


def parse_user(data: Any) -> User:
    """A :class:`User` from the ``data`` object of a read."""
    if not isinstance(data, dict):
        raise ParseError(f"a user must be a JSON object, got {type(data).__name__}")
    type_raw = _str(data, "userType")
    two_factor = data.get("twoFactorAuthenticationEnable")
    return User(
        user_id=_int(data, "userId"),
        company=_str(data, "company"),
        first_name=_str(data, "firstName"),
        last_name=_str(data, "lastName"),
        email=_str(data, "email"),
        phone=_str(data, "phone"),
        mobile=_str(data, "mobile"),
        address=_str(data, "address"),
        remark=_str(data, "remark"),
        created_cloud_pbx=_int(data, "createdCloudPbx", 0),
        user_type=UserType.parse(type_raw),
        user_type_raw=type_raw,
        created_reseller=_opt_int(data, "createdReseller"),
        two_factor_authentication_enable=two_factor if isinstance(two_factor, str) else None,
        pbx_creation_limit=_limit(data.get("pbxCreationLimit")),
        raw=MappingProxyType(data),
    )


def parse_page(data: Any) -> UserPage:
    """A :class:`UserPage` from the ``data`` object of a list call."""
    if not isinstance(data, dict):
        raise ParseError(f"a page must be a JSON object, got {type(data).__name__}")
    items = data.get("list") or []
    if not isinstance(items, list):
        raise ParseError('"list" must be an array')
    return UserPage(
        page_size=_int(data, "pageSize"),
        page_number=_int(data, "pageNumber"),
        total=_int(data, "total"),
        users=tuple(parse_user(item) for item in items),
    )
