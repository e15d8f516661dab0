"""What the model is sent: system prompt (the chat's own + personalisation) and the active branch's
history, trimmed oldest-first so prompt plus reply fit the model's context window."""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from protocol.errors import BadRequest
from providers.base import ChatMessage, GenerationRequest
from providers.registry import Model
from providers.tokens import estimate, estimate_message

# (user_id, chat) -> text to add to the system prompt, or None. The profile issue fills it in.
Personalizer = Callable[[str, dict[str, Any]], Awaitable[str | None]]


def system_prompt(chat_prompt: str | None, personal: str | None) -> str | None:
    parts = [p.strip() for p in (chat_prompt, personal) if p and p.strip()]
    return "\n\n".join(parts) or None


def usable(row: dict[str, Any]) -> bool:
    """Turns worth sending: users' messages, and replies that produced text."""
    return row["role"] in ("user", "assistant") and bool(row["content"]) and row["status"] != "error"


def check_fits(model: Model, content: str) -> None:
    """Refuse, before anything is stored, a message that alone overflows the model's window."""
    if estimate_message(content) > model.context_window - model.max_output_tokens:
        raise BadRequest(f"the message is too long for {model.id}'s context window "
                         f"({model.context_window} tokens)", field="content")


def build_request(model: Model, history: list[dict[str, Any]], system: str | None) -> GenerationRequest:
    """`history` is the branch from the root to the user message being answered."""
    turns = [r for r in history if usable(r)]
    budget = model.context_window - model.max_output_tokens - estimate(system or "")
    kept: list[dict[str, Any]] = []
    used = 0
    for row in reversed(turns):
        cost = estimate_message(row["content"])
        if used + cost > budget:
            if not kept:
                raise BadRequest(f"the message is too long for {model.id}'s context window "
                                 f"({model.context_window} tokens)")
            break
        kept.append(row)
        used += cost
    kept.reverse()
    while kept and kept[0]["role"] != "user":  # vendors want the conversation to open with the user
        kept.pop(0)
    return GenerationRequest(
        model=model.upstream, system=system, max_tokens=model.max_output_tokens,
        messages=[ChatMessage(r["role"], r["content"]) for r in kept],
    )
