"""The OpenAI chat-completions request, read into what the generation core asks a model.

Accepted: `model`, `messages` (system/developer, user and assistant turns; text and, for vision
models, `image_url` parts carrying `data:` URLs — the server fetches nothing), `stream`,
`stream_options.include_usage`, `temperature`, `top_p`, `max_tokens` / `max_completion_tokens`,
`stop`, and `user` (ignored). Anything else — `n` > 1, tools, logprobs, response formats — is
refused with a `bad_request` naming the parameter (`field`), which the HTTP face sends as OpenAI's
`param`, so a caller learns at once what this server does not do rather than getting a subtly
different answer.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from protocol.errors import BadRequest
from providers.base import ChatMessage, ImageData

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_MESSAGES = 1000
MAX_STOPS = 4
# Parameters accepted only at the value that changes nothing.
NEUTRAL: dict[str, Any] = {"n": 1, "presence_penalty": 0, "frequency_penalty": 0,
                           "logprobs": False, "store": False, "parallel_tool_calls": True,
                           "response_format": dict(type="text")}
KNOWN = {"model", "messages", "stream", "stream_options", "temperature", "top_p", "max_tokens",
         "max_completion_tokens", "stop", "user", *NEUTRAL}


def unsupported(param: str, why: str = "is not supported by this server") -> BadRequest:
    return BadRequest(f"'{param}' {why}", field=param, openai_code="unsupported_parameter")


def invalid(param: str, why: str) -> BadRequest:
    return BadRequest(f"'{param}' {why}", field=param, openai_code="invalid_value")


@dataclass(frozen=True)
class Asked:
    """A chat-completions request, checked: everything but the model's own limits."""

    model: str
    messages: list[ChatMessage]
    system: str | None
    max_tokens: int | None
    temperature: float | None
    top_p: float | None
    stop: tuple[str, ...]
    stream: bool
    include_usage: bool

    @property
    def has_images(self) -> bool:
        return any(m.images for m in self.messages)


def parse(body: Any) -> Asked:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", openai_code="invalid_request")
    for name in body:
        if name not in KNOWN:
            raise unsupported(name)
    for name, neutral in NEUTRAL.items():
        if name in body and body[name] is not None and body[name] != neutral:
            raise unsupported(name, f"is supported only as {neutral!r}")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid("model", "is required: one of GET /v1/models")
    stream = _flag(body, "stream")
    options = body.get("stream_options")
    include_usage = False
    if options is not None:
        if not stream:
            raise invalid("stream_options", "is only allowed when 'stream' is true")
        if not isinstance(options, dict) or set(options) - {"include_usage"}:
            raise unsupported("stream_options", "takes only 'include_usage'")
        include_usage = _flag(options, "include_usage", "stream_options.include_usage")
    system, messages = _messages(body.get("messages"))
    return Asked(model=model.strip(), messages=messages, system=system,
                 max_tokens=_max_tokens(body), temperature=_number(body, "temperature", 0, 2),
                 top_p=_number(body, "top_p", 0, 1), stop=_stop(body.get("stop")),
                 stream=stream, include_usage=include_usage)


def _flag(body: dict[str, Any], name: str, param: str | None = None) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(param or name, "must be true or false")
    return value


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise invalid(name, f"must be a number from {low} to {high}")
    return float(value)


def _max_tokens(body: dict[str, Any]) -> int | None:
    given = [n for n in ("max_completion_tokens", "max_tokens") if body.get(n) is not None]
    if not given:
        return None
    name = given[0]
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(name, "must be a positive integer")
    return value


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if (not isinstance(stops, list) or not 1 <= len(stops) <= MAX_STOPS
            or not all(isinstance(s, str) and 0 < len(s) <= 200 for s in stops)):
        raise invalid("stop", f"must be a string or a list of 1 to {MAX_STOPS} non-empty strings")
    return tuple(stops)


def _messages(value: Any) -> tuple[str | None, list[ChatMessage]]:
    if not isinstance(value, list) or not value:
        raise invalid("messages", "must be a non-empty list")
    if len(value) > MAX_MESSAGES:
        raise invalid("messages", f"takes at most {MAX_MESSAGES} messages")
    system: list[str] = []
    turns: list[ChatMessage] = []
    for index, message in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise invalid(where, "must be an object with 'role' and 'content'")
        role = message.get("role")
        for name in message:
            if name not in ("role", "content", "name"):
                raise unsupported(f"{where}.{name}")
        if role in ("system", "developer"):
            text, images = _content(message.get("content"), where)
            if images:
                raise invalid(f"{where}.content", "of a system message must be text")
            system.append(text)
        elif role in ("user", "assistant"):
            text, images = _content(message.get("content"), where)
            if role == "assistant" and images:
                raise invalid(f"{where}.content", "of an assistant message must be text")
            turns.append(ChatMessage(role, text, tuple(images)))
        elif role in ("tool", "function"):
            raise unsupported(f"{where}.role", f"'{role}' is not supported by this server")
        else:
            raise invalid(f"{where}.role", "must be system, developer, user or assistant")
    if not turns:
        raise invalid("messages", "must hold at least one user message")
    return ("\n\n".join(s for s in system if s) or None), turns


def _content(value: Any, where: str) -> tuple[str, list[ImageData]]:
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list) or not value:
        raise invalid(f"{where}.content", "must be a string or a list of content parts")
    texts: list[str] = []
    images: list[ImageData] = []
    for index, part in enumerate(value):
        at = f"{where}.content[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            images.append(_image(part.get("image_url"), at))
        elif kind in ("input_audio", "file", "refusal"):
            raise unsupported(f"{at}.type", f"'{kind}' parts are not supported by this server")
        else:
            raise invalid(at, "must be a text or image_url part")
    return "\n".join(texts), images


def _image(value: Any, at: str) -> ImageData:
    url = value.get("url") if isinstance(value, dict) else None
    if not isinstance(url, str) or not url.startswith("data:"):
        raise invalid(f"{at}.image_url.url", "must be a data: URL (base64); this server "
                                             "fetches no remote images")
    head, _, data = url[5:].partition(",")
    mime, _, encoding = head.partition(";")
    if mime not in IMAGE_TYPES or encoding != "base64":
        raise invalid(f"{at}.image_url.url", f"must be base64 data of {', '.join(IMAGE_TYPES)}")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{at}.image_url.url", "is not valid base64") from None
    if not raw:
        raise invalid(f"{at}.image_url.url", "holds no image")
    return ImageData(mime, raw)
