"""Secrets are masked in every form they can take in output: raw, JSON-escaped, and inside reprs."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpdeploy.redaction import MASK, Redactor

SECRET = 'key-"quoted"\\back\nline'


def test_a_secret_is_masked_raw_escaped_in_json_and_inside_a_bytes_repr() -> None:
    redactor = Redactor([SECRET])
    for text in (SECRET, json.dumps({"v": SECRET}), f"Illegal header value {SECRET.encode()!r}", repr(SECRET)):
        masked = redactor.redact(text)
        assert MASK in masked
        assert "quoted" not in masked and "back" not in masked


# --- excerpts: masked first, cut afterwards -----------------------------------------------------------------------

SECRET_HEAD = "Zq~"  # no filler below holds a "Z": any 4-character prefix found in an excerpt leaked from the secret
SECRETS = st.text(alphabet=string.ascii_letters + string.digits + "-._~/+=", min_size=8, max_size=40).map(
    lambda s: SECRET_HEAD + s)
FILLER = st.text(alphabet="abcdefghijklmnopqrstuvwxy <>&\"'%\\:;", max_size=30)


def url_encoded(text: str) -> str:
    return quote(text, safe="")


def url_encoded_lower(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), url_encoded(text))


def unicode_escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04X}" for c in text)


def json_escaped(text: str) -> str:
    return json.dumps(text)[1:-1].replace("/", "\\/")  # as servers that escape slashes write it


def html_referenced(text: str) -> str:
    return "".join(f"&#{ord(c)};" if i % 2 else c for i, c in enumerate(text))


# Every encoding the redactor promises to see through; each is applied character by character, so the encoding of a
# prefix is a prefix of the encoding, and a leaked prefix is searched for in the same encoding.
ENCODINGS: dict[str, Callable[[str], str]] = {
    "raw": lambda s: s, "url-encoded": url_encoded, "url-encoded, lower-case hex": url_encoded_lower,
    "\\u-escaped": unicode_escaped, "JSON-escaped": json_escaped, "HTML references": html_referenced,
}


def leaked_prefixes(text: str, secret: str) -> list[str]:
    """Every encoded prefix of `secret` of 4 characters or more found in `text`."""
    return [f"{name} {encode(secret[:n])!r}" for name, encode in ENCODINGS.items()
            for n in range(4, len(secret) + 1) if encode(secret[:n]) in text]


@given(secret=SECRETS, encoding=st.sampled_from(sorted(ENCODINGS)), before=FILLER, after=FILLER,
       limit=st.integers(min_value=1, max_value=160), straddle=st.integers(min_value=0, max_value=60),
       early_cut=st.booleans())
@settings(max_examples=600)
def test_an_excerpt_never_holds_any_part_of_a_secret(secret: str, encoding: str, before: str, after: str,
                                                      limit: int, straddle: int, early_cut: bool) -> None:
    """Wherever the secret sits relative to the cut (before it, across it at any point, after it), in whichever
    encoding, and also when the text reaching us was itself cut inside the secret."""
    encoded = ENCODINGS[encoding](secret)
    # Padding puts the secret's start `straddle` characters before the cut, so it spans the cut point.
    padding = "x" * max(limit - straddle - len(before), 0)
    text = f"{padding}{before}Bearer {encoded}{after}"
    if early_cut:
        text = text[:len(padding) + len(before) + 7 + 4 + straddle % max(len(encoded) - 4, 1)]
    shown = Redactor([secret]).excerpt(text, limit)
    assert len(shown) <= limit
    assert not leaked_prefixes(shown, secret), shown
