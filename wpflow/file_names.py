"""File names as partners chose them, made safe to show in a log line or an e-mail body, and
short enough to be a file name again.

A partner's file name is data from outside: a newline in it would forge a log line or a line of
a receipt, a bidi override would make it read backwards. Every place that shows a partner-
supplied name goes through `shown_name`; the stored name stays exactly as sent.

A name a filesystem allowed may still be too long once something is added to it: 255 bytes is
the limit of a name on ext4, XFS, btrfs and tmpfs, and 120 Cyrillic characters are 240 bytes,
so ".v1.<hash>.annotated.xlsx" after them cannot be written. Every name made from a partner's
name (quarantine entries, the annotated copy, the receipt's attachment, a temporary file beside
them) goes through `bounded_name`.
"""

from __future__ import annotations

import hashlib
import os
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


MAX_NAME_BYTES = 255  # NAME_MAX: bytes of one path component, whatever the characters
HASH_CHARS = 10  # hex digits of the whole name's SHA-256 that keep shortened names distinct
LONGEST_SUFFIX_BYTES = 16  # a longer "extension" is part of the name, not its type


def name_bytes(name: str) -> int:
    """The length of `name` as the filesystem stores it (UTF-8; bytes a name that was not UTF-8
    stood for count once each)."""
    return len(os.fsencode(name))


def bounded_name(name: str, limit: int = MAX_NAME_BYTES, *, suffix: str | None = None) -> str:
    """`name` as a file name of at most `limit` bytes: unchanged when it fits; else cut at a
    character boundary, with `~` and the first hex digits of the whole name's SHA-256 after the
    cut, so two long names that share their beginning stay two names, and its extension kept
    (`suffix`, default the name's own when it is short), so the file opens in the same program.
    """
    if name_bytes(name) <= limit:
        return name
    if suffix is None:
        suffix = os.path.splitext(name)[1]
        suffix = suffix if 1 < name_bytes(suffix) <= LONGEST_SUFFIX_BYTES else ""
    stem = name[: len(name) - len(suffix)] if suffix and name.endswith(suffix) else name
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:HASH_CHARS]
    room = limit - name_bytes(tag) - name_bytes(suffix)
    if room < 0:
        raise ValueError(f"no file name fits in {limit} bytes with the suffix {suffix!r}")
    return _cut(stem, room) + tag + suffix


def _cut(text: str, room: int) -> str:
    """The longest beginning of `text` of at most `room` bytes, ending on a whole character (a
    combining accent is not left without its letter)."""
    used = 0
    for index, char in enumerate(text):
        used += name_bytes(char)
        if used > room:
            kept = text[:index]
            while kept and unicodedata.combining(text[len(kept)]):  # the next mark is the last letter's
                kept = kept[:-1]
            return kept
    return text
