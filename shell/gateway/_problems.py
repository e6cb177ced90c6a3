"""Errors as ``application/problem+json`` (RFC 9457), one ``type`` per kind of error."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

__all__ = ["PROBLEM_MEDIA_TYPE", "Problem", "install_problem_handlers", "problem_schema"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed for this agency",
    404: "Not found",
    405: "Method not allowed",
    408: "Request too slow",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Refused",
    429: "Too many requests",
    503: "The bus is unavailable",
}


class Problem(Exception):
    """An error the gateway answers with: status, a kind (its ``type``), and the detail."""

    def __init__(
        self, status: int, kind: str, detail: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {
            "type": f"/problems/{self.kind}",
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        return JSONResponse(
            body, status_code=self.status, media_type=PROBLEM_MEDIA_TYPE, headers=self.headers
        )


def problem_schema() -> dict[str, Any]:
    """The OpenAPI description of a problem response body."""
    return {
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                    },
                }
            }
        },
        "description": "The request was refused; `type` says why, `detail` in words.",
    }


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error, the framework's own included, as problem+json."""

    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return exc.response()

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http")
        return Problem(exc.status_code, kind, str(exc.detail)).response()

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        words = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return Problem(422, "invalid-request", words).response()

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
