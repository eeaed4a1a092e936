"""Keeping API keys out of everything this package prints, raises or stores.

A key is checked before any request (``check_key``): printable ASCII without spaces, as bearer
tokens are. A key read from a file saved with Windows line endings ends in a carriage return;
sent, it makes the HTTP library raise an error whose message quotes the header with the key
escaped (``\\r``), which a mask looking for the raw string never finds. So every form a key can
take on its way to a message is masked: raw, escaped as Python and JSON escape it, URL-encoded,
base64 (as in Basic auth), and its pieces either side of a line break.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from urllib.parse import quote, quote_plus

MASK = "***"
# Pieces shorter than this are not masked on their own: they would blot out ordinary words.
_MIN_PIECE = 8


class KeyProblem(ValueError):
    """The key cannot be a bearer token; the message says why without showing it."""


_NAMES = {"\r": "a carriage return", "\n": "a line feed", "\t": "a tab", " ": "a space"}


def check_key(key: str, where: str) -> str:
    """``key`` if it can be sent as a bearer token; else ``KeyProblem`` naming ``where`` it came
    from and what is wrong, never the key itself."""
    if not key:
        raise KeyProblem(f"the API key from {where} is empty")
    for position, char in enumerate(key):
        if "\x21" <= char <= "\x7e":
            continue
        name = _NAMES.get(char) or (f"a control character (U+{ord(char):04X})" if ord(char) < 0x20 or ord(char) == 0x7f
                                    else f"a non-ASCII character (U+{ord(char):04X})")
        at = "at its end" if position == len(key) - 1 else ("at its start" if position == 0
                                                            else f"at position {position + 1} of {len(key)}")
        hint = " (a key file saved with Windows line endings?)" if char in "\r\n" and position >= len(key) - 2 else ""
        raise KeyProblem(f"the API key from {where} contains {name} {at}{hint}; an API key is printable ASCII "
                         "without spaces: copy it again")
    return key


def forms(secret: str) -> set[str]:
    """Every spelling of ``secret`` that a message, a JSON document or a log may carry."""
    spelled = {
        secret,
        secret.encode("unicode_escape").decode("ascii"),
        repr(secret)[1:-1],
        repr(secret.encode("utf-8", "surrogatepass"))[2:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }
    raw = secret.encode("utf-8", "surrogatepass")
    for prefix in (b"", b":", b"Bearer "):
        spelled.add(base64.b64encode(prefix + raw).decode("ascii"))
    for separator in ("\r\n", "\r", "\n", " ", "\t"):
        spelled.update(secret.split(separator))
    spelled.add(secret.strip())
    return {s for s in spelled if len(s) >= _MIN_PIECE or s == secret}


class Redactor:
    """The secrets of this process and a mask for all their forms."""

    def __init__(self):
        self._forms: list[str] = []
        self._short: list[re.Pattern] = []
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        if not secret:
            return
        with self._lock:
            # Longest first: a form that contains another is masked whole.
            self._forms = sorted(set(self._forms) | {f for f in forms(secret) if len(f) >= _MIN_PIECE},
                                 key=len, reverse=True)
            if len(secret) < _MIN_PIECE:
                # A toy key ("k" in a test): masked only where it stands alone, or every word
                # holding that letter would be blotted out.
                self._short.append(re.compile(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])"))

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        for pattern in self._short:
            text = pattern.sub(MASK, text)
        return text


# One per process: the client adds its key, and every printer and the journal mask with it.
redact = Redactor()
