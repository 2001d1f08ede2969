"""The Route 53 rules the tiers' rehearsals apply (routing.py), against the cases the Route 53 developer guide
describes: a failover pair, latency records, a check's missing data and its inversion."""

from __future__ import annotations

import pytest

from .routing import check_healthy, choose

PRIMARY = {"Failover": "PRIMARY", "SetIdentifier": "east", "HealthCheckId": "hc-east"}
SECONDARY = {"Failover": "SECONDARY", "SetIdentifier": "west"}
EAST = {"Region": "us-east-1", "SetIdentifier": "east", "HealthCheckId": "hc-east"}
WEST = {"Region": "us-east-2", "SetIdentifier": "west", "HealthCheckId": "hc-west"}


def healthy_unless(*unhealthy):
    return lambda record: record["SetIdentifier"] not in unhealthy


@pytest.mark.parametrize(("unhealthy", "answered"), [
    ((), "east"),  # the primary while it is healthy
    (("east",), "west"),  # else the secondary
    (("west",), "east"),  # a failed secondary changes nothing
    (("east", "west"), "east"),  # both failed: the primary
])
def test_a_failover_pair_answers_the_primary_while_it_is_healthy(unhealthy, answered):
    for records in ([PRIMARY, SECONDARY], [SECONDARY, PRIMARY]):  # whatever order the zone lists them in
        assert choose(records, healthy_unless(*unhealthy))["SetIdentifier"] == answered


@pytest.mark.parametrize(("near", "unhealthy", "answered"), [
    ("us-east-1", (), "east"), ("us-east-2", (), "west"),  # each client its nearest region
    ("us-east-1", ("east",), "west"), ("us-east-2", ("east",), "west"),  # a failed region's clients go elsewhere
    ("us-east-1", ("east", "west"), "east"),  # none healthy: all are treated as healthy, the nearest answers
])
def test_latency_records_answer_the_nearest_healthy_region(near, unhealthy, answered):
    assert choose([EAST, WEST], healthy_unless(*unhealthy), near=near)["SetIdentifier"] == answered


def test_a_client_near_no_record_or_records_of_no_routing_are_refused():
    with pytest.raises(AssertionError, match="nearest region 'eu-west-1'"):
        choose([EAST, WEST], healthy_unless(), near="eu-west-1")
    with pytest.raises(AssertionError, match="neither failover nor latency"):
        choose([{"SetIdentifier": "plain"}], healthy_unless())
    with pytest.raises(AssertionError, match="not a failover pair"):
        choose([PRIMARY, PRIMARY], healthy_unless())


@pytest.mark.parametrize(("config", "state", "last_known", "healthy"), [
    ({}, "OK", None, True),
    ({}, "ALARM", True, False),
    ({"Inverted": True}, "OK", None, False),  # inverted: what is healthy counts as unhealthy
    ({"Inverted": True}, "ALARM", None, True),
    # Too little data: the check's setting decides; LastKnownStatus keeps the last status (healthy when new).
    ({"InsufficientDataHealthStatus": "LastKnownStatus"}, "INSUFFICIENT_DATA", None, True),
    ({"InsufficientDataHealthStatus": "LastKnownStatus"}, "INSUFFICIENT_DATA", False, False),
    ({"InsufficientDataHealthStatus": "LastKnownStatus", "Inverted": True}, "INSUFFICIENT_DATA", True, True),
    ({"InsufficientDataHealthStatus": "Unhealthy"}, "INSUFFICIENT_DATA", True, False),
    ({"InsufficientDataHealthStatus": "Healthy"}, "INSUFFICIENT_DATA", False, True),
    ({}, "INSUFFICIENT_DATA", False, False),  # LastKnownStatus is Route 53's default
])
def test_a_health_check_follows_its_alarm(config, state, last_known, healthy):
    assert check_healthy(config, state, last_known) is healthy
