"""How requests are refused: the one exception every refusal raises (the API turns it into a JSON
error response), and the JSON Schema checks whose failures it refuses.

The schemas are compiled once per execution environment, not once per request: Powertools'
``validate()`` hands the schema to ``fastjsonschema.validate``, which generates and compiles a
validator on every call (milliseconds for the payment schema), while the compiled validator checks a
body in microseconds. Failures are Powertools' ``SchemaValidationError``, built exactly as
``validate()`` builds it, so callers and their messages do not change.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Callable

from aws_lambda_powertools.utilities.validation import InvalidSchemaFormatError, SchemaValidationError

# Powertools' own validation engine, taken from Powertools (its validation extra, in the layer) so
# that the runtime depends on nothing beside the standard library, boto3 and Powertools.
from aws_lambda_powertools.utilities.validation.base import fastjsonschema


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def validator(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """A function that validates data against ``schema`` (compiled on its first call), raising
    ``SchemaValidationError``. ``schema`` must not change afterwards."""

    @cache
    def compiled() -> Callable[[Any], Any]:
        return fastjsonschema.compile(schema)

    def validate(data: Any) -> Any:
        try:
            return compiled()(data)
        except (TypeError, AttributeError, fastjsonschema.JsonSchemaDefinitionException) as error:
            raise InvalidSchemaFormatError(f"Schema received: {schema}, Formats: {{}}. Error: {error}") from error
        except fastjsonschema.JsonSchemaValueException as error:
            raise SchemaValidationError(
                f"Failed schema validation. Error: {error.message}, Path: {error.path}, Data: {error.value}",
                validation_message=error.message, name=error.name, path=error.path, value=error.value,
                definition=error.definition, rule=error.rule, rule_definition=error.rule_definition,
            ) from error

    return validate
