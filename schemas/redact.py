"""Credentials out of URLs before they are shown or logged: the one redaction of the house.

A store, index or broker URL may carry its keys (`minio://KEY:SECRET@host/bucket`,
`redis://:password@host`). Whatever prints or logs such a URL, or a message that may hold one,
passes it through here first; only `scripts/services.sh up`, whose output is meant for `eval`,
prints the keys.
"""

from __future__ import annotations

import re

HIDDEN = "***"
# The userinfo of a URL: `user:password@` or a bare `token@` right after the scheme.
_USERINFO = re.compile(r"(?<=://)(?P<user>[^/@\s:]*)(?P<secret>:[^/@\s]*)?@")


def _hide(match: re.Match[str]) -> str:
    if match.group("secret") is None:  # a bare token before "@" is itself the secret
        return f"{HIDDEN}@"
    return f"{match.group('user')}:{HIDDEN}@"


def redact_url(text: str) -> str:
    """`text` (a URL, or a message holding URLs) with every password or token replaced by ***.

    >>> redact_url("minio://sohoa:sohoa-secret-key@127.0.0.1:9000/sohoa")
    'minio://sohoa:***@127.0.0.1:9000/sohoa'
    >>> redact_url("cannot reach redis://:pw@host:6379/0 now")
    'cannot reach redis://:***@host:6379/0 now'
    >>> redact_url("/var/lib/sohoa/store")
    '/var/lib/sohoa/store'
    """
    return _USERINFO.sub(_hide, text)
