"""The /api/v1 operations as golive's own OpenAPI document lists them, with their path parameters
filled from the security world and the leaf fields of their request bodies, so the fuzz tests
need no hand list of routes: a new operation is fuzzed the day it is merged."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # /api/v1/probes/{probe_id}
    path: str  # filled in
    body_schema: dict | None
    query: tuple[dict, ...]  # the query parameters' OpenAPI entries

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def path_values(world) -> dict[str, str]:
    """Every path parameter the world fills, by name (one object of each kind)."""
    values = {"slug": world.migration.slug}
    for name, kwargs in world.kwargs.items():
        if name.startswith("api:"):
            values |= {key: str(value) for key, value in kwargs.items()}
    return values


def operations(document: dict, values: dict[str, str]) -> list[Operation]:
    found = []
    for template, methods in document["paths"].items():
        for method, operation in methods.items():
            parameters = operation.get("parameters", [])
            path = template
            for parameter in parameters:
                if parameter["in"] == "path":
                    name = parameter["name"]
                    assert name in values, f"{template}: give the world a value for {{{name}}}"
                    path = path.replace("{" + name + "}", values[name])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            query = tuple(p for p in parameters if p["in"] == "query")
            found.append(Operation(method.upper(), template, path, body and body["schema"], query))
    return found


def resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _variants(schema: dict, components: dict) -> list[dict]:
    """A field's possible shapes (anyOf/oneOf, `X | None`), resolved."""
    schema = resolve(schema, components)
    choices = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [resolve(choice, components) for choice in choices]


@dataclass(frozen=True)
class Leaf:
    """A scalar field somewhere in a body: where it sits (keys and list positions) and its type."""

    where: tuple[str | int, ...]
    type: str  # "string" or "integer"
    bounded: bool = False  # an integer whose schema keeps it inside PostgreSQL's bigint

    @property
    def name(self) -> str:
        """As golive's API names it: `samples.0.metric`."""
        return ".".join(str(part) for part in self.where)

    def body_with(self, value) -> dict:
        """A body holding `value` at this leaf, nothing else."""
        document: object = value
        for part in reversed(self.where):
            document = [document] if isinstance(part, int) else {part: document}
        return document


def leaves(schema: dict, components: dict, where: tuple = (), depth: int = 0) -> Iterator[Leaf]:
    """The string and integer fields of a body schema (through objects and arrays)."""
    if depth > 4:
        return
    for shape in _variants(schema, components):
        kind = shape.get("type")
        if kind == "object":
            for name, prop in shape.get("properties", {}).items():
                yield from leaves(prop, components, (*where, name), depth + 1)
        elif kind == "array":
            yield from leaves(shape.get("items", {}), components, (*where, 0), depth + 1)
        elif kind in ("string", "integer") and where and "enum" not in shape and "const" not in shape:
            yield Leaf(where, kind, bounded=_within_bigint(shape))
            return  # one leaf per field, whichever of its shapes came first


def _within_bigint(shape: dict) -> bool:
    top = shape.get("maximum", shape.get("exclusiveMaximum"))
    bottom = shape.get("minimum", shape.get("exclusiveMinimum"))
    return top is not None and bottom is not None and bottom >= -(2**63) and top < 2**63


def required_besides(schema: dict, components: dict, name: str) -> set[str]:
    """The body's required top-level fields other than `name`: none means a body holding only
    that field is otherwise valid, so its answer must be about that field."""
    return set(resolve(schema, components).get("required", [])) - {name}


def first_property(schema: dict, components: dict) -> str | None:
    properties = resolve(schema, components).get("properties", {})
    return next(iter(properties), None)
