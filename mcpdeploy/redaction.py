"""One place that knows every secret value of a run, so anything printed or written can be scrubbed of them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

MASK = "***"
# Header and field names whose values are always secret, whatever they hold.
SECRET_NAMES = re.compile(r"(authorization|token|secret|password|api[_-]?key|credentials|cookie)", re.I)
_MIN_SECRET_LEN = 4  # shorter strings would mask ordinary words


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            self._secrets.add(secret)
            # The escaped forms a secret takes inside JSON, reprs and library error messages.
            for form in (json.dumps(secret)[1:-1], repr(secret)[1:-1], repr(secret.encode("utf-8"))[2:-1]):
                if len(form) >= _MIN_SECRET_LEN:
                    self._secrets.add(form)

    def redact(self, text: str) -> str:
        # Longest first, so a secret that contains another is masked whole.
        for s in sorted(self._secrets, key=len, reverse=True):
            if s in text:
                text = text.replace(s, MASK)
        return text

    def redact_headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in headers:
            out[name] = MASK if SECRET_NAMES.search(name) else self.redact(value)
        return out
