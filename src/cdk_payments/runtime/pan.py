"""Primary account numbers (card numbers) never enter the system: detect them, mask them.

A digit string is a card number when a card network issues numbers of its length under its leading
digits (the IIN ranges below) *and* it passes the Luhn check. Luhn alone refuses one in ten of any
13 to 19 digit identifier (an ``order:<epoch ms>`` key, an invoice number); the ranges bring that
down to what ``tools/pan_false_positives.py`` measures, and still refuse every network's test cards.
"""

from __future__ import annotations

import re
from typing import Any

_ANY = range(12, 20)
_LONG = range(16, 20)
# (lowest prefix, highest prefix, lengths), from the networks' published IIN ranges (ISO/IEC 7812).
# Networks that are not PCI DSS brands and whose ranges would swallow ordinary identifiers (UATP:
# any 15 digits starting with 1) are left out on purpose.
_RANGES: tuple[tuple[str, str, range | tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa, Visa Electron
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("6011", "6011", _LONG),  # Discover
    ("644", "649", _LONG),
    ("65", "65", _LONG),
    ("622126", "622925", _LONG),
    ("3528", "3589", _LONG),  # JCB
    ("300", "305", range(14, 20)),  # Diners Club International
    ("3095", "3095", range(14, 20)),
    ("36", "36", range(14, 20)),
    ("38", "39", range(14, 20)),
    ("62", "62", _LONG),  # UnionPay
    ("81", "81", _LONG),
    ("5018", "5018", _ANY),  # Maestro
    ("5020", "5020", _ANY),
    ("5038", "5038", _ANY),
    ("5893", "5893", _ANY),
    ("6304", "6304", _ANY),
    ("67", "67", _ANY),  # Maestro (6759, 6761-6763, Maestro UK) and the acquirers' 6771/6799 test cards
    ("5019", "5019", (16,)),  # Dankort
    ("2200", "2204", _LONG),  # Mir
    ("60", "60", (16,)),  # RuPay
    ("82", "82", (16,)),
    ("508", "508", (16,)),
    ("353", "353", (16,)),
    ("356", "356", (16,)),
    ("506099", "506198", (16, 18, 19)),  # Verve
    ("507865", "507964", (16, 18, 19)),
    ("650002", "650027", (16, 18, 19)),
    ("9792", "9792", (16,)),  # Troy
)
# Indexed by first digit, so a candidate is compared with a handful of ranges, not all of them.
_BY_FIRST_DIGIT: dict[str, tuple[tuple[str, str, range | tuple[int, ...]], ...]] = {
    digit: tuple(r for r in _RANGES if r[0][0] == digit) for digit in "0123456789"
}
MIN_DIGITS, MAX_DIGITS = 12, 19

# A run of digit groups joined by single spaces or hyphens ("4111 1111 1111 1111", "378282-246310-005").
_RUN = re.compile(r"\d+(?:[ -]\d+)*")
_GROUP = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def issued_range(digits: str) -> bool:
    """True when some card network issues numbers of this length with these leading digits."""
    length = len(digits)
    for low, high, lengths in _BY_FIRST_DIGIT.get(digits[:1], ()):
        if length in lengths and low <= digits[: len(low)] <= high:
            return True
    return False


def is_pan(digits: str) -> bool:
    """True when ``digits`` (digits only) is a card number: a network's range and length, and Luhn."""
    return MIN_DIGITS <= len(digits) <= MAX_DIGITS and issued_range(digits) and luhn_valid(digits)


def _pans_in(text: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each card number in ``text``, leftmost first, not overlapping.

    A card number is one group of 12 to 19 digits, or whole groups laid out as cards are printed
    (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3), so "qty 2 4111 1111 1111 1111" still finds the card after
    the "2" while "113-4567890-1234567" (an order number) is not read as "4567890-1234567", and a
    20-digit run is nobody's card. A number right after "+" is an E.164 phone number, never a card.
    """
    found: list[tuple[int, int, str]] = []
    for run in _RUN.finditer(text):
        if len(run.group()) < MIN_DIGITS:
            continue
        groups = [(g.start(), g.end(), g.group()) for g in _GROUP.finditer(run.group())]
        base, index = run.start(), 0
        while index < len(groups):
            match = _window_at(text, base, groups, index)
            if match is None:
                index += 1
                continue
            found.append(match[:3])
            index = match[3]
    return found


def _window_at(
    text: str, base: int, groups: list[tuple[int, int, str]], first: int
) -> tuple[int, int, str, int] | None:
    """The longest card number made of whole groups starting at group ``first``, and the next group."""
    start = base + groups[first][0]
    if start and text[start - 1] == "+":
        return None
    if is_pan(groups[first][2]):
        return start, base + groups[first][1], groups[first][2], first + 1
    if len(groups[first][2]) != 4:
        return None
    digits, best = groups[first][2], None
    for last in range(first + 1, len(groups)):
        digits += groups[last][2]
        if len(digits) > MAX_DIGITS:
            break
        if is_pan(digits):
            best = (start, base + groups[last][1], digits, last + 1)
        if len(groups[last][2]) not in (4, 6):  # only the last group of a printed card is shorter
            break
    return best


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
    for start, end, digits in reversed(_pans_in(text)):
        text = text[:start] + "*" * (len(digits) - 4) + digits[-4:] + text[end:]
    return text
