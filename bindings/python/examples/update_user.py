"""Updates the company of a YCM user, then reads the user back.

Usage: python update_user.py BASE_URL ACCESS_TOKEN USER_ID COMPANY

Against ycm-mock: python update_user.py http://127.0.0.1:PORT ycm-mock-token 13329 "New Company Name"
"""

from __future__ import annotations

import sys

import ycm

USAGE = "usage: python update_user.py BASE_URL ACCESS_TOKEN USER_ID COMPANY"


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(USAGE, file=sys.stderr)
        return 2
    base_url, token, user_id, company = argv[1], argv[2], argv[3], argv[4]
    # ANCHOR: update
    try:
        with ycm.Client(base_url, token) as client:
            result = client.update_user(int(user_id), company=company)
            print(
                f"updated user {user_id}: status {result.status}, requestId {result.request_id}, "
                f"time {result.time.isoformat()}, HTTP {result.http_status}, "
                f"attempts {result.attempts}"
            )
            user = client.get_user(int(user_id))
            print(
                f"read back: {user.first_name} {user.last_name} <{user.email}>, "
                f"company {user.company!r}, type {user.user_type.value}, "
                f"{user.created_cloud_pbx} Cloud PBX(s)"
            )
    except ycm.YcmError as error:
        print(f"ycm {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    # ANCHOR_END: update
    except ValueError:
        print(f"USER_ID must be an integer, got {user_id!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
