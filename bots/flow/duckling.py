"""The built-in entities under Duckling's names and in its shape, for Rasa projects' actions that read them.

Rasa projects commonly extract dates, amounts and numbers with Duckling, and their actions read Duckling's
entity as it arrives (``additional_info`` with ``grain``, ``unit``, ``type``). Threadline's own date, time,
money and number entities find the same values in every language it speaks; with ``settings.duckling`` they are
given as Duckling gives them: a date or a time as Duckling's ``time``, an amount as ``amount-of-money`` (beside
the built-in ``date`` and ``money``), a number as Duckling's ``number`` (the built-in ``time`` and ``number``,
whose names Duckling's take, are replaced). A question typed ``time`` takes no Duckling ``time`` of a whole day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bots.flow.model import Bot
from bots.types import Entity, NLUResult

EXTRACTOR = "DucklingEntityExtractor"
DAY_OR_LONGER = frozenset({"day", "week", "month", "quarter", "year"})  # Duckling's grains of no time of day
CURRENCY_UNITS = {"USD": "$", "EUR": "EUR", "GBP": "£"}  # Duckling writes dollars and pounds by their sign


def with_duckling(bot: Bot, nlu: NLUResult | None) -> NLUResult | None:
    """``nlu`` with a Duckling-shaped entity for each built-in one of the bot's ``duckling`` dimensions."""
    if nlu is None or not bot.duckling or not nlu.entities:
        return nlu
    added = [shaped for entity in nlu.entities if (shaped := _shaped(entity, bot.duckling)) is not None]
    if not added:
        return nlu
    kept = [e for e in nlu.entities if not (e.entity in bot.duckling and e.extractor != EXTRACTOR)]
    return replace(nlu, entities=(*kept, *added))


def _shaped(entity: Entity, dimensions: tuple[str, ...]) -> Entity | None:
    if entity.entity in ("date", "time") and "time" in dimensions and isinstance(entity.value, str):
        return _time(entity)
    if entity.entity == "money" and "amount-of-money" in dimensions and isinstance(entity.value, dict):
        amount = entity.value.get("amount")
        unit = CURRENCY_UNITS.get(str(entity.value.get("currency")), entity.value.get("currency"))
        info = {"value": amount, "unit": unit, "type": "value"}
        return _entity(entity, "amount-of-money", amount, info)
    if entity.entity == "number" and "number" in dimensions and isinstance(entity.value, (int, float)):
        return _entity(entity, "number", entity.value, {"value": entity.value, "type": "value"})
    return None


def _time(entity: Entity) -> Entity | None:
    """A date is a day's start and a time its minute, in the server's time zone, as Duckling writes them."""
    try:
        moment = datetime.fromisoformat(str(entity.value))
    except ValueError:
        return None
    grain = "day" if entity.entity == "date" else "hour" if moment.minute == 0 else "minute"
    value = moment.astimezone().isoformat(timespec="milliseconds")
    info = {"values": [{"value": value, "grain": grain, "type": "value"}], "value": value, "grain": grain}
    return _entity(entity, "time", value, {**info, "type": "value"})


def _entity(entity: Entity, name: str, value: Any, info: dict[str, Any]) -> Entity:
    return Entity(name, value, entity.start, entity.end, EXTRACTOR, additional_info=info)
