"""Primary account numbers (card numbers) never enter the system: detect them, mask them."""

from __future__ import annotations

import re
from typing import Any

# 13 to 19 digits, optionally grouped by single spaces or hyphens, not part of a longer number.
_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _pans_in(text: str) -> list[re.Match[str]]:
    return [m for m in _CANDIDATE.finditer(text) if luhn_valid(re.sub(r"[ -]", "", m.group()))]


def contains_pan(value: Any) -> bool:
    """True when any string or number anywhere in ``value`` looks like a card number."""
    if isinstance(value, dict):
        return any(contains_pan(k) or contains_pan(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_pan(item) for item in value)
    if isinstance(value, bool) or value is None:
        return False
    return bool(_pans_in(str(value)))


def mask_pans(text: str) -> str:
    """Replace every card number in ``text`` by asterisks and its last four digits."""

    def mask(match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group())
        return "*" * (len(digits) - 4) + digits[-4:]

    matches = _pans_in(text)
    for match in reversed(matches):
        text = text[: match.start()] + mask(match) + text[match.end() :]
    return text
