"""Every number and text the API accepts is bounded in its schema (and so by its serializer): a
value the database cannot hold is a 400 naming the field, not a 500."""

import pytest

pytestmark = pytest.mark.django_db

# Rows named by their key: a value that names no row is a 400 "does not exist" (Django answers a
# lookup beyond the column's range with no row, not a database error).
REFERENCES = {
    "POST /api/supply/requests/ body.item",
    "POST /api/supply/stock/adjust/ body.depot",
    "POST /api/supply/stock/adjust/ body.item",
}


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _lacks_bounds(node: dict) -> bool:
    if node.get("type") == "integer":
        return "minimum" not in node or "maximum" not in node
    if node.get("type") == "string":
        return "maxLength" not in node and node.get("format") not in ("date", "date-time", "uri")
    return False


def _unbounded(schema: dict, node: dict, where: str):
    node = _resolve(schema, node)
    if node.get("readOnly") or "enum" in node:
        return
    for part in node.get("allOf", []) + node.get("oneOf", []) + node.get("anyOf", []):
        yield from _unbounded(schema, part, where)
    kind = node.get("type")
    if _lacks_bounds(node):
        yield where
    elif kind == "array":
        yield from _unbounded(schema, node.get("items", {}), f"{where}[]")
    elif kind == "object":
        for name, child in node.get("properties", {}).items():
            yield from _unbounded(schema, child, f"{where}.{name}")
        if isinstance(node.get("additionalProperties"), dict):
            yield from _unbounded(schema, node["additionalProperties"], f"{where}.*")


def test_every_integer_and_text_the_api_accepts_has_bounds(api_as, hq):
    schema = api_as(hq).get("/api/schema/", {"format": "json"}).json()
    unbounded = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    unbounded += _unbounded(schema, parameter["schema"], f"{label} ?{parameter['name']}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded(schema, media["schema"], f"{label} body")

    unbounded = sorted(set(unbounded) - REFERENCES)
    assert unbounded == [], "\n".join(unbounded)
