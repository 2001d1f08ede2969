from __future__ import annotations

import pytest

from cdk_payments.runtime.pan import contains_pan, luhn_valid, mask_pans

VISA = "4111111111111111"


@pytest.mark.parametrize("number", [VISA, "5500005555555559", "378282246310005", "6011111111111117",
                                    "4111 1111 1111 1111", "4111-1111-1111-1111", "4222222222222"])
def test_detects_card_numbers_in_any_layout(number):
    assert contains_pan({"metadata": {"note": f"card {number} please"}})


@pytest.mark.parametrize("value", ["4111111111111112", "12345", "2024-01-01T10:00:00", "tok_visa_abcdef12",
                                   "41111111111111111111", 1250, True, None])
def test_ignores_what_is_not_a_card_number(value):
    assert not contains_pan({"x": value})


def test_detects_numbers_and_keys_and_lists():
    assert contains_pan({"amount": int(VISA)})
    assert contains_pan({VISA: "x"})
    assert contains_pan(["a", [VISA]])


def test_masks_all_but_last_four():
    assert mask_pans(f"pay with {VISA} or 4111 1111 1111 1111 now") == (
        "pay with ************1111 or ************1111 now"
    )
    assert mask_pans("order 12345 on 2026-11-28") == "order 12345 on 2026-11-28"


def test_luhn():
    assert luhn_valid(VISA) and not luhn_valid("4111111111111112")
