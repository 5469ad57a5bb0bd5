"""A real S3-compatible server for the state backend's tests: moto's server mode, started once per test session on
127.0.0.1 and stopped at the end. It implements conditional writes (`If-None-Match: *`, `If-Match`) as S3 and R2
do. A second one, started only for the tests that need it, checks signatures and IAM policies, so that access
denied is the server's own answer. (That one is not used for everything: its signature check rejects any list
whose prefix holds a "/", which real S3 and R2 accept.)

If it cannot start, the tests that need it fail: a state backend left untested must not look green."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 30.0
# Moto lets this many requests through unauthenticated, then checks every request's signature and policy: just
# enough to create the first user and its key, through which everything else is done.
UNAUTHENTICATED_SETUP_REQUESTS = 3
REGION = "us-east-1"
_ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
_READ_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]}
_buckets = itertools.count(1)


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class S3Server:
    url: str
    admin: Keys  # may do anything
    reader: Keys  # may only read and list

    def client(self, keys: Keys | None = None):  # type: ignore[no-untyped-def]
        import boto3

        keys = keys or self.admin
        return boto3.client("s3", endpoint_url=self.url, region_name=REGION, aws_access_key_id=keys.access_key_id,
                            aws_secret_access_key=keys.secret_access_key)

    def objects(self, bucket: str) -> dict[str, bytes]:
        s3 = self.client()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _moto(log: Path, *, with_iam: bool) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    if with_iam:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(UNAUTHENTICATED_SETUP_REQUESTS)
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(server, url, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """Open to any credentials, as a development MinIO is."""
    with _moto(tmp_path_factory.mktemp("moto") / "server.log", with_iam=False) as url:
        keys = Keys("AKIAMCPDEPLOYTESTS01", "test-secret-access-key")
        yield S3Server(url, keys, keys)


@pytest.fixture(scope="session")
def s3_server_with_iam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """Every request signed and checked against the user's policy: `admin` may do anything, `reader` only read."""
    import boto3

    with _moto(tmp_path_factory.mktemp("moto-iam") / "server.log", with_iam=True) as url:
        iam = boto3.client("iam", endpoint_url=url, region_name=REGION, aws_access_key_id="setup",
                           aws_secret_access_key="setup")
        admin = _user(iam, "mcpdeploy-ci", _ALLOW_ALL)
        iam = boto3.client("iam", endpoint_url=url, region_name=REGION, aws_access_key_id=admin.access_key_id,
                           aws_secret_access_key=admin.secret_access_key)
        reader = _user(iam, "auditor", _READ_ONLY)
        yield S3Server(url, admin, reader)


def _wait_until_up(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the S3 test server (moto) exited with {server.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the S3 test server (moto) did not answer within {START_TIMEOUT:.0f}s: {log.read_text()[-2000:]}")


def _user(iam, name: str, policy: dict[str, object]) -> Keys:  # type: ignore[no-untyped-def]
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="state", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


@dataclass(frozen=True)
class SharedState:
    server: S3Server
    bucket: str
    prefix: str

    def objects(self) -> dict[str, bytes]:
        return self.server.objects(self.bucket)


def use_keys(monkeypatch: pytest.MonkeyPatch, keys: Keys) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret_access_key)


def _shared_state(server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SharedState:
    bucket = f"team-state-{next(_buckets)}"
    server.client().create_bucket(Bucket=bucket)
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    # No one's ~/.aws may take part.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    use_keys(monkeypatch, server.admin)
    monkeypatch.setenv("MCPDEPLOY_STATE_BACKEND", "s3")
    monkeypatch.setenv("MCPDEPLOY_STATE_BUCKET", bucket)
    monkeypatch.setenv("MCPDEPLOY_STATE_PREFIX", "usage-mcp")
    monkeypatch.setenv("MCPDEPLOY_STATE_ENDPOINT_URL", server.url)
    monkeypatch.setenv("MCPDEPLOY_STATE_REGION", REGION)
    return SharedState(server, bucket, "usage-mcp")


@pytest.fixture
def shared_state(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SharedState:
    """A fresh bucket, and the variables a CI job would set to keep mcpdeploy's state there."""
    return _shared_state(s3_server, monkeypatch, tmp_path)


@pytest.fixture
def shared_state_with_iam(s3_server_with_iam: S3Server, monkeypatch: pytest.MonkeyPatch,
                          tmp_path: Path) -> SharedState:
    """The same on the server that checks credentials and policies."""
    return _shared_state(s3_server_with_iam, monkeypatch, tmp_path)
