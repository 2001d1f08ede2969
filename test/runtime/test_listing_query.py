"""GET /payments' query string (runtime/listing.py's parse_query), without AWS: what is accepted,
normalized and refused, with the message the client reads. test_listing.py pages through moto."""

from __future__ import annotations

import pytest

from cdk_payments.runtime.errors import ApiError
from cdk_payments.runtime.listing import ListQuery, parse_query


def refused(single, multi=None):
    with pytest.raises(ApiError) as error:
        parse_query(single, multi)
    assert (error.value.status, error.value.code) == (400, "invalid_query")
    return error.value.message


def test_defaults():
    assert parse_query(None, None) == ListQuery(limit=20)
    assert parse_query({}, {}) == ListQuery()
    assert ListQuery(status="FAILED", created_from="a", created_to="b").filters == ["FAILED", "a", "b"]


@pytest.mark.parametrize("limit", ["1", "9", "10", "99", "100"])
def test_limits_from_one_to_a_hundred(limit):
    assert parse_query({"limit": limit}, None).limit == int(limit)


@pytest.mark.parametrize("limit", ["0", "101", "01", "1000", "-1", "ten", ""])
def test_other_limits_are_refused_naming_the_field(limit):
    assert refused({"limit": limit}).startswith("limit: ")


def test_every_filter_and_the_cursor_are_read():
    query = parse_query({"status": "UNKNOWN", "created_from": "2026-01-01T00:00:00Z",
                         "created_to": "2026-01-31T10:00:00+01:00", "cursor": "abc", "limit": "5"}, None)
    assert query == ListQuery(limit=5, status="UNKNOWN", created_from="2026-01-01T00:00:00+00:00",
                              created_to="2026-01-31T09:00:00+00:00", cursor="abc")


def test_unknown_parameters_are_named_with_the_allowed_ones():
    assert refused({"foo": "1", "bar": "2", "limit": "5"}) == (
        "unknown query parameter bar, foo; allowed: limit, status, created_from, created_to, cursor")


def test_sigv4_parameters_are_ignored_whatever_their_case():
    assert parse_query({"X-Amz-Signature": "s", "x-amz-date": "d"}, {"X-Amz-Signature": ["s", "t"]}) == ListQuery()


def test_a_repeated_parameter_is_refused():
    assert refused({"status": "FAILED", "limit": "5"}, {"status": ["PENDING", "FAILED"], "limit": ["5"]}) == (
        "status: give each query parameter once")
    assert refused({"status": "FAILED", "limit": "5"},
                   {"status": ["PENDING", "FAILED"], "limit": ["5", "6"]}) == (
        "limit, status: give each query parameter once")


def test_an_unknown_status_is_refused():
    assert refused({"status": "SETTLED"}).startswith("status: ")


@pytest.mark.parametrize("value", ["2026-01-31T09:00:00", "yesterday", "2026-13-01T00:00:00Z"])
def test_time_bounds_need_an_iso_date_time_with_an_offset(value):
    assert refused({"created_to": value}) == (
        "created_to: an ISO 8601 date-time with an offset, e.g. 2026-01-31T09:00:00Z")
    assert refused({"created_from": value}).startswith("created_from: an ISO 8601")


def test_the_range_must_not_be_reversed():
    same = "2026-01-31T09:00:00+00:00"
    assert parse_query({"created_from": same, "created_to": same}, None).created_from == same
    assert refused({"created_from": "2026-01-31T09:00:01Z", "created_to": same}) == (
        "created_from must not be later than created_to")


def test_time_bounds_are_utc_whatever_the_local_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_query({"created_from": "2026-01-31T10:00:00+01:00"}, None).created_from == (
            "2026-01-31T09:00:00+00:00")
    finally:
        monkeypatch.undo()
        time.tzset()
