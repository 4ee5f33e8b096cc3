"""Reserving and settling characters against the monthly caps.

Every change to a counter is one conditional UPDATE (``... WHERE used + n <= cap``), never a read followed by a
write, so any number of concurrent prompts can never push a month past its cap. Reads are used only to size a
request; the UPDATE decides. A reservation is taken before the model is called (prompt + the answer's maximum)
and settled to the real count afterwards; whatever happens in between, the caller settles or releases it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from usage.models import UsageSettings

TOKYO = ZoneInfo("Asia/Tokyo")
MIN_ANSWER_CHARS = 200  # below this headroom an answer would be cut to uselessness: refuse instead
YEN_PLACES = Decimal("0.0001")


def cost_of(chars: int, price_per_1k_chars_yen: float | Decimal) -> Decimal:
    """The price of ``chars`` characters at the catalogue's price; the one formula for reserving and recording."""
    price = Decimal(str(price_per_1k_chars_yen))
    return (Decimal(chars) * price / 1000).quantize(YEN_PLACES, rounding=ROUND_HALF_UP)


class QuotaExceeded(Exception):
    def __init__(self, message: str, *, scope: str, cap: int):
        super().__init__(message)
        self.user_message = message
        self.scope = scope
        self.cap = cap


@dataclass
class Reservation:
    tenant_id: int
    user_id: int
    month: dt.date
    chars: int  # reserved in total: prompt + room for the answer
    prompt_chars: int
    price_per_1k_chars_yen: Decimal = field(default=Decimal(0))

    @property
    def cost_yen(self) -> Decimal:
        return cost_of(self.chars, self.price_per_1k_chars_yen)

    @property
    def answer_limit(self) -> int:
        return max(self.chars - self.prompt_chars, 0)


def current_month(now: dt.datetime | None = None) -> dt.date:
    """The first day of the current month in Asia/Tokyo: a new month starts at zero at midnight JST."""
    local = (now or timezone.now()).astimezone(TOKYO)
    return local.date().replace(day=1)


def tenant_cap_message(cap: int) -> str:
    return (
        f"今月の利用上限（{cap:,}文字）に達したため、新しい依頼を受け付けられません。"
        "上限の引き上げは、所属団体の管理者を通じて県の運営担当にご相談ください。"
    )


def price_cap_message(cap: int) -> str:
    return (
        f"今月の利用料金の上限（{cap:,}円）に達したため、新しい依頼を受け付けられません。"
        "上限の引き上げは、所属団体の管理者を通じて県の運営担当にご相談ください。"
    )


def user_cap_message(limit: int) -> str:
    return (
        f"あなたの今月の利用上限（{limit:,}文字）に達したため、新しい依頼を受け付けられません。"
        "必要な場合は所属団体の管理者にご相談ください。"
    )


def _ensure_rows(tenant_id: int, user_id: int, month: dt.date) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO public.tenants_monthlyusage (tenant_id, month, used_chars, cost_yen, prompts, updated_at) "
            "VALUES (%s, %s, 0, 0, 0, now()) ON CONFLICT (tenant_id, month) DO NOTHING",
            [tenant_id, month],
        )
        cursor.execute(
            "INSERT INTO usage_usermonthlyusage (user_id, month, used_chars, prompts) "
            "VALUES (%s, %s, 0, 0) ON CONFLICT (user_id, month) DO NOTHING",
            [user_id, month],
        )


@dataclass
class _TenantRoom:
    char_cap: int
    char_room: int
    price_cap: int | None
    price_room: Decimal | None  # None: no price cap


def _tenant_headroom(tenant_id: int, month: dt.date) -> _TenantRoom:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.monthly_char_cap, COALESCE(q.used_chars, 0), t.monthly_price_cap_yen, COALESCE(q.cost_yen, 0) "
            "FROM public.tenants_tenant t "
            "LEFT JOIN public.tenants_monthlyusage q ON q.tenant_id = t.id AND q.month = %s WHERE t.id = %s",
            [month, tenant_id],
        )
        cap, used, price_cap, cost = cursor.fetchone()
    price_room = None if price_cap is None else max(Decimal(price_cap) - cost, Decimal(0))
    return _TenantRoom(char_cap=cap, char_room=max(cap - used, 0), price_cap=price_cap, price_room=price_room)


def _chars_affordable(price_room: Decimal | None, price: Decimal) -> int | None:
    """How many characters the remaining yen buy at ``price`` per 1,000 (None: no limit from the price)."""
    if price_room is None or price <= 0:
        return None
    chars = int(price_room * 1000 / price)
    # Rounding of cost_of may make the last character cost a fraction more: step back until it fits.
    while chars > 0 and cost_of(chars, price) > price_room:
        chars -= 1
    return chars


def _user_used(user_id: int, month: dt.date) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT used_chars FROM usage_usermonthlyusage WHERE user_id = %s AND month = %s", [user_id, month]
        )
        row = cursor.fetchone()
    return row[0] if row else 0


def _add_tenant(tenant_id: int, month: dt.date, chars: int, cost: Decimal) -> bool:
    # Both caps are read inside the same UPDATE, so a cap raised by the operator a moment ago already counts
    # and concurrent prompts can pass neither the character cap nor the price cap.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE public.tenants_monthlyusage q SET used_chars = q.used_chars + %s, cost_yen = q.cost_yen + %s, "
            "updated_at = now() "
            "FROM public.tenants_tenant t WHERE t.id = q.tenant_id AND q.tenant_id = %s AND q.month = %s "
            "AND q.used_chars + %s <= t.monthly_char_cap "
            "AND (t.monthly_price_cap_yen IS NULL OR q.cost_yen + %s <= t.monthly_price_cap_yen)",
            [chars, cost, tenant_id, month, chars, cost],
        )
        return cursor.rowcount == 1


def _add_user(user_id: int, month: dt.date, chars: int, limit: int | None) -> bool:
    with connection.cursor() as cursor:
        if limit is None:
            cursor.execute(
                "UPDATE usage_usermonthlyusage SET used_chars = used_chars + %s WHERE user_id = %s AND month = %s",
                [chars, user_id, month],
            )
        else:
            cursor.execute(
                "UPDATE usage_usermonthlyusage SET used_chars = used_chars + %s "
                "WHERE user_id = %s AND month = %s AND used_chars + %s <= %s",
                [chars, user_id, month, chars, limit],
            )
        return cursor.rowcount == 1


def reserve(
    *, tenant_id: int, user_id: int, prompt_chars: int, max_answer_chars: int,
    price_per_1k_chars_yen: float | Decimal = 0,
) -> Reservation:
    """Reserve prompt + answer maximum, shrinking the answer's room near a cap; raise QuotaExceeded if none left.

    The reservation counts against the character cap and, at the model's price, against the price cap.
    """
    month = current_month()
    price = Decimal(str(price_per_1k_chars_yen))
    _ensure_rows(tenant_id, user_id, month)
    limit = UsageSettings.load().per_user_monthly_limit
    minimum = prompt_chars + min(MIN_ANSWER_CHARS, max_answer_chars)
    for _attempt in range(5):
        tenant = _tenant_headroom(tenant_id, month)
        affordable = _chars_affordable(tenant.price_room, price)
        user_room = None if limit is None else max(limit - _user_used(user_id, month), 0)
        rooms = {"tenant": tenant.char_room}
        if affordable is not None:
            rooms["price"] = affordable
        if user_room is not None:
            rooms["user"] = user_room
        scope = min(rooms, key=lambda name: (rooms[name], name != "user"))
        want = min(prompt_chars + max_answer_chars, rooms[scope])
        if want < minimum:
            raise _exceeded(scope, tenant, limit)
        if not _add_user(user_id, month, want, limit):
            continue  # another prompt of this user took the room first: size again
        if _add_tenant(tenant_id, month, want, cost_of(want, price)):
            return Reservation(tenant_id=tenant_id, user_id=user_id, month=month, chars=want,
                               prompt_chars=prompt_chars, price_per_1k_chars_yen=price)
        _add_user(user_id, month, -want, None)
    tenant = _tenant_headroom(tenant_id, month)
    affordable = _chars_affordable(tenant.price_room, price)
    return_scope = "price" if affordable is not None and affordable < tenant.char_room else "tenant"
    raise _exceeded(return_scope, tenant, limit)


def _exceeded(scope: str, tenant: _TenantRoom, user_limit: int | None) -> QuotaExceeded:
    if scope == "user":
        return QuotaExceeded(user_cap_message(user_limit), scope="user", cap=user_limit)
    if scope == "price":
        return QuotaExceeded(price_cap_message(tenant.price_cap), scope="price", cap=tenant.price_cap)
    return QuotaExceeded(tenant_cap_message(tenant.char_cap), scope="tenant", cap=tenant.char_cap)


def settle(reservation: Reservation, *, used_chars: int, count_prompt: bool = True) -> None:
    """Replace the reservation by what was really used (never more than was reserved)."""
    used = max(0, min(used_chars, reservation.chars))
    delta = used - reservation.chars
    cost_delta = cost_of(used, reservation.price_per_1k_chars_yen) - reservation.cost_yen
    prompts = 1 if count_prompt and used > 0 else 0
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE public.tenants_monthlyusage SET used_chars = GREATEST(used_chars + %s, 0), "
            "cost_yen = GREATEST(cost_yen + %s, 0), prompts = prompts + %s, updated_at = now() "
            "WHERE tenant_id = %s AND month = %s",
            [delta, cost_delta, prompts, reservation.tenant_id, reservation.month],
        )
        cursor.execute(
            "UPDATE usage_usermonthlyusage SET used_chars = GREATEST(used_chars + %s, 0), prompts = prompts + %s "
            "WHERE user_id = %s AND month = %s",
            [delta, prompts, reservation.user_id, reservation.month],
        )


def release(reservation: Reservation) -> None:
    settle(reservation, used_chars=0, count_prompt=False)
