"""The compiled validators refuse exactly what Powertools' validate() refuses, with the same error."""

from __future__ import annotations

from unittest import mock

import fastjsonschema
import pytest
from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

from cdk_payments.runtime import api, listing
from cdk_payments.runtime.errors import validator

from .conftest import valid_body

BODIES = [
    valid_body(),
    valid_body(amount=0),
    valid_body(amount="12"),
    valid_body(currency="XXX"),
    valid_body(merchant_id="a b"),
    valid_body(payment_method_token="short"),
    valid_body(description="x" * 256),
    valid_body(metadata={str(i): "v" for i in range(21)}),
    valid_body(metadata={"order": 7}),
    valid_body(extra=True),
    {"amount": 1250, "currency": "EUR"},
    [],
    "body",
]
QUERIES = [{}, {"limit": "0"}, {"limit": "101"}, {"status": "DONE"}, {"cursor": ""}, {"created_from": "x" * 41},
           {"other": "1"}]


def outcome(check, data):
    try:
        check(data)
    except SchemaValidationError as error:
        return (str(error), error.validation_message, error.name, error.path, error.value, error.rule,
                error.rule_definition, error.definition)
    return None


@pytest.mark.parametrize("body", BODIES)
def test_payment_request_errors_are_powertools_errors(body):
    assert outcome(api.validate_request, body) == outcome(lambda data: validate(event=data, schema=api.SCHEMA), body)


@pytest.mark.parametrize("query", QUERIES)
def test_list_query_errors_are_powertools_errors(query):
    expected = outcome(lambda data: validate(event=data, schema=listing.QUERY_SCHEMA), query)
    assert outcome(listing.validate_query, query) == expected


def test_a_schema_is_compiled_once_on_first_use():
    with mock.patch.object(fastjsonschema, "compile", wraps=fastjsonschema.compile) as compile_:
        check = validator({"type": "object", "required": ["a"]})
        assert compile_.call_count == 0
        for _ in range(3):
            check({"a": 1})
        with pytest.raises(SchemaValidationError):
            check({})
    assert compile_.call_count == 1


@pytest.mark.parametrize("body", BODIES)
def test_a_validator_built_now_refuses_as_powertools_does(body):
    # The handlers build theirs at import; this one is built while the test runs (and mutmut watches).
    expected = outcome(lambda data: validate(event=data, schema=api.SCHEMA), body)
    assert outcome(validator(api.SCHEMA), body) == expected
    if expected is None:
        assert validator(api.SCHEMA)(body) == body


def test_an_invalid_schema_is_powertools_invalid_schema_error():
    from aws_lambda_powertools.utilities.validation import InvalidSchemaFormatError

    schema = {"type": "object", "properties": {"a": {"type": "no-such-type"}}}
    with pytest.raises(InvalidSchemaFormatError, match=r"^Schema received: .*no-such-type.*, Formats: \{\}\. Error: "):
        validator(schema)({"a": 1})
