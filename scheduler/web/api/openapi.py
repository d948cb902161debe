"""openapi.json, generated from the registered routes and their pydantic schemas."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from pydantic.json_schema import models_json_schema

from scheduler.web.api.core import ROUTES, bp
from scheduler.web.api.schemas import ErrorOut

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "Malformed request",
    401: "Missing or bad token",
    403: "Role may not",
    404: "Not found",
    409: "Conflict",
    422: "Rejected by a clinic rule",
}


def build_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document for every registered route."""
    models = {ErrorOut}
    for r in ROUTES:
        models.update(m for m in (r.body, r.response) if m is not None)
    keyed = [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)]
    refs, defs = models_json_schema(keyed, ref_template=REF)
    ref = {m: refs[(m, "validation")] for m in models}
    paths: dict[str, dict[str, Any]] = {}
    for r in ROUTES:
        paths.setdefault(r.path, {})[r.method] = _operation(r, ref)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{current_app.config['CLINIC_NAME']} scheduler API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(r, ref) -> dict[str, Any]:
    """One path item operation."""
    op: dict[str, Any] = {"operationId": r.name, "summary": r.summary, "parameters": []}
    for name in _path_params(r.path):
        op["parameters"].append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            }
        )
    if r.query is not None:
        schema = r.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            op["parameters"].append({"name": name, "in": "query", "required": name in required, "schema": prop})
    if r.body is not None:
        op["requestBody"] = {"required": r.body_required, "content": {"application/json": {"schema": ref[r.body]}}}
    ok: dict[str, Any] = {"description": "OK"}
    if r.response is not None:
        schema = ref[r.response]
        if r.many:
            schema = {
                "type": "object",
                "required": ["items"],
                "properties": {"items": {"type": "array", "items": schema}},
            }
        ok["content"] = {"application/json": {"schema": schema}}
    op["responses"] = {str(r.status): ok}
    codes = {400, *r.errors}
    if r.role is not None:
        op["security"] = [{"bearer": []}]
        codes |= {401, 403}
    for code in sorted(codes):
        op["responses"][str(code)] = {
            "description": ERROR_TEXT.get(code, "Error"),
            "content": {"application/json": {"schema": ref[ErrorOut]}},
        }
    return op


def _path_params(path: str) -> list[str]:
    """Names inside {braces} in a path."""
    import re

    return re.findall(r"\{(\w+)\}", path)


@bp.get("/openapi.json")
def openapi_json():
    """The API description (no token needed)."""
    return jsonify(build_spec())
