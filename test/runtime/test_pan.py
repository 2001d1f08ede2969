from __future__ import annotations

import pytest

from cdk_payments.runtime.pan import contains_pan, is_pan, luhn_valid, mask_pans

VISA = "4111111111111111"

# The test card numbers the networks and the large acquirers (Stripe, Adyen, Braintree) publish.
TEST_CARDS = {
    "visa": ["4111111111111111", "4012888888881881", "4222222222222", "4242424242424242", "4000056655665556"],
    "mastercard": ["5555555555554444", "5105105105105100", "2223003122003222", "5200828282828210",
                   "2221000000000009"],
    "amex": ["378282246310005", "371449635398431", "378734493671000"],
    "discover": ["6011111111111117", "6011000990139424", "6011981111111113", "6445644564456445"],
    "diners": ["30569309025904", "38520000023237", "36227206271667", "3056930009020004", "36006666333344"],
    "jcb": ["3530111333300000", "3566002020360505", "3566111111111113"],
    "unionpay": ["6200000000000005", "6205500000000000004"],
    "maestro": ["6304000000000000", "6759649826438453", "6771798021000008", "6799990100000000019"],
}


@pytest.mark.parametrize("network,number", [(n, c) for n, cards in TEST_CARDS.items() for c in cards])
def test_every_network_test_card_is_refused(network, number):
    assert luhn_valid(number), "a published test card passes Luhn"
    assert is_pan(number)
    assert contains_pan({"metadata": {"note": f"card {number} please"}})


@pytest.mark.parametrize("number", [VISA, "4111 1111 1111 1111", "4111-1111-1111-1111", "3782 822463 10005",
                                    "qty 2 4111 1111 1111 1111", "4111111111111111 1733212345678"])
def test_detects_card_numbers_in_any_layout(number):
    assert contains_pan({"metadata": {"note": f"card {number} please"}})


@pytest.mark.parametrize("value", ["4111111111111112", "12345", "2024-01-01T10:00:00", "tok_visa_abcdef12",
                                   "41111111111111111111", 1250, True, None,
                                   # Luhn-valid, but no network issues them: epoch ms, an order number,
                                   # a 15-digit Visa-looking number, an E.164 phone number
                                   "order:1733212345677", "1733212345677", "ORD-1000000000009",
                                   "411111111111116", "+49 151 12345678"])
def test_ignores_what_is_not_a_card_number(value):
    assert not contains_pan({"x": value})


def test_luhn_valid_identifiers_outside_the_ranges_pass():
    assert luhn_valid("1733212345677") and luhn_valid("1000000000009") and luhn_valid("411111111111116")


def test_detects_numbers_and_keys_and_lists():
    assert contains_pan({"amount": int(VISA)})
    assert contains_pan({VISA: "x"})
    assert contains_pan(["a", [VISA]])


def test_masks_all_but_last_four():
    assert mask_pans(f"pay with {VISA} or 4111 1111 1111 1111 now") == (
        "pay with ************1111 or ************1111 now"
    )
    assert mask_pans("qty 2 4111 1111 1111 1111") == "qty 2 ************1111"
    assert mask_pans("order 12345 on 2026-11-28") == "order 12345 on 2026-11-28"


def test_luhn():
    assert luhn_valid(VISA) and not luhn_valid("4111111111111112")


def test_false_positive_rate_on_realistic_identifiers_is_under_a_thousandth():
    from test.release import _load  # loads a tools/ script as a module

    measure = _load("pan_false_positives").measure

    rows = {name: (count, refused) for name, count, refused, _ in measure(samples=3000, seed=7)}
    count, refused = rows["all"]
    assert refused / count < 0.001
    assert rows["epoch milliseconds"][1] == 0  # the order:<epoch ms> keys Luhn alone refused 1 in 10


def with_check_digit(prefix: str) -> str:
    """``prefix`` and the digit that makes it Luhn-valid."""
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


def test_the_shortest_card_numbers_count_twelve_digits():
    twelve = with_check_digit("63040000001")  # Maestro issues 12 to 19 digits
    assert len(twelve) == 12 and is_pan(twelve) and contains_pan(f"card {twelve} on file")
    assert mask_pans(f"card {twelve}") == f"card {'*' * 8}{twelve[-4:]}"
    eleven = with_check_digit("6304000001")
    assert not is_pan(eleven) and not contains_pan(f"card {eleven}")


@pytest.mark.parametrize("first", ["0", "1", "7", "9"])
def test_digits_no_network_issues_under_are_not_card_numbers(first):
    number = with_check_digit(first + "00000000000001")
    assert luhn_valid(number) and not is_pan(number) and not contains_pan({"ref": number})


def test_a_number_right_after_a_plus_is_a_phone_number():
    # 4222222222222 is Visa's 13-digit test card; written "+4222222222222" it is an E.164 number.
    assert not contains_pan("call +4222222222222 today")
    assert contains_pan("call 4222222222222 today") and contains_pan("ref 12, card 4222222222222")


def test_every_card_in_one_run_of_groups_is_masked():
    assert mask_pans(f"{VISA} 4012888888881881") == "************1111 ************1881"
    assert mask_pans("4111 1111 1111 1111 4012 8888 8888 1881") == "************1111 ************1881"
    assert mask_pans("4111 1111 1111 1111 2028 done") == "************1111 2028 done"  # 20 digits: 16 + expiry


def test_a_printed_nineteen_digit_card_is_masked_whole():
    assert mask_pans("card 6799 9901 0000 0000 019") == "card " + "*" * 15 + "0019"


def test_cards_found_do_not_overlap():
    first = with_check_digit("400000004000000")  # its third group starts a Visa too
    second = with_check_digit(first[8:] + "0000000")
    text = f"{first[:4]} {first[4:8]} {first[8:12]} {first[12:]} {second[8:12]} {second[12:]}"
    assert is_pan(second)
    assert mask_pans(text) == f"************{first[12:]} {second[8:12]} {second[12:]}"
