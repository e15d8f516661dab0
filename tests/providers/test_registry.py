"""The model registry's prices: each part of a reply's usage at its own price, rounded up once."""
import pytest

from providers.registry import Model, RegistryError, load


def model(**prices):
    return Model(id="m", provider="openai", upstream="m", input_price=prices.pop("input", 1_000_000),
                 output_price=prices.pop("output", 4_000_000), context_window=1000,
                 max_output_tokens=100, **prices)


def test_cache_reads_and_writes_cost_their_own_prices_and_default_to_the_input_price():
    priced = model(cached_input_price=100_000, cache_write_price=1_250_000)
    # 50 uncached × 1,000,000 + 40 read × 100,000 + 10 written × 1,250,000 + 3 × 4,000,000
    assert priced.cost(100, 3, cached_tokens=40, cache_write_tokens=10) == 79
    plain = model()
    assert plain.cost(100, 3, cached_tokens=40, cache_write_tokens=10) == plain.cost(100, 3) == 112


def test_a_vendor_overstating_its_cached_part_is_never_charged_below_zero_or_twice():
    priced = model(cached_input_price=100_000)
    assert priced.cost(10, 0, cached_tokens=50) == 1  # all ten as cached reads, not fifty
    assert priced.cost(1, 0) == 1  # a fraction of a micro-credit rounds up


def test_the_hold_covers_the_dearest_way_the_prompt_can_be_billed():
    writes_dearer = model(cached_input_price=100_000, cache_write_price=1_250_000)
    assert writes_dearer.worst_cost(100, 10) == 125 + 40
    assert model().worst_cost(100, 10) == model().cost(100, 10)


def test_the_shipped_registry_loads_with_cache_prices_where_vendors_have_them():
    models = load()
    assert models["claude-3-5-haiku"].cache_write_price == 1_000_000
    assert models["gpt-4o-mini"].cached_input_price == 75_000
    assert models["echo"].cached_input_price is None


def test_a_negative_or_fractional_cache_price_is_refused(tmp_path):
    bad = tmp_path / "models.json"
    bad.write_text('[{"id": "x", "provider": "openai", "upstream": "x", "input_price": 1, '
                   '"output_price": 1, "context_window": 10, "max_output_tokens": 1, '
                   '"cached_input_price": -5}]')
    with pytest.raises(RegistryError, match="whole numbers"):
        load(bad)
    bad.write_text(bad.read_text().replace("-5", "0.5"))
    with pytest.raises(RegistryError, match="whole numbers"):
        load(bad)
