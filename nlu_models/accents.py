"""Accent folding: customers type "e muon doi tra", "zolte buty", "vreau sa platesc" on phones without the
keyboard for their language, so matching and training also see text without its diacritics."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case without accents: "Größe" and "grosse", "café" and "cafe", "đổi" and "doi" match."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss").replace("đ", "d").replace("ł", "l"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def with_folded_copies(texts: list[str], *columns: list[str]) -> tuple[list[str], ...]:
    """``texts`` plus, for each one that has accents, its folded copy, with the matching entries of every
    other column (intents, languages) repeated: a model trained on both understands either spelling."""
    out: list[list[str]] = [list(texts), *(list(column) for column in columns)]
    for position, text in enumerate(texts):
        folded = " ".join(fold(text).split())
        if folded != text:
            out[0].append(folded)
            for column, source in zip(out[1:], columns, strict=True):
                column.append(source[position])
    return tuple(out)
