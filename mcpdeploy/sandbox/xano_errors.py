"""Xano's error envelope `{"code", "message"[, "payload"]}` as an exception the sandbox's handlers raise."""

from __future__ import annotations

from typing import Any


class XanoError(Exception):
    """An answer in Xano's error envelope; raised anywhere in a handler, turned into the response by the service."""

    def __init__(self, status: int, code: str, message: str, payload: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.payload = status, code, message, payload

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.payload is not None:
            body["payload"] = self.payload
        return body


def input_error(message: str, payload: Any = None) -> XanoError:
    return XanoError(400, "ERROR_CODE_INPUT_ERROR", message, payload)


def missing_param(name: str) -> XanoError:
    return input_error(f"Missing param: {name}", {"param": name})


def not_found(message: str = "Unable to locate request.") -> XanoError:
    return XanoError(404, "ERROR_CODE_NOT_FOUND", message)


UNAUTHORIZED = ("ERROR_CODE_UNAUTHORIZED", "Unauthorized - Authentication Required")


def unauthorized() -> XanoError:
    return XanoError(401, *UNAUTHORIZED)


def access_denied() -> XanoError:
    return XanoError(403, "ERROR_CODE_ACCESS_DENIED", "Access Denied.")


def syntax_error(message: str) -> XanoError:
    return XanoError(400, "ERROR_CODE_SYNTAX_ERROR", message)
