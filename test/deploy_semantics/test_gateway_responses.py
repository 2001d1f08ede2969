"""Gateway responses render to the documented JSON error shape (issue 11, item 11).

A gateway response template gets variable substitution only, not VTL: ``$util...`` reaches the
client literally, and ``"$context.error.message"`` breaks on a message with a quote or a newline.
``$context.error.messageString`` is the message already quoted and escaped as a JSON string.
"""

from __future__ import annotations

import json
import re

import pytest

from cdk_payments import SecurePaymentApi

from ..harness import synth

MESSAGES = ('Invalid request body', 'field "amount": expected "number"', 'line one\nline "two"\t\\ end', '')
VTL = re.compile(r"\$util\.|\$input\.|#set|#if|#foreach")
VARIABLE = re.compile(r"\$context\.[A-Za-z.]+")


def substitute(template: str, message: str) -> str:
    """What API Gateway sends: messageString quoted and escaped, every other variable as raw text."""
    assert not VTL.search(template), f"VTL in a gateway response reaches the client literally: {template}"
    rendered = template.replace("$context.error.messageString", json.dumps(message))
    return VARIABLE.sub(lambda _: message, rendered)


@pytest.fixture(scope="module")
def templates():
    result = synth(lambda stack: SecurePaymentApi(stack, "Payments"), nag=False)
    found = {r["Properties"]["ResponseType"]: r["Properties"]["ResponseTemplates"]
             for r in result.resources("AWS::ApiGateway::GatewayResponse").values()}
    assert {"BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS", "WAF_FILTERED", "THROTTLED", "DEFAULT_4XX",
            "DEFAULT_5XX"} <= set(found)
    return found


@pytest.mark.parametrize("message", MESSAGES)
def test_every_gateway_response_renders_to_the_error_shape(templates, message):
    for response_type, by_content_type in templates.items():
        for template in by_content_type.values():
            body = json.loads(substitute(template, message))  # raises on invalid JSON
            assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, response_type
            assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)


def test_api_gateway_messages_reach_the_client_intact(templates):
    for response_type in ("BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"):
        body = json.loads(substitute(templates[response_type]["application/json"], MESSAGES[2]))
        assert body["error"]["message"] == MESSAGES[2]


def test_the_old_templates_fail_this_check():
    with pytest.raises(AssertionError, match="VTL"):
        substitute('{"message":"$util.escapeJavaScript($context.error.validationErrorString)"}', "x")
    with pytest.raises(json.JSONDecodeError):
        json.loads(substitute('{"message":"$context.error.message"}', MESSAGES[1]))
