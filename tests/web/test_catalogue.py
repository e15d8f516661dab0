"""The web client's strings: every key in both languages, every key the code asks for defined."""
import re
from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "static" / "js"


def keys(block: str) -> set[str]:
    return set(re.findall(r"(\w+):\s*\"", block))


def test_russian_and_english_have_the_same_strings_and_every_used_one_exists():
    source = (JS / "i18n.js").read_text(encoding="utf-8")
    english = keys(source[source.index("en: {"):source.index("ru: {")])
    russian = keys(source[source.index("ru: {"):source.index("};")])
    assert english == russian, (english ^ russian)
    used = set()
    for module in JS.glob("*.js"):
        used |= set(re.findall(r"\bt\(\"(\w+)\"", module.read_text(encoding="utf-8")))
    assert used <= english, used - english
    # Keys built at run time: connection states, reply statuses, transaction kinds, date groups.
    dynamic = {"connecting", "connected", "reconnecting", "offline", "stopped", "interrupted",
               "error", "kind_deposit", "kind_usage", "kind_refund", "kind_adjustment", "today",
               "yesterday", "week", "older"}
    assert dynamic <= english, dynamic - english
