"""What the model is sent: system prompt (the chat's own + personalisation) and the active branch's
history, trimmed oldest-first so prompt plus reply fit the model's context window."""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from protocol.errors import BadRequest
from providers.base import ChatMessage, GenerationRequest
from providers.registry import Model
from providers.tokens import IMAGE_TOKENS, estimate, estimate_message

TRUNCATED = "\n[… the rest of this document did not fit in the model's context]"

# user_id -> text to add to the system prompt of the chats that want it, or None.
Personalizer = Callable[[str], Awaitable[str | None]]


def system_prompt(chat_prompt: str | None, folder_instructions: str | None,
                  personal: str | None) -> str | None:
    """The chat's own prompt, then its folder's instructions, then the profile's section, each
    a paragraph of its own (the template in docs/PROTOCOL.md, "Folders")."""
    parts = [p.strip() for p in (chat_prompt, folder_instructions, personal) if p and p.strip()]
    return "\n\n".join(parts) or None


def usable(row: dict[str, Any]) -> bool:
    """Turns worth sending: users' messages, and replies that produced text."""
    return row["role"] in ("user", "assistant") and bool(row["content"]) and row["status"] != "error"


def check_fits(model: Model, content: str) -> None:
    """Refuse, before anything is stored, a message that alone overflows the model's window."""
    if estimate_message(content) > model.context_window - model.max_output_tokens:
        raise BadRequest(f"the message is too long for {model.id}'s context window "
                         f"({model.context_window} tokens)", field="content")


def chat_message(model: Model, row: dict[str, Any]) -> ChatMessage:
    """A stored message as the model gets it, with its attachments (row["attachments"]).

    Documents share half of the window (they are cut, marked, rather than crowd out the
    conversation); images go only to a model with vision.
    """
    attachments = row.get("attachments") or ()
    images = tuple(a.image for a in attachments if a.image is not None and model.vision)
    room = (model.context_window - model.max_output_tokens) // 2
    documents = []
    for a in attachments:
        if a.text is None:
            continue
        text = a.text
        if estimate(text) > room:
            text = text.encode()[: room * 4].decode(errors="ignore") + TRUNCATED  # 4 bytes a token
        room = max(0, room - estimate(text))
        documents.append((a.name, text))
    return ChatMessage(row["role"], row["content"], images, tuple(documents))


def build_request(model: Model, history: list[dict[str, Any]], system: str | None) -> GenerationRequest:
    """`history` is the branch from the root to the user message being answered."""
    turns = [chat_message(model, r) for r in history if usable(r)]
    budget = model.context_window - model.max_output_tokens - estimate(system or "")
    kept: list[ChatMessage] = []
    used = 0
    for message in reversed(turns):
        cost = estimate_message(message.text) + IMAGE_TOKENS * len(message.images)
        if used + cost > budget:
            if not kept:
                raise BadRequest(f"the message is too long for {model.id}'s context window "
                                 f"({model.context_window} tokens)")
            break
        kept.append(message)
        used += cost
    kept.reverse()
    while kept and kept[0].role != "user":  # vendors want the conversation to open with the user
        kept.pop(0)
    return GenerationRequest(model=model.upstream, system=system,
                             max_tokens=model.max_output_tokens, messages=kept)
