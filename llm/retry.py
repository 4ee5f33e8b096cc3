"""How long to wait before retrying a request that failed before its first token."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from llm.config import ProviderOptions


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's requested wait from ``retry-after-ms`` (Azure, OpenAI) or ``Retry-After`` (seconds or a
    date), or None when the response carries neither."""
    response: Any = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    if milliseconds := headers.get("retry-after-ms"):
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_delay(exc: BaseException, attempt: int, options: ProviderOptions) -> float | None:
    """Seconds to sleep before attempt ``attempt + 1``, or None to give up now.

    Retry-After wins when present (the server knows its own load) unless it asks for longer than
    ``retry_after_max``: then waiting would just hold staff in front of a spinner, so we fail at once with
    the "busy" message. Otherwise exponential backoff with jitter, so that the many requests of a busy morning
    that failed together do not come back together.
    """
    requested = retry_after_seconds(exc)
    if requested is not None:
        return requested if requested <= options.retry_after_max else None
    ceiling = min(options.backoff_max, options.backoff_base * 2 ** (attempt - 1))
    return ceiling * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security
