"""Build the configured providers. A provider exists only when it has what it needs (a key, or a
base URL for keyless OpenAI-compatible servers); `echo` always exists."""
from __future__ import annotations

from dataclasses import dataclass

from .base import Provider
from .echo import EchoProvider

YANDEX_BASE_URL = "https://llm.api.cloud.yandex.net/v1"


@dataclass(frozen=True)
class ProviderSettings:
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    google_api_key: str | None = None
    google_base_url: str | None = None
    yandex_api_key: str | None = None
    yandex_folder_id: str | None = None
    yandex_base_url: str | None = None
    echo_tokens_per_second: float = 30.0
    connect_timeout_s: float = 10.0
    first_token_timeout_s: float = 60.0
    idle_timeout_s: float = 60.0
    max_retries: int = 2


def build_providers(s: ProviderSettings) -> dict[str, Provider]:
    providers: dict[str, Provider] = {"echo": EchoProvider(s.echo_tokens_per_second)}
    timeouts = {"connect_timeout": s.connect_timeout_s, "idle_timeout": s.idle_timeout_s}
    if s.openai_api_key or s.openai_base_url:
        from .openai_chat import OpenAIChatProvider

        # Local OpenAI-compatible servers (Ollama, vLLM) take any key.
        providers["openai"] = OpenAIChatProvider("openai", s.openai_api_key or "unused",
                                                 s.openai_base_url, max_retries=s.max_retries,
                                                 **timeouts)
    if s.anthropic_api_key:
        from .anthropic_messages import AnthropicProvider

        providers["anthropic"] = AnthropicProvider(s.anthropic_api_key, s.anthropic_base_url,
                                                   max_retries=s.max_retries, **timeouts)
    if s.google_api_key:
        from .gemini import GeminiProvider

        providers["gemini"] = GeminiProvider(s.google_api_key, s.google_base_url,
                                             max_retries=s.max_retries, **timeouts)
    if s.yandex_api_key and s.yandex_folder_id:
        from .openai_chat import OpenAIChatProvider

        # YandexGPT's OpenAI-compatible API names models gpt://<folder>/<model>.
        providers["yandex"] = OpenAIChatProvider(
            "yandex", s.yandex_api_key, s.yandex_base_url or YANDEX_BASE_URL,
            model_prefix=f"gpt://{s.yandex_folder_id}/", max_retries=s.max_retries,
            headers={"x-folder-id": s.yandex_folder_id}, **timeouts)
    return providers
