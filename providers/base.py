"""One streaming interface for every model provider.

`Provider.stream()` yields text deltas (`str`) and then exactly one `StreamEnd` with the usage the
provider reported and why it stopped. Failures are raised as the protocol's typed errors, classified
once per provider: `provider_error` (the request or the answer is wrong), `provider_unavailable`
(cannot reach it, it is down, it timed out), `rate_limited` (the vendor's limit).
"""
from __future__ import annotations

import abc
import base64
from dataclasses import dataclass, field
from typing import AsyncIterator

from protocol.errors import ProviderError, ProviderUnavailable, RateLimited


@dataclass(frozen=True)
class ImageData:
    mime: str  # image/png, image/jpeg, image/gif or image/webp (checked at upload)
    data: bytes

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "user" | "assistant"
    content: str
    images: tuple[ImageData, ...] = ()
    documents: tuple[tuple[str, str], ...] = ()  # (file name, extracted text)

    @property
    def text(self) -> str:
        """What the model reads: the attached documents first, then the message itself."""
        if not self.documents:
            return self.content
        quoted = [f'<document name="{name}">\n{text}\n</document>' for name, text in self.documents]
        return "\n\n".join([*quoted, self.content])


@dataclass(frozen=True)
class GenerationRequest:
    model: str  # the provider's own (upstream) model name
    messages: list[ChatMessage]
    system: str | None = None
    max_tokens: int = 1024
    # Sampling, as an API caller sets it (`/v1/chat/completions`); None/empty: the vendor's own.
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()

    def sampling(self) -> dict[str, object]:
        """The sampling fields that were set, by their OpenAI names."""
        fields: dict[str, object] = {}
        if self.temperature is not None:
            fields["temperature"] = self.temperature
        if self.top_p is not None:
            fields["top_p"] = self.top_p
        if self.stop:
            fields["stop"] = list(self.stop)
        return fields


@dataclass(frozen=True)
class Usage:
    """What a reply used, as the vendor counts it — totals, and the parts priced apart.

    `prompt_tokens` is every input token (cached or not) and `completion_tokens` every output
    token (reasoning and thinking included: the vendors bill them as output). `cached_tokens`
    (read from the vendor's prompt cache) and `cache_write_tokens` (written to it) are parts of
    the prompt; `reasoning_tokens` a part of the completion, reported, never added again.
    `estimated` names the figures we estimated because the vendor never said them.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: tuple[str, ...] = ()

    def breakdown(self) -> dict[str, object]:
        """The figures as `message.done` / `message.stopped` carry them."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cached_tokens": self.cached_tokens, "cache_write_tokens": self.cache_write_tokens,
                "reasoning_tokens": self.reasoning_tokens, "estimated": list(self.estimated)}


@dataclass(frozen=True)
class StreamEnd:
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"


StreamItem = str | Usage | StreamEnd  # a `Usage` mid-stream: the vendor's counts so far


class Provider(abc.ABC):
    name: str

    @abc.abstractmethod
    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamItem]:
        """Text deltas, then one StreamEnd. Raise typed errors, never vendor exceptions.

        A provider whose vendor reports counts before the end (Anthropic's prompt count at the
        start, Gemini's on every chunk) yields them as `Usage` items as they come, so a reply
        stopped midway is priced with the vendor's figures, not our estimate."""

    async def aclose(self) -> None:
        pass


def error_for_status(provider: str, status: int, detail: str = "",
                     retry_after: int | None = None) -> Exception:
    """Map a vendor's HTTP status to our error, the same way for every provider."""
    detail = f": {detail}" if detail else ""
    if status == 429:
        return RateLimited(f"{provider} is rate limiting requests{detail}",
                           retry_after=retry_after or 10)
    if status in (408, 529) or status >= 500:
        return ProviderUnavailable(f"{provider} is unavailable (HTTP {status}){detail}")
    if status in (401, 403):
        return ProviderError(f"{provider} rejected the credentials (HTTP {status})")
    return ProviderError(f"{provider} refused the request (HTTP {status}){detail}")


def unreachable(provider: str, what: str = "could not be reached") -> ProviderUnavailable:
    return ProviderUnavailable(f"{provider} {what}")


def malformed(provider: str, what: str) -> ProviderError:
    return ProviderError(f"{provider} sent a malformed stream: {what}")
