"""Suggest profile items found in a piece of text.

With an analysis model configured, the model is asked for JSON and its answer validated exactly
like a `profile.update` from a client: anything else is a `provider_error`, never a corrupt profile.
Without one (the offline echo install) a small rule-based extractor reads first-person statements
in English and Russian ("I love …", "я люблю …", "для меня важно …").
"""
from __future__ import annotations

import asyncio
import re
from contextlib import aclosing
from typing import Any

import orjson

from protocol.errors import BadRequest, ProviderError, ProviderUnavailable
from protocol.schema import PROFILE_CATEGORIES, REQUESTS, validate
from providers.base import ChatMessage, GenerationRequest, Provider, StreamEnd
from providers.registry import Model

Suggestions = dict[str, list[dict[str, Any]]]

# (category, pattern). The phrase after the trigger, up to the end of the clause, is the item.
_RULES: list[tuple[str, str]] = [
    ("values", r"\bi (?:deeply |really )?value\b"),
    ("values", r"\bwhat matters (?:most )?to me is\b"),
    ("values", r"\bi care (?:a lot |deeply )?about\b"),
    ("values", r"\bя (?:очень )?ценю\b"),
    ("values", r"\bдля меня (?:очень |важнее всего |главное )?важн[аоы]?\b"),
    ("beliefs", r"\bi (?:firmly |strongly )?believe(?: that)?\b"),
    ("beliefs", r"\bi am convinced(?: that)?\b|\bi'm convinced(?: that)?\b"),
    ("beliefs", r"\bя (?:твёрдо |твердо )?(?:верю|убежден[а]?|уверен[а]?)(?:,? что| в)?\b"),
    ("beliefs", r"\bя считаю,? что\b"),
    ("interests", r"\bi (?:really )?(?:love|like|enjoy|adore)\b"),
    ("interests", r"\bi(?:'m| am) (?:interested in|into|fond of|passionate about)\b"),
    ("interests", r"\bmy hobby is\b|\bmy hobbies are\b"),
    ("interests", r"\bя (?:очень )?(?:люблю|обожаю)\b"),
    ("interests", r"\bмне (?:очень )?нравится\b|\bмне (?:очень )?нравятся\b"),
    ("interests", r"\bя увлекаюсь\b|\bя интересуюсь\b|\bмоё хобби\b|\bмое хобби\b"),
    ("skills", r"\bi(?:'m| am) (?:good|great|skilled|experienced) (?:at|in|with)\b"),
    ("skills", r"\bi know how to\b|\bi can\b"),
    ("skills", r"\bi work as\b|\bi(?:'m| am) working as\b"),
    ("skills", r"\bя (?:хорошо )?(?:умею|владею|разбираюсь в)\b"),
    ("skills", r"\bя работаю\b"),  # "я работаю программистом"
    ("desires", r"\bi (?:really )?(?:want|wish|hope)(?: to)?\b"),
    ("desires", r"\bi(?:'d| would) (?:love|like) to\b|\bi dream (?:of|about)\b"),
    ("desires", r"\bя (?:очень )?(?:хочу|мечтаю)\b|\bя хотел[а]? бы\b|\bмне хочется\b"),
    ("intentions", r"\bi(?:'m| am) (?:going|planning) to\b|\bi plan to\b|\bi intend to\b"),
    ("intentions", r"\bi will\b|\bi'll\b"),
    ("intentions", r"\bя (?:собираюсь|планирую|намерен[а]?)\b|\bя буду\b"),
]
_COMPILED = [(category, re.compile(pattern, re.IGNORECASE)) for category, pattern in _RULES]
_SENTENCES = re.compile(r"[.!?;\n]+")
_CLAUSE_END = re.compile(r",\s*(?:but|because|although|though|но|а|потому что|хотя)\b|\s[-—]\s",
                         re.IGNORECASE)
MAX_PHRASE = 120


def rule_based(text: str) -> Suggestions:
    found: Suggestions = {name: [] for name in PROFILE_CATEGORIES}
    seen: set[tuple[str, str]] = set()
    for sentence in _SENTENCES.split(text):
        for category, pattern in _COMPILED:
            match = pattern.search(sentence)
            if match is None:
                continue
            phrase = _clause(sentence[match.end():])
            if phrase and (category, phrase.casefold()) not in seen:
                seen.add((category, phrase.casefold()))
                found[category].append({"text": phrase, "weight": None, "note": None})
            break  # one category per sentence: the first rule that fits
    return found


def _clause(rest: str) -> str:
    rest = _CLAUSE_END.split(rest, maxsplit=1)[0]
    phrase = rest.strip(" ,:\"'«»“”()\t").strip()
    return phrase[:MAX_PHRASE].rstrip()


ANALYSIS_PROMPT = (
    "Extract facts about the author of the user's text for their profile. Answer with one JSON "
    "object and nothing else. Keys (all optional): " + ", ".join(PROFILE_CATEGORIES) + ". Each is "
    "a list of objects {\"text\": short phrase in the text's language, \"weight\": number 0..1 or "
    "null, \"note\": string or null}. Only what the author says about themselves; empty lists are "
    "fine."
)


def parse_model_answer(answer: str) -> Suggestions:
    """The model's JSON, checked like a client's profile.update; anything else is a provider_error."""
    body = answer.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", body, re.DOTALL)
    if fenced:
        body = fenced.group(1)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ProviderError("the analysis model did not answer with JSON") from None
    if not isinstance(data, dict):
        raise ProviderError("the analysis model did not answer with a JSON object")
    try:
        checked = validate("analysis", REQUESTS["profile.update"], data)
    except BadRequest as exc:
        raise ProviderError(f"the analysis model's answer is not a valid profile: {exc}") from None
    return {name: checked.get(name, []) for name in PROFILE_CATEGORIES}


class Analyzer:
    def __init__(self, model: Model | None = None, provider: Provider | None = None, *,
                 idle_timeout_s: float = 60.0) -> None:
        self.model = model if provider is not None else None
        self.provider = provider
        self.idle_timeout_s = idle_timeout_s

    async def suggest(self, text: str) -> Suggestions:
        if self.model is None or self.provider is None:
            return rule_based(text)
        request = GenerationRequest(model=self.model.upstream, system=ANALYSIS_PROMPT,
                                    messages=[ChatMessage("user", text)],
                                    max_tokens=min(self.model.max_output_tokens, 2048))
        parts: list[str] = []
        # Provider streams have no read timeout of their own (the caller bounds silence): here, a
        # deadline per item, which is cheap enough for one call per analysis.
        async with aclosing(self.provider.stream(request)) as stream:
            while True:
                try:
                    async with asyncio.timeout(self.idle_timeout_s):
                        item = await anext(stream)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise ProviderUnavailable(f"{self.provider.name} stopped answering the "
                                              "analysis") from None
                if not isinstance(item, StreamEnd):
                    parts.append(item)
        return parse_model_answer("".join(parts))
