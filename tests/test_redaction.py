"""Secrets are masked in every form they can take in output: raw, JSON-escaped, and inside reprs."""

from __future__ import annotations

import json

from mcpdeploy.redaction import MASK, Redactor

SECRET = 'key-"quoted"\\back\nline'


def test_a_secret_is_masked_raw_escaped_in_json_and_inside_a_bytes_repr() -> None:
    redactor = Redactor([SECRET])
    for text in (SECRET, json.dumps({"v": SECRET}), f"Illegal header value {SECRET.encode()!r}", repr(SECRET)):
        masked = redactor.redact(text)
        assert MASK in masked
        assert "quoted" not in masked and "back" not in masked
