"""Column widths measured from what the cells hold, so words and numbers never break mid-token.

Word and LibreOffice break a word that is wider than its column anywhere ("Budg|et", "12 00|0 000").
We cannot ask either program how wide a text is, so we measure with the advance widths of
Arial, the templates' font (scripts/set_template_fonts.py): Word has it, and LibreOffice draws
it with Liberation Sans (Arimo on some systems), whose every advance width is Arial's — the
point of a metric-compatible font — and which a default LibreOffice install brings along. So
the widths hold on any machine that renders the report, whatever else it has installed: a
column is at least as wide as its widest unbreakable token (a header word, a word of a text
cell, a whole number) and gets room for its full text when the page has it. A table whose
tokens do not fit the portrait text width goes into a landscape section.

Measuring is one `str.translate` and one `str.count` per distinct text, so 10 000-row tables
cost milliseconds; of many distinct texts only the longest `MAX_MEASURED` are measured.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Advance widths in 1/1000 em of Arial = Liberation Sans, the widest of its four faces (regular,
# bold, italic, bold italic) per glyph: headers are bold; characters 32–126.
_ASCII_WIDTHS = (
    "278 333 474 556 556 889 722 238 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 "
    "556 556 333 333 584 584 584 611 1015 722 722 722 722 667 611 778 722 278 556 722 611 833 722 778 "
    "667 778 722 667 611 722 667 944 667 667 611 333 278 333 584 556 333 556 611 556 611 556 333 611 "
    "611 278 278 556 278 889 611 611 611 611 389 556 333 611 556 778 556 556 500 389 280 389 584 "
)
_ASCII = [int(w) for w in _ASCII_WIDTHS.split()]
_OTHER = {  # the characters partners' data holds beyond ASCII (Nordic, Baltic, German, Polish, typography)
    200: "\u202f",
    278: "\u00a0ìíîïĩīĭįıĺļ‘’łÌÍÎÏĨĪĬĮİ",
    333: "·²ţ",
    350: "•",
    389: "ŕŗř",
    396: "ľ",
    400: "°",
    479: "ť",
    500: "źżž“”",
    549: "±÷",
    556: "śŝşšçćĉċčýÿŷķĸàáâãäåāăą–èéêëēĕėęě£€",
    576: "µ",
    584: "×",
    611: "ĹĻĽŁĝğġģŹŻŽŢŤŦðñùúûüþĥńņňŋũūŭůűųòóôõöōŏőøħßđ",
    667: "ŚŜŞŠÈÉÊËĒĔĖĘĚÝŶŸ",
    722: "ÇĆĈĊČĶŔŖŘÀÁÂÃÄÅĀĂĄĎÐĐÙÚÛÜŨŪŬŮŰŲÑŃŅŇ",
    740: "ď",
    778: "ĜĞĠĢÒÓÔÕÖŌŎŐØ",
    889: "æ",
    944: "œ",
    1000: "…ÆŒ—",
}
DEFAULT_EM = 620  # a glyph we have no width for (Cyrillic, Greek, CJK would be wider; rare here)
GRAIN = 10  # each known glyph becomes width/GRAIN NUL characters, so len() measures it in C
FONT_PT = 10.5  # the template's Normal style (Arial 10.5 pt)
CELL_PADDING = 2 * 108 + 60  # TableGrid's left and right cell margins, plus slack for rounding
SAFETY = 1.04  # slack for renderers' rounding (kerning only ever narrows a word)
MAX_MEASURED = 2_000
MAX_EM = 1015  # the widest glyph of the table ('@'; em dash, 'Æ' 1000)
HASH_PIECE = 16
_HASH = re.compile(r"^[0-9a-f]{32,}$")
TWIPS_PER_PT = 20


def _units_table() -> dict[int, str]:
    table = {32 + i: "\0" * round(w / GRAIN) for i, w in enumerate(_ASCII)}
    for width, chars in _OTHER.items():
        table.update({ord(c): "\0" * round(width / GRAIN) for c in chars})
    return table


_UNITS = _units_table()


def _em_units(text: str) -> int:
    """Width in 1/1000 em; glyphs outside the table count as their base letter or `DEFAULT_EM`."""
    measured = text.translate(_UNITS)
    known = measured.count("\0")
    unknown = len(measured) - known
    width = known * GRAIN
    if unknown:
        for ch in text:
            if ord(ch) not in _UNITS:
                base = unicodedata.normalize("NFD", ch)[:1]
                width += len(_UNITS[ord(base)]) * GRAIN if base and ord(base) in _UNITS else DEFAULT_EM
    return width


def text_twips(text: str, font_pt: float = FONT_PT) -> int:
    """Width of `text` on one line, in twips (1/20 pt)."""
    return round(_em_units(text) * font_pt * TWIPS_PER_PT * SAFETY / 1000)


def widest(texts: Iterable[str], font_pt: float = FONT_PT) -> int:
    """The widest of `texts` in twips. Longest first, stopping once no shorter text can be wider
    (every glyph is narrower than `MAX_EM`), and at most `MAX_MEASURED` texts: the widest of
    50 000 names is among their longest few thousand."""
    best = 0
    distinct = texts if isinstance(texts, (set, frozenset)) else set(texts)
    for n, text in enumerate(sorted(distinct, key=len, reverse=True)):
        if n == MAX_MEASURED or len(text) * MAX_EM * font_pt * TWIPS_PER_PT * SAFETY / 1000 < best:
            break
        best = max(best, text_twips(text, font_pt))
    return best


def words(texts: Iterable[str]) -> set[str]:
    """Every space-separated token: the units a renderer will not break. A hash is opaque: it
    may wrap anywhere, so it counts as pieces of `HASH_PIECE` characters."""
    tokens = set(" ".join(texts).split())
    for token in [t for t in tokens if len(t) > HASH_PIECE and _HASH.match(t)]:
        tokens.discard(token)
        tokens.add(token[:HASH_PIECE])
    return tokens


# -- columns ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnNeed:
    """The narrowest width that breaks no token, the width that keeps every cell on one line, and
    the floor below which a header word or a number would break (a long file name may wrap
    before they do)."""

    least: int
    full: int
    floor: int = 0


def column_need(header: str, texts: Iterable[str], *, numeric: bool, font_pt: float = FONT_PT) -> ColumnNeed:
    """A number is one token (thin spaces never break); text may wrap between words."""
    texts = texts if isinstance(texts, (set, frozenset)) else set(texts)
    header_words = max((text_twips(w, font_pt) for w in header.split()), default=0)
    cells = widest(texts, font_pt)
    least = max(header_words, cells if numeric else widest(words(texts), font_pt))
    full = max(text_twips(header, font_pt), cells)
    floor = max(header_words, cells if numeric else 0)
    return ColumnNeed(least + CELL_PADDING, max(least, full) + CELL_PADDING, floor + CELL_PADDING)


@dataclass(frozen=True)
class TableLayout:
    """Column widths in twips and whether the table needs a landscape page."""

    widths: list[int]
    landscape: bool = False


def fit(needs: Sequence[ColumnNeed], available: int) -> list[int] | None:
    """Full widths when they fit; else the least widths plus the room left shared in proportion
    to what each column still wants; None when even the least widths do not fit."""
    least = sum(n.least for n in needs)
    full = sum(n.full for n in needs)
    if full <= available:
        return [n.full for n in needs]
    if least > available:
        return None
    share = (available - least) / (full - least)
    return [n.least + int((n.full - n.least) * share) for n in needs]


def squeeze(needs: Sequence[ColumnNeed], available: int) -> list[int]:
    """Too many columns even for landscape: header words and numbers keep their floor, and the
    room above the floors is shared in proportion to what each column's longest token wants (a
    file name or a long word breaks; "Status" and "12 000 000" do not). When even the floors do
    not fit, every least width shrinks alike."""
    floors = sum(n.floor for n in needs)
    above = sum(n.least - n.floor for n in needs)
    if floors >= available or above <= 0:
        least = sum(n.least for n in needs) or 1
        return [max(1, n.least * available // least) for n in needs]
    share = (available - floors) / above
    return [n.floor + int((n.least - n.floor) * share) for n in needs]


def plan_table(needs: Sequence[ColumnNeed], portrait: int, landscape: int | None = None) -> TableLayout:
    """Portrait when the tokens fit the portrait width (and the table is not far wider than it);
    otherwise landscape when allowed (`landscape` is its text width)."""
    widths = fit(needs, portrait)
    wants_room = sum(n.full for n in needs) > 1.6 * portrait
    if landscape is None or (widths is not None and not wants_room):
        return TableLayout(widths or squeeze(needs, portrait))
    wide = fit(needs, landscape)
    if wide is None:
        return TableLayout(squeeze(needs, landscape), landscape=True)
    return TableLayout(wide, landscape=True)
