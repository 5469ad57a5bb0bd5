"""Client for the Cloudflare v4 API calls mcpdeploy needs: queues and their consumers, Worker versions,
deployments and secrets, token verification. Shaped by Cloudflare's API documentation:

- every answer is a v4 envelope, and `success: false` is an error even on HTTP 200;
- page-based lists are read while `page * per_page < total_count`, never judged by a full page;
- creating a queue is not idempotent in the API, so it is get-by-name, create, and on any failure look again;
- secret values go to the redactor before they are sent, so no trace or error can hold them.
"""

from __future__ import annotations

import json
import re
import secrets as random_tokens
import threading
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, RootModel, ValidationError

from mcpdeploy.errors import ApiError, ServiceError, ServiceUnreachable, UsageError
from mcpdeploy.providers.cloudflare_errors import (
    ACCOUNT_TOKEN_ON_USER_VERIFY,
    CONSUMER_EXISTS,
    HINTS,
    INVALID_QUEUE_NAME,
    QUEUE_NAME_TAKEN,
    SERVICE,
    WORKER_NOT_FOUND,
    CloudflareApiError,
    CloudflareErrorItem,
    ConsumerConflict,
    LatestVersionNotDeployed,
    SecretsChangedSinceVersion,
    error_for,
    parse_error_items,
)
from mcpdeploy.providers.cloudflare_models import (
    Consumer,
    ConsumerSettings,
    Deployment,
    Queue,
    TokenStatus,
    WorkerVersion,
    annotation_message,
)
from mcpdeploy.providers.http import DETAIL_LIMIT, HttpOptions, Response, ServiceClient
from mcpdeploy.redaction import Redactor

QUEUE_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
VERSIONS_PER_PAGE = 50
MERGE_PATCH_JSON = "application/merge-patch+json"
# 4xx answers carry the envelope we want to read; 429 stays with the shared retry policy.
_ENVELOPE_STATUSES = tuple(s for s in range(400, 500) if s != 429)
_MAX_PAGES = 10_000
# New versions keep the Worker's secrets, as `wrangler versions upload` does.
_KEEP_BINDINGS = ["secret_text", "secret_key"]
DEFAULT_COMPATIBILITY_DATE = "2025-01-01"


Model = TypeVar("Model", bound=BaseModel)


class _List(RootModel[list[Any]]):
    pass


class _Deployments(BaseModel):
    deployments: list[Deployment] = []


class CloudflareClient(ServiceClient):
    service = SERVICE

    def __init__(self, base_url: str, token: str, account_id: str, options: HttpOptions | None = None) -> None:
        if not account_id:
            raise UsageError("CLOUDFLARE_ACCOUNT_ID is not set.",
                             hint="Set it explicitly: with several accounts, a guess could deploy to the wrong one.")
        super().__init__(base_url, token, options)
        self.account_id = account_id
        # The call an unexpected answer is named by, per thread: planning reads several things at once.
        self._calls = threading.local()

    @property
    def _last_call(self) -> tuple[str, str]:
        call: tuple[str, str] = getattr(self._calls, "last", ("GET", self.base_url))
        return call

    @_last_call.setter
    def _last_call(self, call: tuple[str, str]) -> None:
        self._calls.last = call

    def __enter__(self) -> CloudflareClient:
        return self

    # -- envelope ---------------------------------------------------------------------------------------------

    def parse_error(self, response: Response) -> tuple[str | None, str]:
        try:
            items = parse_error_items(response.json())
        except ValueError:
            items = []
        if not items:
            return None, _non_json_detail(response, self.options.redactor)
        first = next((i.code for i in items if i.code is not None), None)
        return (str(first) if first is not None else None), "; ".join(str(i) for i in items)

    def hint_for(self, status: int, code: str | None) -> str | None:
        return HINTS.get(int(code)) if code and code.isdigit() else None

    def _envelope(self, method: str, path: str, **request: Any) -> dict[str, Any]:
        """The whole v4 envelope of a successful call; any failure raised as a CloudflareApiError."""
        response = self.send(method, path, ok_statuses=_ENVELOPE_STATUSES, **request)
        url = self._safe(str(response.request.url))
        if response.status_code in (204, 205) and not response.content:
            return {"success": True, "errors": [], "messages": [], "result": None}
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "success" not in body:
            raise ApiError(service=SERVICE, method=method, url=url, status=response.status_code, code=None,
                           detail="malformed response (not a v4 envelope): "
                           + _non_json_detail(response, self.options.redactor))
        if body.get("success") is not True or not response.is_success:
            items = parse_error_items(body) or [CloudflareErrorItem(None, "success: false with no errors[]")]
            items = [CloudflareErrorItem(i.code, self.excerpt(i.message, DETAIL_LIMIT)) for i in items]
            raise error_for(method=method, url=url, status=response.status_code, errors=items)
        return body

    def _result(self, method: str, path: str, **request: Any) -> Any:
        self._last_call = (method, self._safe(self.url(path)))
        return self._envelope(method, path, **request).get("result")

    def _parse(self, model: type[Model], raw: Any) -> Model:
        """A model of what the last call answered; another shape is an ApiError naming the call (exit 6)."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            method, url = self._last_call
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "result"
            raise ApiError(service=SERVICE, method=method, url=url, status=200, code=None,
                           detail=f"unexpected answer for a {model.__name__}: {where}: {first['msg']} "
                                  f"(got {type(first.get('input')).__name__})",
                           hint="Cloudflare answered in a shape mcpdeploy does not know; nothing more was sent. "
                                "Check CLOUDFLARE_API_BASE_URL, then report the call above.") from None

    def _paged(self, path: str, params: Mapping[str, Any] | None = None, *, items_key: str | None = None,
               per_page: int | None = None) -> list[dict[str, Any]]:
        """Every item of a page-based list: more pages while page * per_page < total_count (wrangler's rule)."""
        items: list[dict[str, Any]] = []
        page = 1
        for _ in range(_MAX_PAGES):
            query = {**(params or {}), "page": page, **({"per_page": per_page} if per_page else {})}
            self._last_call = ("GET", self._safe(self.url(path)))
            body = self._envelope("GET", path, params=query)
            result = body.get("result")
            batch = result.get(items_key) if items_key and isinstance(result, dict) else result
            if not isinstance(batch, list):
                raise ApiError(service=SERVICE, method="GET", url=self._safe(self.url(path)), status=200, code=None,
                               detail=f"expected a list in result{'.' + items_key if items_key else ''}")
            items.extend(batch)
            info = body.get("result_info")
            info = info if isinstance(info, dict) else {}
            total, size, at = info.get("total_count"), info.get("per_page"), info.get("page", page)
            if not batch or not isinstance(total, int) or not isinstance(size, int) or not isinstance(at, int):
                return items
            if size <= 0 or at * size >= total:
                return items
            page += 1
        raise ApiError(service=SERVICE, method="GET", url=self._safe(self.url(path)), status=200, code=None,
                       detail=f"more than {_MAX_PAGES} pages")

    def _account(self, path: str) -> str:
        return f"accounts/{self.account_id}/{path}"

    def _script(self, script: str, path: str = "") -> str:
        return self._account(f"workers/scripts/{quote(script, safe='')}{path}")

    # -- token ------------------------------------------------------------------------------------------------

    def verify_token(self) -> TokenStatus:
        """Verify the token as a user token; on code 1000 (it is account-owned) verify it on the account."""
        try:
            result = self._result("GET", "user/tokens/verify")
            return self._parse(TokenStatus, {**result, "owner": "user"} if isinstance(result, dict) else result)
        except CloudflareApiError as exc:
            if ACCOUNT_TOKEN_ON_USER_VERIFY not in exc.codes:
                raise
        result = self._result("GET", self._account("tokens/verify"))
        return self._parse(TokenStatus, {**result, "owner": "account"} if isinstance(result, dict) else result)

    # -- queues -----------------------------------------------------------------------------------------------

    def find_queue(self, name: str, *, use_name_filter: bool = True) -> Queue | None:
        """The queue named exactly `name`. `?name=` is undocumented: it narrows the list, but what it matches is
        not known, so names are compared here. Without `use_name_filter`, every queue of the account is read."""
        for raw in self._paged(self._account("queues"), {"name": name} if use_name_filter else None):
            if isinstance(raw, dict) and raw.get("queue_name") == name:
                return self._parse(Queue, raw)
        return None

    def ensure_queue(self, name: str) -> tuple[Queue, bool]:
        """The queue, and whether this call created it. A create that fails because the queue appeared
        meanwhile (a race answered 11009, a dropped answer) is not an error: the second look-up finds it."""
        if not QUEUE_NAME.match(name):
            raise UsageError(f"queue name {name!r} is not valid", hint=HINTS[INVALID_QUEUE_NAME])
        existing = self.find_queue(name)
        if existing is not None:
            return existing, False
        try:
            created = self._result("POST", self._account("queues"), json_body={"queue_name": name})
        except ServiceError as exc:
            if isinstance(exc, CloudflareApiError) and INVALID_QUEUE_NAME in exc.codes:
                raise
            taken = isinstance(exc, CloudflareApiError) and QUEUE_NAME_TAKEN in exc.codes
            try:
                again = self.find_queue(name)
                if again is None and taken:
                    # The API says the name exists: if the filtered list hides it, the filter is what is wrong.
                    again = self.find_queue(name, use_name_filter=False)
            except ServiceError:
                raise exc from None
            if again is None:
                raise
            # Refused by the API: someone else made it meanwhile. Lost on the way back (the connection dropped):
            # our create most likely made it, and saying so lets `rollback --run` offer to remove it.
            return again, isinstance(exc, ServiceUnreachable)
        return self._parse(Queue, created), True

    def get_queue(self, queue_id: str) -> Queue:
        return self._parse(Queue, self._result("GET", self._account(f"queues/{queue_id}")))

    def delete_queue(self, queue_id: str) -> None:
        # The official spec marks this DELETE's JSON body as required; an empty object satisfies it harmlessly.
        self._envelope("DELETE", self._account(f"queues/{queue_id}"), json_body={})

    # -- consumers --------------------------------------------------------------------------------------------

    def list_consumers(self, queue_id: str) -> list[Consumer]:
        result = self._result("GET", self._account(f"queues/{queue_id}/consumers"))
        return [self._parse(Consumer, c) for c in self._parse(_List, result or []).root]

    def ensure_consumer(
        self, queue_id: str, script_name: str, batch_size: int, max_wait_time_ms: int
    ) -> tuple[Consumer, bool]:
        """The Worker consumer of the queue with these settings, and whether this call changed anything.

        Creates it when missing and updates it when its settings differ. A queue has one Worker consumer; when
        another script holds it, this raises ConsumerConflict (the API's 11004) with what to do.
        """
        settings = {"batch_size": batch_size, "max_wait_time_ms": max_wait_time_ms}
        body = {"type": "worker", "script_name": script_name, "settings": settings}
        workers = [c for c in self.list_consumers(queue_id) if c.type == "worker"]
        mine = next((c for c in workers if c.worker == script_name), None)
        if mine is not None:
            if mine.has_settings(batch_size, max_wait_time_ms):
                return mine, False
            path = self._account(f"queues/{queue_id}/consumers/{mine.consumer_id}")
            # A PUT replaces the consumer: keep what mcpdeploy does not own (dead-letter queue, retries,
            # concurrency), as wrangler sends the whole body too.
            kept = {k: v for k, v in mine.settings.model_dump(exclude_none=True).items() if k not in settings}
            update = {**body, "settings": {**kept, **settings}}
            if mine.dead_letter_queue:
                update["dead_letter_queue"] = mine.dead_letter_queue
            return self._parse(Consumer, self._result("PUT", path, json_body=update)), True
        path = self._account(f"queues/{queue_id}/consumers")
        if workers:
            raise self._consumer_conflict("POST", path, queue_id, script_name, workers[0].worker)
        try:
            return self._parse(Consumer, self._result("POST", path, json_body=body)), True
        except CloudflareApiError as exc:
            if CONSUMER_EXISTS not in exc.codes:
                raise
            raise self._consumer_conflict("POST", path, queue_id, script_name, None, exc.status) from exc

    def _consumer_conflict(self, method: str, path: str, queue_id: str, script: str, holder: str | None,
                           status: int = 200) -> ConsumerConflict:
        held_by = f"the Worker {holder!r}" if holder else "another Worker"
        item = CloudflareErrorItem(CONSUMER_EXISTS, f"queue {queue_id} is already consumed by {held_by}, so "
                                                    f"{script!r} cannot be added as its consumer")
        return ConsumerConflict(method=method, url=self._safe(self.url(path)), status=status, errors=[item])

    # -- Worker scripts, versions, deployments ----------------------------------------------------------------

    def script_exists(self, script: str) -> bool:
        try:
            self._envelope("GET", self._script(script, "/script-settings"))
        except CloudflareApiError as exc:
            if WORKER_NOT_FOUND in exc.codes or (exc.status == 404 and not exc.codes):
                return False
            raise
        return True

    def list_versions(self, script: str) -> list[WorkerVersion]:
        """Every version, newest first (as the API lists them)."""
        raw = self._paged(self._script(script, "/versions"), items_key="items", per_page=VERSIONS_PER_PAGE)
        return [self._parse(WorkerVersion, v) for v in raw]

    def list_deployments(self, script: str) -> list[Deployment]:
        """Newest first, as the API returns them: [0] is the deployment serving traffic."""
        result = self._result("GET", self._script(script, "/deployments"))
        return self._parse(_Deployments, result or {}).deployments

    def create_deployment(self, script: str, version_id: str, message: str, force: bool = False) -> Deployment:
        """Send 100% of traffic to `version_id`. Raises SecretsChangedSinceVersion (10220) when the secrets changed
        since that version, unless `force` (then `?force=true` deploys it with its older secrets)."""
        body = {
            "strategy": "percentage",
            "versions": [{"version_id": version_id, "percentage": 100}],
            "annotations": {"workers/message": annotation_message(message)},
        }
        params = {"force": True} if force else None
        return self._parse(Deployment,
            self._result("POST", self._script(script, "/deployments"), json_body=body, params=params)
        )

    def upload_worker(
        self, script: str, content: str, message: str, *, main_module: str = "worker.js",
        compatibility_date: str = DEFAULT_COMPATIBILITY_DATE,
    ) -> tuple[WorkerVersion, Deployment]:
        """Upload `content` as a new version and send it 100% of traffic, as `wrangler deploy` does."""
        metadata = {
            "main_module": main_module,
            "compatibility_date": compatibility_date,
            "keep_bindings": _KEEP_BINDINGS,
            "annotations": {"workers/message": annotation_message(message)},
        }
        boundary = random_tokens.token_hex(16)
        body = _multipart(boundary, [
            ("metadata", None, "application/json", json.dumps(metadata).encode("utf-8")),
            (main_module, main_module, "application/javascript+module", content.encode("utf-8")),
        ])
        uploaded = self._result("POST", self._script(script, "/versions"), content=body,
                                content_type=f"multipart/form-data; boundary={boundary}")
        version = self._parse(WorkerVersion, uploaded)
        return version, self.create_deployment(script, version.id, message)

    # -- secrets ----------------------------------------------------------------------------------------------

    def list_secret_names(self, script: str) -> list[str]:
        """Names only: the API never returns secret values."""
        result = self._result("GET", self._script(script, "/secrets"))
        return sorted(str(s["name"]) for s in result or [] if isinstance(s, dict) and "name" in s)

    def put_secrets_bulk(self, script: str, values: Mapping[str, str]) -> None:
        """Set several secrets in one call: one new version, deployed (PATCH secrets-bulk, JSON merge patch).

        Raises LatestVersionNotDeployed (10214/10215) when the Worker's latest version is not the deployed one.
        """
        if not values:
            return
        for value in values.values():
            self._protect(value)
        body = {"secrets": {name: {"name": name, "text": value, "type": "secret_text"}
                            for name, value in values.items()}}
        self._envelope("PATCH", self._script(script, "/secrets-bulk"), content=_json_bytes(body),
                       content_type=MERGE_PATCH_JSON)

    def delete_secret(self, script: str, name: str) -> None:
        # wrangler always URL-encodes the name and says so with url_encoded=true.
        path = self._script(script, f"/secrets/{quote(name, safe='')}")
        self._envelope("DELETE", path, params={"url_encoded": True})

    def _protect(self, value: str) -> None:
        """Teach the redactor a value in every form it takes on the wire (raw and JSON-escaped)."""
        self.options.redactor.add(value)
        self.options.redactor.add(json.dumps(value)[1:-1])
        self.options.redactor.add(json.dumps(value, ensure_ascii=False)[1:-1])


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def _multipart(boundary: str, parts: list[tuple[str, str | None, str, bytes]]) -> bytes:
    out = b""
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n"
                .encode() + data + b"\r\n")
    return out + f"--{boundary}--\r\n".encode()


def _non_json_detail(response: Response, redactor: Redactor) -> str:
    """What a non-envelope answer was, and its cf-ray id when Cloudflare's edge (a WAF page) sent it."""
    ray = response.headers.get("cf-ray")
    text = redactor.excerpt(response.text, 160)
    kind = redactor.excerpt(response.headers.get("content-type", "no content type"), 80)
    return f"HTTP {response.status_code} {kind}: '{text}'" + (f" (cf-ray {redactor.excerpt(ray, 40)})" if ray else "")


__all__ = [
    "CloudflareApiError", "CloudflareClient", "Consumer", "ConsumerConflict", "ConsumerSettings", "Deployment",
    "LatestVersionNotDeployed", "Queue", "SecretsChangedSinceVersion", "TokenStatus", "WorkerVersion",
]
