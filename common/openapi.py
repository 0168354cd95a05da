"""The OpenAPI schema documents the errors every operation can answer, all in the one shape of
common/errors.py (a drf-spectacular postprocessing hook, named in SPECTACULAR_SETTINGS)."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}

# Any operation: bad input (a NUL character, a bound), not signed in, refused, not found (or not
# visible), throttled. A write: in conflict with the current state. With a body: too large, or of
# a media type the operation does not take.
ERRORS = {
    "400": "Invalid input; `fields` names each field and what is wrong with it.",
    "401": "Not signed in.",
    "403": "Signed in, but not allowed.",
    "404": "Not found, or not visible to this user.",
    "429": "Too many requests.",
}
WRITE_ERRORS = {"409": "In conflict with the current state (for example: already staying at a shelter)."}
BODY_ERRORS = {
    "413": "The request is too large.",
    "415": "The body's media type is not one this operation takes (JSON, a form).",
}


def document_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            errors = ERRORS | (WRITE_ERRORS if method != "get" else {})
            errors |= BODY_ERRORS if "requestBody" in operation else {}
            for status, description in errors.items():
                operation["responses"].setdefault(status, {"description": description, "content": reference})
    return result
