"""CREDIT_PACKS: what the operator writes, read exactly; anything malformed refused by name."""
import json

import pytest

from server.domain.billing.base import as_decimal, minor_units
from server.domain.billing.packs import PacksError, load_packs


def write(tmp_path, items):
    path = tmp_path / "packs.json"
    path.write_text(json.dumps(items))
    return path


def test_packs_are_read_in_micro_credits_and_minor_units(tmp_path):
    packs = load_packs(write(tmp_path, [
        {"id": "a", "credits": 50, "price": 4000, "currency": "USD"},
        {"id": "b", "credits": "2.5", "price": 49900, "currency": "rub", "title": "Малый"}]))
    assert [(p.id, p.credits, p.price, p.currency, p.title) for p in packs.values()] == [
        ("a", 50_000_000, 4000, "usd", "50 credits"), ("b", 2_500_000, 49900, "rub", "Малый")]
    assert load_packs(None) == {}


@pytest.mark.parametrize("items, message", [
    ([], "non-empty JSON list"),
    ([{"id": "a", "credits": 1, "price": 1.5, "currency": "usd"}], "`price` must be a positive"),
    ([{"id": "a", "credits": 0, "price": 1, "currency": "usd"}], "`credits` must be positive"),
    ([{"id": "a", "credits": "0.0000001", "price": 1, "currency": "usd"}], "at most 6 decimals"),
    ([{"id": "a", "credits": 1, "price": 1, "currency": "dollars"}], "three-letter code"),
    ([{"credits": 1, "price": 1, "currency": "usd"}], "`id` must be a string"),
    ([{"id": "a", "credits": 1, "price": 1, "currency": "usd"}] * 2, "listed twice"),
])
def test_a_malformed_pack_is_refused_by_name(tmp_path, items, message):
    with pytest.raises(PacksError, match=message):
        load_packs(write(tmp_path, items))


def test_amounts_cross_in_minor_units_exactly():
    assert minor_units("499.00") == 49900 and minor_units("499") == 49900
    assert minor_units("0.5") == 50 and as_decimal(49900) == "499.00" and as_decimal(5) == "0.05"
    for bad in ("-1.00", "1.005", "1e3", ""):
        with pytest.raises(ValueError):
            minor_units(bad)
