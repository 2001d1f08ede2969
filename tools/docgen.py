"""Write API.md from cdk_payments' public API (its __all__), laid out like a jsii-docgen API.md.

griffe reads the source statically (no import, so no Node.js): class docstrings, every initializer
and method signature exactly as written (positional and keyword-only parameters, the ``*`` between
them, defaults), each prop's type, default and ``:param:`` text, public properties, and enum members
with their docstrings. test/test_api_docs.py binds every documented signature to the real callable.

    python tools/docgen.py API.md          # write it
    python tools/docgen.py --check API.md  # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

import griffe

ROOT = Path(__file__).resolve().parent.parent


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _param_docs(function: griffe.Function) -> dict[str, str]:
    if not function.docstring:
        return {}
    docs = {}
    for section in function.docstring.parse("sphinx"):
        if section.kind is griffe.DocstringSectionKind.parameters:
            docs.update({p.name: p.description for p in section.value})
    return docs


def _intro(obj: griffe.Object) -> str:
    return inspect.cleandoc(obj.docstring.value) if obj.docstring else ""


def _is_enum(cls: griffe.Class) -> bool:
    return any(str(base).split(".")[-1] == "Enum" for base in cls.bases)


IMPLICIT = ("self", "cls")
UNDOCUMENTED = ("scope", "id")  # every construct's first two parameters


def signature(function: griffe.Function, *, annotate: bool) -> str:
    """The parameter list as written in the source: ``/`` and ``*`` markers, defaults, annotations."""
    parts: list[str] = []
    kinds = griffe.ParameterKind
    for parameter in function.parameters:
        if parameter.name in IMPLICIT:
            continue
        if parameter.kind is kinds.keyword_only and not any(p.startswith("*") for p in parts):
            parts.append("*")
        text = parameter.name
        if parameter.kind is kinds.var_positional:
            text = f"*{text}"
        elif parameter.kind is kinds.var_keyword:
            text = f"**{text}"
        if annotate and parameter.annotation is not None:
            text += f": {parameter.annotation}"
        if parameter.default is not None:
            text += f" = {parameter.default}" if annotate and parameter.annotation is not None else f"={parameter.default}"
        parts.append(text)
        if parameter.kind is kinds.positional_only and not any(
                p.kind is kinds.positional_only for p in function.parameters[function.parameters.index(parameter) + 1:]):
            parts.append("/")
    return ", ".join(parts)


def _construct(cls: griffe.Class) -> list[str]:
    lines = [f"### {cls.name}", "", _intro(cls), ""]
    init = cls.members.get("__init__")
    if isinstance(init, griffe.Function):
        props = [p for p in init.parameters if p.name not in IMPLICIT + UNDOCUMENTED]
        lines += ["#### Initializer", "", "```python", f"from cdk_payments import {cls.name}", "",
                  f"{cls.name}({signature(init, annotate=False)})", "```", ""]
        docs = _param_docs(init)
        if props:
            lines += ["| Prop | Type | Default | Description |", "| --- | --- | --- | --- |"]
            lines += [
                f"| `{p.name}` | `{p.annotation}` | {'required' if p.default is None else f'`{p.default}`'} | "
                f"{_one_line(docs.get(p.name, ''))} |"
                for p in props
            ]
            lines.append("")
    properties = [
        m for name, m in cls.members.items()
        if not name.startswith("_") and "property" in m.labels and not m.is_alias
    ]
    if properties:
        lines += ["#### Properties", "", "| Name | Type | Description |", "| --- | --- | --- |"]
        lines += [f"| `{m.name}` | `{m.annotation}` | {_one_line(m.docstring.value if m.docstring else '')} |"
                  for m in properties]
        lines.append("")
    methods = [
        m for name, m in cls.members.items()
        if not name.startswith("_") and isinstance(m, griffe.Function) and "property" not in m.labels
    ]
    if methods:
        lines += ["#### Methods", ""]
        for method in methods:
            prefix = "@classmethod " if "classmethod" in method.labels else (
                "@staticmethod " if "staticmethod" in method.labels else "")
            lines += [f"##### `{prefix}{method.name}({signature(method, annotate=True)}) -> {method.returns}`", "",
                      _intro(method), ""]
    return lines


def _enum(cls: griffe.Class) -> list[str]:
    lines = [f"### {cls.name}", "", _intro(cls), "", "| Member | Description |", "| --- | --- |"]
    for name, member in cls.members.items():
        if isinstance(member, griffe.Attribute) and not name.startswith("_"):
            lines.append(f"| `{name}` | {_one_line(member.docstring.value if member.docstring else '')} |")
    return lines + [""]


def render() -> str:
    package = griffe.load("cdk_payments", search_paths=[str(ROOT / "src")], docstring_parser="sphinx")
    classes = [package[name].final_target if package[name].is_alias else package[name] for name in package.exports]
    enums = [c for c in classes if _is_enum(c)]
    constructs = [c for c in classes if not _is_enum(c)]
    lines = ["# API Reference", "", "<!-- Generated by tools/docgen.py from the docstrings; do not edit. -->", ""]
    lines += ["## Constructs", ""]
    for cls in constructs:
        lines += _construct(cls)
    lines += ["## Enums", ""]
    for cls in enums:
        lines += _enum(cls)
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run `projen docgen`", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
