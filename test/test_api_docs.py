"""API.md documents the real signatures: every one it shows binds to the callable it names.

Each documented initializer and method is parsed as Python and called, through
``inspect.Signature.bind``, with its required parameters as written (positional ones positionally,
keyword-only ones by keyword): a signature that drifts (a parameter that became keyword-only, a
renamed prop, a new required one) raises TypeError here as it would in a user's app. Documented
defaults are evaluated in the module that defines the callable and must equal the real ones.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import cdk_payments

API_MD = (Path(__file__).resolve().parent.parent / "API.md").read_text()
INITIALIZER = re.compile(r"^(\w+)\((.*)\)$", re.M)
METHOD = re.compile(r"^##### `(?:@\w+ )?(\w+)\((.*)\) -> .*`$", re.M)


def documented() -> list[tuple[str, str, str]]:
    """(class, callable name, parameter list) for every signature API.md shows."""
    found = []
    for section in re.split(r"^### ", API_MD, flags=re.M)[1:]:
        name = section.split("\n", 1)[0].strip()
        if name not in cdk_payments.__all__:
            continue
        for match in INITIALIZER.finditer(section):
            if match.group(1) == name:
                found.append((name, "__init__", match.group(2)))
        found += [(name, m.group(1), m.group(2)) for m in METHOD.finditer(section)]
    return found


SIGNATURES = documented()


def test_every_public_callable_is_documented():
    names = {(cls, fn) for cls, fn, _ in SIGNATURES}
    for name in cdk_payments.__all__:
        cls = getattr(cdk_payments, name)
        if inspect.isclass(cls) and not issubclass(cls, __import__("enum").Enum):
            assert (name, "__init__") in names, name
            for attr, member in vars(cls).items():
                if not attr.startswith("_") and callable(getattr(member, "__func__", member)) \
                        and not isinstance(member, property):
                    assert (name, attr) in names, f"{name}.{attr}"


@pytest.mark.parametrize("cls,function,params", SIGNATURES, ids=[f"{c}.{f}" for c, f, _ in SIGNATURES])
def test_documented_signature_binds_to_the_real_one(cls, function, params):
    real = getattr(getattr(cdk_payments, cls), function)
    module = importlib.import_module(getattr(cdk_payments, cls).__module__)
    arguments = ast.parse(f"def f({params}): pass").body[0].args
    real_signature = inspect.signature(real)
    real_params = [p for p in real_signature.parameters.values() if p.name not in ("self", "cls")]

    # The documented call: required positional parameters positionally, required keyword-only ones by name.
    positional = arguments.posonlyargs + arguments.args
    required_positional = positional[:len(positional) - len(arguments.defaults)]
    args = [object() for _ in required_positional]
    kwargs = {a.arg: object() for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d is None}
    real_signature.replace(parameters=real_params).bind(*args, **kwargs)  # TypeError when they differ

    # Every documented parameter exists with the same kind and default, and none is missing.
    doc_kinds = {a.arg: inspect.Parameter.POSITIONAL_ONLY for a in arguments.posonlyargs}
    doc_kinds |= {a.arg: inspect.Parameter.POSITIONAL_OR_KEYWORD for a in arguments.args}
    doc_kinds |= {a.arg: inspect.Parameter.KEYWORD_ONLY for a in arguments.kwonlyargs}
    assert doc_kinds == {p.name: p.kind for p in real_params}
    doc_defaults = dict(zip([a.arg for a in positional][len(positional) - len(arguments.defaults):],
                            arguments.defaults, strict=True))
    doc_defaults |= {a.arg: d for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d is not None}
    for parameter in real_params:
        if parameter.default is inspect.Parameter.empty:
            assert parameter.name not in doc_defaults, f"{parameter.name} is required"
        else:
            value = eval(ast.unparse(doc_defaults[parameter.name]), vars(module))  # noqa: S307 - our own docs
            assert value == parameter.default, parameter.name
