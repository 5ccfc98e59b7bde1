"""The widget's own words (placeholder, notices, confirm buttons) in the bot's languages, overridable per bot.

The catalogue ``widget_texts.json`` holds every text in the eleven supported languages. A bot changes any of
them in ``connectors.web.widget_texts`` (``{de: {placeholder: "..."}}``), checked when config.yaml is read, so a
misspelt key is reported with its line and the nearest real key. The widget loads the merged catalogue of the
bot's languages from ``/widget-texts.json`` and picks the thread's language, else the browser's, else the bot's
default.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import InitErrorDetails, PydanticCustomError

from connectors.web.assets import Asset

CATALOGUE: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).with_name("widget_texts.json")).read_text(encoding="utf-8")
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _suggest(name: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"known {what}: {', '.join(known)}"
    return f"unknown {what[:-1]} {name!r}; {hint}"


def _known_language(code: str) -> str:
    if code not in CATALOGUE:
        raise ValueError(_suggest(code, list(CATALOGUE), "languages"))
    return code


def _known_key(key: str) -> str:
    if key not in CATALOGUE["en"]:
        raise ValueError(_suggest(key, list(CATALOGUE["en"]), "texts"))
    return key


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def _keep_placeholders(texts: object, handler: ValidatorFunctionWrapHandler) -> dict[str, str]:
    """A text the widget fills in ({title}, {count}, {seconds}, {max}) keeps its placeholders (reported at its line)."""
    checked: dict[str, str] = handler(texts)
    errors = []
    for key, text in checked.items():
        wanted = _placeholders(CATALOGUE["en"][key])
        if _placeholders(text) != wanted:
            names = ", ".join("{" + name + "}" for name in sorted(wanted))
            said = f"keep {names} (the widget fills it in) and add no other placeholder" if wanted else ""
            message = PydanticCustomError("placeholders", said or "the widget fills in no placeholder in this text")
            errors.append(InitErrorDetails(type=message, loc=(key,), input=text))
    if errors:
        raise ValidationError.from_exception_data("widget_texts", errors)
    return checked


Language = Annotated[str, AfterValidator(_known_language)]
TextKey = Annotated[str, AfterValidator(_known_key)]
WidgetTexts = dict[Language, Annotated[dict[TextKey, str], WrapValidator(_keep_placeholders)]]


def widget_texts(
    overrides: dict[str, dict[str, str]], languages: tuple[str, ...], default_language: str
) -> dict[str, Any]:
    """The texts of the bot's languages, with the bot's own words over the catalogue's."""
    chosen = [code for code in languages if code in CATALOGUE] or ["en"]
    default = default_language if default_language in chosen else chosen[0]
    return {"default": default, "texts": {code: {**CATALOGUE[code], **overrides.get(code, {})} for code in chosen}}


def texts_asset(overrides: dict[str, dict[str, str]], languages: tuple[str, ...], default_language: str) -> Asset:
    """``/widget-texts.json``: made once at start, gzipped and revalidated like the widget's other files."""
    texts = widget_texts(overrides, languages, default_language)
    body = json.dumps(texts, ensure_ascii=False, separators=(",", ":")).encode()
    return Asset.of(body, "application/json")
