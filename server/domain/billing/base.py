"""What every payment provider gives the billing service: a hosted checkout for an order, the
facts of a payment asked of its API, and its webhooks turned into verified notices.

Chatwire never sees card data: a checkout is a URL on the provider's site. A notice carries only
what the provider vouched for (a signature checked, or an answer fetched from its API).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from protocol.errors import BadRequest, Unavailable

ORDER_KEY = "chatwire_order_id"  # the metadata key carrying our order id through the provider


class BadSignature(BadRequest):
    """A webhook whose signature (or origin) does not check out: 400, nothing written."""


class RetryLater(Unavailable):
    """A webhook we cannot settle yet (its order is not visible): 503, so the provider retries."""


@dataclass(frozen=True)
class Created:
    payment_id: str  # the provider's id for what the user pays (Stripe session, YooKassa payment)
    url: str  # where the user is sent to pay


@dataclass(frozen=True)
class Payment:
    """A payment's state as the provider reports it."""
    order_id: str | None
    payment_id: str
    status: str  # "paid" | "pending" | "failed"
    amount: int = 0  # minor units (cents, kopecks)
    currency: str = ""
    charge_ref: str | None = None  # what refunds and disputes name (Stripe's payment intent)
    receipt_url: str | None = None


@dataclass(frozen=True)
class Reversal:
    """A refund or a dispute: `amount` minor units of the payment `charge_ref` taken back."""
    charge_ref: str
    amount: int
    reason: str  # "refund" | "dispute"


@dataclass(frozen=True)
class Notice:
    """A verified webhook: a payment's new state, a reversal, or nothing of ours (`ignored`)."""
    event_id: str
    payment: Payment | None = None
    reversal: Reversal | None = None

    @property
    def ignored(self) -> bool:
        return self.payment is None and self.reversal is None


@dataclass(frozen=True)
class OrderRef:
    """What a provider needs of an order to open its checkout."""
    id: str
    amount: int
    currency: str
    credits: int
    title: str


class PaymentProvider(Protocol):
    name: str
    currencies: tuple[str, ...]

    async def create(self, order: OrderRef, return_url: str) -> Created:
        """Open a hosted checkout (idempotent on the order id); ProviderUnavailable when down."""

    async def lookup(self, order: Mapping[str, Any]) -> Payment | None:
        """The payment of a stored order as the provider sees it now (None: it has none)."""

    async def notice(self, raw: bytes, headers: Mapping[str, str], peer: str | None) -> Notice:
        """Verify a webhook and say what it means; BadSignature when it is not the provider's."""

    async def aclose(self) -> None: ...


def minor_units(value: str) -> int:
    """'500.00' → 50000, exactly (YooKassa states amounts as decimals; the SDK as Decimal)."""
    whole, _, frac = value.strip().partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 2:
        raise ValueError(f"not an amount: {value!r}")
    return int(whole) * 100 + int((frac + "00")[:2])


def as_decimal(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"
