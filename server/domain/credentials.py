"""Checks on what people type when they sign up: email shape, password strength, display name."""
from __future__ import annotations

import re

from protocol.errors import BadRequest

MAX_EMAIL = 254
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_DISPLAY_NAME = 100

EMAIL_PATTERN = r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f.]{2,}$"
_EMAIL = re.compile(EMAIL_PATTERN)

# The handful every breach list opens with; a length rule alone lets these through.
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "12345678", "123456789", "1234567890", "qwertyuiop",
    "qwerty123", "11111111", "00000000", "iloveyou", "sunshine", "letmein1", "football",
    "baseball", "welcome1", "admin123", "abc12345", "passw0rd", "йцукенгш", "пароль123", "qwerty12",
})


def normalise_email(email: str) -> tuple[str, str]:
    """(email as entered, trimmed; the case-insensitive key it is unique by)."""
    cleaned = email.strip()
    if len(cleaned) > MAX_EMAIL or not _EMAIL.match(cleaned):
        raise BadRequest("email is not a valid address", field="email")
    return cleaned, cleaned.casefold()


def check_password(password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"password must be at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise BadRequest(f"password must be at most {MAX_PASSWORD} characters", field="password")
    folded = password.casefold()
    if folded in COMMON_PASSWORDS or len(set(password)) < 4 or folded == email.casefold() or (
        folded == email.split("@", 1)[0].casefold()
    ):
        raise BadRequest("password is too easy to guess; choose a longer, less common one",
                         field="password")


def check_display_name(name: str | None, email: str) -> str:
    name = (name or "").strip() or email.split("@", 1)[0]
    if len(name) > MAX_DISPLAY_NAME:
        raise BadRequest(f"display_name must be at most {MAX_DISPLAY_NAME} characters",
                         field="display_name")
    return name[:MAX_DISPLAY_NAME]
