"""One place that knows every secret value of a run, so anything printed or written can be scrubbed of them.

`Redactor.redact` masks whole texts (trace lines, reports); `Redactor.excerpt` is the one way a text that came
from the network (an error body, a header, a message a server echoed) is shortened for a message: it masks the
secrets first and cuts afterwards, so a secret straddling the cut cannot leave its first characters behind.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable

MASK = "***"
ELLIPSIS = "…"
# Header and field names whose values are always secret, whatever they hold.
SECRET_NAMES = re.compile(r"(authorization|token|secret|password|api[_-]?key|credentials|cookie)", re.I)
_MIN_SECRET_LEN = 4  # shorter strings would mask ordinary words

# Backslash escapes that JSON, JavaScript and Python reprs use for single characters.
_SHORT_ESCAPES = {'"': r'\"', "\\": r"\\", "/": r"\/", "'": r"\'", "\n": r"\n", "\r": r"\r", "\t": r"\t",
                  "\b": r"\b", "\f": r"\f"}
_CONTROL_ESCAPES = {c: e for c, e in _SHORT_ESCAPES.items() if unicodedata.category(c) == "Cc"}
_HTML_NAMED = {"&": ("amp",), "<": ("lt",), ">": ("gt",), '"': ("quot",), "'": ("apos",)}
# The start of an escape that a cut went through: `%2`, `\\u00`, `&#x4`...
_PARTIAL_ESCAPE = r"(?:%[0-9a-fA-F]?|\\(?:[uU][0-9a-fA-F]{0,7}|x[0-9a-fA-F]?)?|&#?[xX]?[0-9a-fA-F]*|&[a-z]*)?"
_LONGEST_ESCAPE = 16  # characters one character of a secret can take once encoded (`&#x0001F600;`, `\\U0001f600`)
# Format characters that reorder or hide text (bidi overrides and isolates, zero-width marks): shown escaped,
# so a message cannot display differently from what it holds.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._originals: set[str] = set()
        self._encoded: re.Pattern[str] | None = None
        self._cut_tail: re.Pattern[str] | None = None
        self._longest = 0
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LEN and secret not in self._originals:
            self._originals.add(secret)
            self._secrets.add(secret)
            # The escaped forms a secret takes inside JSON, reprs and library error messages.
            for form in (json.dumps(secret)[1:-1], repr(secret)[1:-1], repr(secret.encode("utf-8"))[2:-1]):
                if len(form) >= _MIN_SECRET_LEN:
                    self._secrets.add(form)
            # Every other encoding a server may echo it in (URL-encoded, `\u`-escaped, HTML references, mixed):
            # one pattern for them all, rebuilt here and swapped in whole, so a reader never sees half of it.
            by_length = sorted(self._originals, key=len, reverse=True)
            self._encoded = re.compile("|".join(_encoded_pattern(s) for s in by_length))
            self._cut_tail = re.compile("(?:" + "|".join(_cut_tail_pattern(s) for s in by_length) + ")"
                                        + _PARTIAL_ESCAPE + r"\Z")
            self._longest = max(self._longest, len(secret))

    def redact(self, text: str) -> str:
        # Longest first, so a secret that contains another is masked whole.
        for s in sorted(self._secrets, key=len, reverse=True):
            if s in text:
                text = text.replace(s, MASK)
        encoded = self._encoded
        if encoded is not None and any(c in text for c in "%\\&+"):
            text = encoded.sub(MASK, text)
        return text

    def excerpt(self, text: str, limit: int | None = None) -> str:
        """`text` from the network, fit for a one-line message: secrets masked, then blanks folded (line breaks
        included: a server must not start lines of its own in a CI log) and control characters escaped, then cut
        to `limit` characters (an ellipsis says it was). The order is the point:
        masking after the cut would miss a secret the cut went through, and leave its first characters.

        A text that already ends in the first characters of a secret (a body cut short before it reached us) has
        them masked too."""
        text = self._mask_cut_tail(self.redact(text))
        text = self.redact(" ".join(text.split()))  # folding blanks can join a secret split across lines
        text = printable(text)
        if limit is not None and len(text) > limit:
            text = text[:max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS
        return text

    def redact_headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in headers:
            out[name] = MASK if SECRET_NAMES.search(name) else self.redact(value)
        return out

    def _mask_cut_tail(self, text: str) -> str:
        """Mask the first characters of a secret (4 or more, in any encoding) that end `text`."""
        pattern = self._cut_tail
        if pattern is None:
            return text
        start = max(len(text) - _LONGEST_ESCAPE * self._longest, 0)
        match = pattern.search(text, start)
        return text[:match.start()] + MASK if match else text


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character escaped (`\\x1b`, `\\r`, `\\u202e`...): what a server sent can then
    neither move the cursor, recolour or rewrite a terminal line, nor start a new line in a CI log that a runner
    would read as its own command. `keep_newlines` keeps line breaks (`\\n`) for texts meant to span lines."""
    if text.isprintable():
        return text
    out = []
    for c in text:
        if (c == "\n" and keep_newlines) or unicodedata.category(c) not in _ESCAPED_CATEGORIES:
            out.append(c)
        elif c in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[c])
        elif ord(c) <= 0xFF:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(f"\\u{ord(c):04x}")
    return "".join(out)


def _encoded_pattern(secret: str) -> str:
    """A pattern matching `secret` with any of its characters written in any escape a server or library uses."""
    return "".join(_character_pattern(c) for c in secret)


def _cut_tail_pattern(secret: str) -> str:
    """The first 4 or more characters of `secret`, encoded as `_encoded_pattern` allows."""
    head = "".join(_character_pattern(c) for c in secret[:_MIN_SECRET_LEN])
    rest = ""
    for c in reversed(secret[_MIN_SECRET_LEN:-1]):
        rest = f"(?:{_character_pattern(c)}{rest})?"
    return head + rest


def _character_pattern(c: str) -> str:
    code = ord(c)
    utf8 = c.encode("utf-8")
    forms = {re.escape(c),
             "".join("%" + _hex(f"{b:02x}") for b in utf8),  # URL-encoded
             "".join(r"\\x" + _hex(f"{b:02x}") for b in utf8),  # inside a bytes repr
             rf"&#0*{code};", rf"&#[xX]0*{_hex(f'{code:x}')};"}  # HTML character references
    if code <= 0xFFFF:
        forms.add(r"\\u" + _hex(f"{code:04x}"))
    else:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms |= {r"\\u" + _hex(f"{high:04x}") + r"\\u" + _hex(f"{low:04x}"), r"\\U" + _hex(f"{code:08x}")}
    if code <= 0xFF:
        forms.add(r"\\x" + _hex(f"{code:02x}"))
    if c in _SHORT_ESCAPES:
        forms.add(re.escape(_SHORT_ESCAPES[c]))
    if c == " ":
        forms.add(r"\+")  # a form-encoded space
    forms |= {f"&{name};" for name in _HTML_NAMED.get(c, ())}
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


def _hex(digits: str) -> str:
    """Hex digits in either case: encoders differ (`%2F` and `%2f`, `\\u00E9` and `\\u00e9`)."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in digits)
