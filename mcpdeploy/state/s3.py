"""The state in a bucket of S3-compatible storage (Cloudflare R2, AWS S3, MinIO), through boto3.

Objects, under `[state] prefix`:

    locks/<env>.lock                  the lease; taken with `If-None-Match: *`, renewed, taken over and released
                                      with `If-Match: <etag>`, so of two runners only one can hold it
    journal/<env>/<run_id>.jsonl      one object per run, written only by that run (created with
                                      `If-None-Match: *`, then rewritten with `If-Match`), so concurrent runs never
                                      overwrite each other; run ids start with the start time, so listing them in
                                      key order lists the runs in the order they started
    pushed-secrets/<env>.json         keyed fingerprints of the last secrets push, never a value

Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
AWS_PROFILE, an instance role), never from mcpdeploy.toml. boto3 is imported only when this backend is used: it is
an optional extra (`mcpdeploy[s3]`) and costs a few hundred milliseconds to import.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from mcpdeploy.errors import ApiError, McpdeployError, ServiceUnreachable, UsageError
from mcpdeploy.state.backend import JOURNAL, Conflict, StateBackend, Stored

if TYPE_CHECKING:
    from mcpdeploy.project.settings import StateSettings

SERVICE = "state backend (S3)"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
ATTEMPTS = 3  # botocore retries 5xx, throttling and dropped connections; a conditional write is checked after
_PARALLEL_READS = 8
# The answers a condition that did not hold gets: 412 from S3 and R2, 409 from S3 when two conditional writes
# race, and 404 for a conditional write on an object that is gone.
_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_T = TypeVar("_T")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str = ""  # without slashes at either end
    endpoint_url: str | None = None  # None: AWS itself; R2: https://<account id>.r2.cloudflarestorage.com
    region: str | None = None  # R2: "auto"

    @classmethod
    def from_settings(cls, state: StateSettings) -> S3Location:
        if not state.bucket:
            raise UsageError("[state] backend = \"s3\" needs a bucket.",
                             hint="Set [state] bucket in mcpdeploy.toml, or MCPDEPLOY_STATE_BUCKET.")
        return cls(state.bucket, state.prefix.strip("/"), state.endpoint_url or None, state.region or None)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def url(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.key(name)}"


def journal_run_name(environment: str, run_id: str) -> str:
    return f"{JOURNAL}/{environment}/{run_id}.jsonl"


class S3Backend(StateBackend):
    kind = "s3"

    def __init__(self, location: S3Location, *, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT, attempts: int = ATTEMPTS) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise UsageError("the s3 state backend needs boto3, which is not installed.",
                             hint="Install it with: python3 -m pip install 'mcpdeploy[s3]'") from exc
        self.location = location
        config = Config(
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            # Path-style URLs work on every S3-compatible store; virtual hosts need DNS per bucket.
            s3={"addressing_style": "path"} if location.endpoint_url else {},
            # Checksums only where the API requires them: several S3-compatible stores refuse the newer
            # default ones (CRC32 trailers).
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
            user_agent_extra="mcpdeploy",
        )
        self.client: Any = boto3.session.Session().client(
            "s3", endpoint_url=location.endpoint_url, region_name=location.region, config=config)
        self.requests = 0  # sent, retries included: the figure the README gives per run
        self._count_lock = threading.Lock()
        self.client.meta.events.register("before-send.s3", self._count)
        self._runs: dict[str, tuple[bytes, str | None]] = {}  # journal objects this run writes: content, ETag

    def _count(self, **_: Any) -> None:
        with self._count_lock:
            self.requests += 1

    def describe(self, name: str) -> str:
        return self.location.url(name)

    # --- small objects ---

    def read(self, name: str) -> Stored | None:
        def get() -> Stored | None:
            try:
                answer = self.client.get_object(Bucket=self.location.bucket, Key=self.location.key(name))
            except self.client.exceptions.NoSuchKey:
                return None
            return Stored(answer["Body"].read(), str(answer["ETag"]))

        return self._call("GET", name, get)

    def create(self, name: str, data: bytes) -> str:
        return self._put(name, data, IfNoneMatch="*")

    def replace(self, name: str, data: bytes, version: str) -> str:
        return self._put(name, data, IfMatch=version)

    def delete(self, name: str, version: str | None = None) -> None:
        condition = {"IfMatch": version} if version is not None else {}
        self._call("DELETE", name, lambda: self.client.delete_object(
            Bucket=self.location.bucket, Key=self.location.key(name), **condition), conditional=version is not None)

    def put(self, name: str, data: bytes) -> None:
        self._put(name, data)

    def list_names(self, folder: str) -> list[str]:
        """Names under `folder` (ending in "/"), sorted."""
        prefix = self.location.key(folder)
        strip = len(self.location.key(""))

        def listing() -> list[str]:
            names: list[str] = []
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.location.bucket, Prefix=prefix):
                names += [str(item["Key"])[strip:] for item in page.get("Contents", [])]
            return sorted(names)

        return self._call("LIST", folder, listing)

    def _put(self, name: str, data: bytes, **condition: str) -> str:
        content_type = "application/x-ndjson" if name.endswith(".jsonl") else "application/json"

        def send() -> str:
            answer = self.client.put_object(Bucket=self.location.bucket, Key=self.location.key(name), Body=data,
                                            ContentType=content_type, **condition)
            return str(answer["ETag"])

        return self._call("PUT", name, send, conditional=bool(condition))

    # --- the journal ---

    def journal_location(self, environment: str) -> str:
        return self.location.url(f"{JOURNAL}/{environment}/")

    def append_event(self, environment: str, run_id: str, line: bytes) -> None:
        name = journal_run_name(environment, run_id)
        before, etag = self._runs.get(name, (b"", None))
        content = before + line
        try:
            new_etag = self.create(name, content) if etag is None else self.replace(name, content, etag)
        except Conflict:
            # Sent twice (the first answer was lost, botocore sent it again): the object holds our lines.
            current = self.read(name)
            if current is None or current.data != content:
                raise McpdeployError(f"the journal object {self.describe(name)} was changed by someone else; "
                                     "this run's record stops here.",
                                     hint="Each run writes only its own object: check who else writes under "
                                          "this prefix.") from None
            new_etag = current.version
        self._runs[name] = (content, new_etag)

    def journal_sources(self, environment: str) -> Iterator[tuple[str, bytes]]:
        names = [n for n in self.list_names(f"{JOURNAL}/{environment}/") if n.endswith(".jsonl")]
        with ThreadPoolExecutor(max_workers=_PARALLEL_READS) as pool:
            pieces = [(self.describe(name), stored.data)
                      for name, stored in zip(names, pool.map(self.read, names), strict=True)
                      if stored is not None]  # None: deleted between the listing and the read
        # Object names sort by run id, whose clock has whole seconds: runs are put in the order they started.
        yield from sorted(pieces, key=lambda piece: started(piece[1]))

    def close(self) -> None:
        self.client.close()

    # --- errors ---

    def _call(self, method: str, name: str, action: Callable[[], _T], *, conditional: bool = False) -> _T:
        """Run one request, turning botocore's exceptions into ours: a condition that did not hold is
        Conflict; an unreachable store exit 7; a refusal exit 6, naming the object and never a credential."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            HTTPClientError,
            NoCredentialsError,
        )

        url = self.describe(name)
        try:
            return action()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if code in _CONFLICT_CODES or status == 412 or (conditional and (code in _MISSING_CODES or status == 404)):
                raise Conflict(name) from None
            raise ApiError(service=SERVICE, method=method, url=url, status=status, code=code or None,
                           detail=str(error.get("Message") or code or "refused"), hint=_hint(code, status)) from None
        except NoCredentialsError:
            raise UsageError("no credentials for the S3 state backend.",
                             hint="Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (for R2: an R2 API token's "
                                  "Access Key ID and Secret Access Key), or AWS_PROFILE.") from None
        except (ConnectionError, HTTPClientError) as exc:
            raise ServiceUnreachable(
                f"{SERVICE}: {method} {url} could not be sent ({type(exc).__name__}).",
                hint=f"Check [state] endpoint_url ({self.location.endpoint_url or 'AWS'}) and the network; "
                     "the run stopped before changing anything that needs the backend.") from None
        except BotoCoreError as exc:
            raise McpdeployError(f"{SERVICE}: {method} {url} failed: {exc}") from None


def _hint(code: str, status: int) -> str | None:
    if code == "NoSuchBucket":
        return "Create the bucket first, or correct [state] bucket / MCPDEPLOY_STATE_BUCKET."
    if status in (401, 403):
        return ("The credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY need to read, write, delete and list "
                "objects under [state] prefix in that bucket (for R2: an API token with Object Read & Write).")
    return None


def started(content: bytes) -> tuple[str, int]:
    """When a run started, from its first event: the time, then the nanoseconds (absent from older runs)."""
    try:
        event = json.loads(content.split(b"\n", 1)[0])
    except ValueError:
        return "", 0
    if not isinstance(event, dict):
        return "", 0
    started = event.get("started_ns")
    return str(event.get("time", "")), started if isinstance(started, int) else 0
