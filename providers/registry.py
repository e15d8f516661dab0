"""The model registry: which models exist, who serves them, what they cost.

Prices are integers: micro-credits per million tokens (1 credit = 1,000,000 micro-credits). The
shipped list is `providers/models.json`; `MODELS_FILE` points at a replacement.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

DEFAULT_FILE = Path(__file__).resolve().parent / "models.json"
PROVIDERS = ("echo", "openai", "anthropic", "gemini", "yandex")
REQUIRED = ("id", "provider", "upstream", "input_price", "output_price", "context_window",
            "max_output_tokens")


@dataclass(frozen=True)
class Model:
    id: str
    provider: str
    upstream: str
    input_price: int  # micro-credits per 1,000,000 prompt tokens
    output_price: int  # micro-credits per 1,000,000 completion tokens
    context_window: int
    max_output_tokens: int
    vision: bool = False
    name: str = ""
    cached_input_price: int | None = None  # prompt tokens read from the vendor's cache
    cache_write_price: int | None = None  # prompt tokens written to it (Anthropic: 1.25×)

    def cost(self, prompt_tokens: int, completion_tokens: int, *, cached_tokens: int = 0,
             cache_write_tokens: int = 0) -> int:
        """Micro-credits for this usage, each part at its own price (cache reads and writes at
        theirs, the input price when the registry names none), rounded up once, in total."""
        cached = min(cached_tokens, prompt_tokens)
        written = min(cache_write_tokens, prompt_tokens - cached)
        total = ((prompt_tokens - cached - written) * self.input_price
                 + cached * _or(self.cached_input_price, self.input_price)
                 + written * _or(self.cache_write_price, self.input_price)
                 + completion_tokens * self.output_price)
        return -(-total // 1_000_000)

    def worst_cost(self, prompt_tokens: int, completion_tokens: int) -> int:
        """The most this usage can cost, whatever part of the prompt the vendor caches."""
        dearest = max(self.input_price, _or(self.cached_input_price, 0),
                      _or(self.cache_write_price, 0))
        return -(-(prompt_tokens * dearest + completion_tokens * self.output_price) // 1_000_000)

    def public(self) -> dict:
        return asdict(self)


def _or(price: int | None, default: int) -> int:
    return default if price is None else price


class RegistryError(Exception):
    pass


def load(path: Path | None = None) -> dict[str, Model]:
    source = path or DEFAULT_FILE
    try:
        entries = orjson.loads(source.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise RegistryError(f"cannot read the model registry {source}: {exc}") from None
    if not isinstance(entries, list):
        raise RegistryError(f"{source}: expected a JSON list of models")
    models: dict[str, Model] = {}
    for entry in entries:
        missing = [k for k in REQUIRED if not isinstance(entry, dict) or k not in entry]
        if missing:
            raise RegistryError(f"{source}: a model lacks {', '.join(missing)}: {entry!r}")
        model = Model(**{k: entry[k] for k in Model.__dataclass_fields__ if k in entry})
        if model.provider not in PROVIDERS:
            raise RegistryError(f"{source}: model {model.id} names unknown provider {model.provider}")
        ints = (model.input_price, model.output_price, model.context_window, model.max_output_tokens,
                *(p for p in (model.cached_input_price, model.cache_write_price) if p is not None))
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ints):
            raise RegistryError(f"{source}: model {model.id}: prices and sizes must be whole numbers")
        models[model.id] = model
    return models
