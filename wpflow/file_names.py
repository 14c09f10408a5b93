"""File names as partners chose them, made safe to show in a log line or an e-mail body.

A partner's file name is data from outside: a newline in it would forge a log line or a line of
a receipt, a bidi override would make it read backwards. Every place that shows a partner-
supplied name goes through `shown_name`; the stored name stays exactly as sent.
"""

from __future__ import annotations

import unicodedata

ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# control, format (bidi overrides, zero-width), line and paragraph separators
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def shown_name(name: object) -> str:
    """`name` with every control or invisible formatting character written as an escape
    (`\\n`, `\\x1b`, `\\u202e`); printable text, accents included, is kept as it is."""
    return "".join(_shown_char(c) for c in str(name))


def _shown_char(c: str) -> str:
    if unicodedata.category(c) not in UNSAFE_CATEGORIES:
        return c
    return ESCAPES.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def first_few(names: list[str], shown: int, more: str = " and {} more") -> str:
    """`a, b, c and 4 more`: a list of names cut to fit one line; `more` says how many were cut."""
    return ", ".join(names[:shown]) + (more.format(len(names) - shown) if len(names) > shown else "")
