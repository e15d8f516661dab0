"""Users top up their own credits: credit packs, orders, hosted checkout with a payment provider
(Stripe, YooKassa), and their webhooks credited exactly once (docs/PAYMENTS.md)."""
from .packs import Pack, load_packs
from .service import Billing

__all__ = ["Billing", "Pack", "load_packs"]
