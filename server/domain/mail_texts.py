"""The mails' words, in English and Russian.

No language is stored with an account, so the language is the one the person is using when the
mail is asked for: a `lang` field the web client sends (its interface language), else the
request's Accept-Language, else English (see `pick_language`).
"""
from __future__ import annotations

LANGUAGES = ("en", "ru")

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "reset": ("Reset your Chatwire password",
                  "Someone (hopefully you) asked to reset the password of your Chatwire account.\n\n"
                  "To choose a new password, open this link within {minutes} minutes:\n\n{link}\n\n"
                  "The link works once. If you did not ask for this, ignore this mail: your "
                  "password stays as it is.\n"),
        "verify": ("Confirm your email for Chatwire",
                   "Welcome to Chatwire! To confirm that this address is yours and start "
                   "chatting, open this link within {hours} hours:\n\n{link}\n\n"
                   "If you did not sign up, ignore this mail.\n"),
    },
    "ru": {
        "reset": ("Сброс пароля Chatwire",
                  "Кто-то (надеемся, вы) попросил сбросить пароль вашей учётной записи Chatwire.\n\n"
                  "Чтобы задать новый пароль, откройте эту ссылку в течение {minutes} минут:\n\n"
                  "{link}\n\nСсылка действует один раз. Если вы ничего не просили, просто "
                  "не обращайте внимания на это письмо: пароль останется прежним.\n"),
        "verify": ("Подтвердите почту для Chatwire",
                   "Добро пожаловать в Chatwire! Чтобы подтвердить, что этот адрес ваш, и начать "
                   "общение, откройте эту ссылку в течение {hours} часов:\n\n{link}\n\n"
                   "Если вы не регистрировались, не обращайте внимания на это письмо.\n"),
    },
}


def pick_language(lang: str | None, accept_language: str | None) -> str:
    """`lang` if it names a language we write in; else the first such one in Accept-Language
    (its order, ignoring weights: browsers list the preferred first); else English."""
    if lang:
        code = lang.strip().lower()[:2]
        if code in LANGUAGES:
            return code
    for part in (accept_language or "").split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def render(kind: str, lang: str, link: str, **numbers: int) -> tuple[str, str]:
    """(subject, text) of a mail of `kind` ("reset", "verify") in `lang`."""
    subject, body = TEXTS.get(lang, TEXTS["en"])[kind]
    return subject, body.format(link=link, **numbers)
