"""Check recorded HTTP requests against OpenAPI documents, so a test can say "every call we sent is one the API
documents" instead of trusting our own reading of it.

Generic on purpose (Cloudflare now, Xano later):

- several documents can describe one API (an official extract and a hand-written supplement): a request must
  match an operation in at least one of them, and pass every document that defines that operation;
- the server base path (`/client/v4`, `/api:meta`) is taken from each document's `servers`, and the host is
  ignored, so requests sent to a sandbox on loopback are checked exactly like requests to the real host;
- parameters and bodies are checked by openapi-core; `*+json` media types (merge-patch) are read as JSON;
- security is checked leniently: one scheme named by any requirement must be present. Published specs
  sometimes list alternative schemes in one requirement object, which read literally would demand all at once.

`RecordingTransport` wraps any httpx transport (the sandbox's, respx's) and keeps what was sent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound, ServerNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

_NOT_DEFINED = (PathNotFound, OperationNotFound, ServerNotFound)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""

    @classmethod
    def from_httpx(cls, request: httpx.Request) -> RecordedRequest:
        return cls(request.method, str(request.url), dict(request.headers), request.read())

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


class RecordingTransport(httpx.BaseTransport):
    """Passes every request to `inner` and keeps a copy of what was sent (retries included)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[RecordedRequest] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(RecordedRequest.from_httpx(request))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@dataclass
class _Document:
    name: str
    spec: dict[str, Any]
    api: OpenAPI
    servers: list[tuple[str, str]] = field(default_factory=list)  # (origin, base path)


@dataclass
class _FakeOpenApiRequest:
    """What openapi-core reads from a request (its `Request` protocol)."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    content_type: str
    body: bytes | None


class OpenApiRequestValidator:
    def __init__(self, documents: Iterable[Path | tuple[str, dict[str, Any]]]) -> None:
        self._documents = [self._load(d) for d in documents]
        if not self._documents:
            raise ValueError("no OpenAPI document given")

    @staticmethod
    def _load(source: Path | tuple[str, dict[str, Any]]) -> _Document:
        if isinstance(source, Path):
            name, spec = source.name, json.loads(source.read_text("utf-8"))
        else:
            name, spec = source
        unchecked = copy.deepcopy(spec)
        # Security is checked here (see the module docstring); openapi-core would read AND where specs meant OR.
        unchecked.pop("security", None)
        for item in unchecked.get("paths", {}).values():
            for method in _METHODS:
                if isinstance(item.get(method), dict):
                    item[method].pop("security", None)
        _inline_parameter_schemas(unchecked)
        json_like = {
            media
            for item in spec.get("paths", {}).values()
            for method in _METHODS
            for media in (item.get(method) or {}).get("requestBody", {}).get("content", {})
            if media.endswith("+json")
        }
        text_like = {
            media
            for item in spec.get("paths", {}).values()
            for method in _METHODS
            for media in (item.get(method) or {}).get("requestBody", {}).get("content", {})
            if media.startswith("text/")
        }
        # openapi-core hands unknown media types over as bytes; a `text/*` body (Xano's text/x-xanoscript) is a string.
        deserializers = {media: _json_bytes for media in json_like} | {media: _text for media in text_like}
        config = Config(extra_media_type_deserializers=deserializers)
        document = _Document(name, spec, OpenAPI.from_dict(unchecked, config=config))
        for server in spec.get("servers") or [{"url": "/"}]:
            parts = urlsplit(server["url"])
            origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
            document.servers.append((origin, parts.path.rstrip("/")))
        return document

    def errors(self, request: RecordedRequest) -> list[str]:
        """Everything wrong with `request`, one line each; empty when it is a documented call."""
        parts = urlsplit(request.url)
        path = unquote(parts.path)
        query = ImmutableMultiDict(parse_qsl(parts.query, keep_blank_values=True))
        headers = Headers(list(request.headers.items()))
        content_type = headers.get("content-type", "")
        problems: list[str] = []
        defined_in: list[str] = []
        for document in self._documents:
            server = next(((o, b) for o, b in document.servers if path == b or path.startswith(b + "/")), None)
            if server is None:
                continue
            origin, _base = server
            fake = _FakeOpenApiRequest(
                host_url=origin or f"{parts.scheme}://{parts.netloc}",
                path=path,
                method=request.method.lower(),
                parameters=RequestParameters(query=query, header=headers, cookie=ImmutableMultiDict()),
                content_type=content_type,
                body=request.body or None,
            )
            found = list(document.api.iter_request_errors(fake))
            if any(isinstance(e, _NOT_DEFINED) for e in found):
                continue
            defined_in.append(document.name)
            problems += [f"{document.name}: {_describe(e)}" for e in found]
            problems += [f"{document.name}: {p}" for p in _security_problems(document.spec, fake, headers, query)]
        if not defined_in:
            names = ", ".join(d.name for d in self._documents)
            return [f"{request.method} {path}: no operation in {names} matches this method and path"]
        return problems

    def assert_valid(self, requests: Iterable[RecordedRequest]) -> int:
        """Raise AssertionError listing every invalid request; return how many were checked."""
        checked = 0
        failures: list[str] = []
        for request in requests:
            checked += 1
            failures += [f"{request}\n    {e}" for e in self.errors(request)]
        if failures:
            raise AssertionError("requests not valid against the OpenAPI documents:\n" + "\n".join(failures))
        return checked


def _inline_parameter_schemas(spec: dict[str, Any]) -> None:
    """Give each parameter its own copy of a referenced schema, without `readOnly`.

    readOnly only means something for properties of a body, but a spec may reference an identifier schema marked
    readOnly from a path parameter (Cloudflare's `account_id`), and openapi-core then rejects every request.
    """
    for item in spec.get("paths", {}).values():
        operations = [item] + [item[m] for m in _METHODS if isinstance(item.get(m), dict)]
        for holder in operations:
            for parameter in holder.get("parameters", []):
                if "schema" in parameter:
                    schema = _resolve(spec, parameter["schema"])
                    parameter["schema"] = {k: v for k, v in schema.items() if k != "readOnly"}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and str(schema["$ref"]).startswith("#/") and seen < 32:
        target: Any = spec
        for key in str(schema["$ref"])[2:].split("/"):
            target = target[key]
        schema, seen = target, seen + 1
    return dict(schema)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _json_bytes(value: bytes | str) -> Any:
    return json.loads(value)


def _describe(error: Exception) -> str:
    text = str(error)
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    if details:
        text += " | " + "; ".join(getattr(d, "message", str(d)) for d in details)
    elif cause is not None and str(cause) not in text:
        text += f" | {cause}"
    return text


def _security_problems(
    spec: dict[str, Any], request: _FakeOpenApiRequest, headers: Headers, query: ImmutableMultiDict[str, str]
) -> list[str]:
    operation = _operation(spec, request)
    requirements = operation.get("security", spec.get("security")) if operation is not None else None
    if not requirements:
        return []
    schemes = spec.get("components", {}).get("securitySchemes", {})
    named = sorted({name for requirement in requirements for name in requirement})
    if any(_scheme_present(schemes.get(name, {}), headers, query) for name in named):
        return []
    return [f"no credentials for any of the security schemes {named}"]


def _scheme_present(scheme: Mapping[str, Any], headers: Headers, query: ImmutableMultiDict[str, str]) -> bool:
    if scheme.get("type") == "http":
        auth = headers.get("authorization", "")
        return auth.lower().startswith(str(scheme.get("scheme", "")).lower() + " ")
    if scheme.get("type") == "apiKey":
        name = str(scheme.get("name", ""))
        return bool(headers.get(name)) if scheme.get("in") == "header" else bool(query.get(name))
    return False


def _operation(spec: dict[str, Any], request: _FakeOpenApiRequest) -> dict[str, Any] | None:
    """The operation the path matches, by template (only needed for its `security`)."""
    # Literal templates first, so `/queues/stats` would win over `/queues/{queue_id}`.
    templates = sorted(spec.get("paths", {}).items(), key=lambda pair: pair[0].count("{"))
    for base in (urlsplit(s.get("url", "/")).path.rstrip("/") for s in spec.get("servers") or [{"url": "/"}]):
        if not request.path.startswith(base):
            continue
        actual = request.path[len(base):].strip("/").split("/")
        for template, item in templates:
            pattern = template.strip("/").split("/")
            if len(pattern) == len(actual) and all(
                p == a or (p.startswith("{") and p.endswith("}")) for p, a in zip(pattern, actual, strict=True)
            ):
                operation = item.get(request.method)
                if isinstance(operation, dict):
                    return operation
    return None
