"""A bot after loading: flows compiled to small linear programs.

Each flow becomes a tuple of operations with jump targets, so the engine's
position in a flow is one integer (``pc``) that survives in the thread
snapshot, and resuming after a question, an action or an interruption is
trivial. Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from bots.flow.expressions import Expression, Template
from bots.flow.slot_values import TYPED
from bots.located_yaml import Mark

SlotType = Literal["text", "number", "email", "phone", "date", "time", "money", "choice", "regex", "bool", "any"]


@dataclass(frozen=True)
class TextRef:
    """A text to show: a key into the bot's responses, or inline texts per language."""

    key: str | None = None
    inline: tuple[tuple[str, str], ...] = ()
    mark: Mark | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ButtonDef:
    title: TextRef
    kind: Literal["postback", "url", "phone", "continue"]
    value: Template


@dataclass(frozen=True)
class ResponseVariant:
    """What one variant of a response shows besides its words, and when it is eligible (Rasa's response shape).

    Aligned with the response's texts: ``Bot.response_variants[key][language][i]`` goes with
    ``Bot.responses[key][language][i]``. Only responses with such a variant have an entry.
    """

    buttons: tuple[ButtonDef, ...] = ()
    image: Template | None = None
    custom: Any = None
    channel: str | None = None
    condition: Expression | None = None


@dataclass(frozen=True)
class QuickReplyDef:
    title: TextRef
    payload: Template


@dataclass(frozen=True)
class CardDef:
    title: TextRef
    subtitle: TextRef | None
    image: Template | None
    buttons: tuple[ButtonDef, ...]


@dataclass(frozen=True)
class ChoiceDef:
    title: TextRef
    value: Any


@dataclass(frozen=True)
class SlotDef:
    name: str
    type: SlotType
    pattern: re.Pattern[str] | None = None
    normalize: str | None = None
    values: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    initial: Any = None
    currency: str | None = None  # money slots: the ISO code of an amount said without one, and the only one taken


@dataclass(frozen=True)
class SlotMapping:
    """One of an ask's slot mappings (Rasa's): where its value may come from, on which intents."""

    type: Literal["from_entity", "from_intent", "from_text", "from_trigger_intent"]
    entity: str | None = None
    role: str | None = None
    group: str | None = None
    intents: tuple[str, ...] = ()  # only on these intents (empty: any)
    not_intents: tuple[str, ...] = ()  # never on these
    value: Any = None


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Op:
    mark: Mark = field(compare=False)


@dataclass(frozen=True)
class SayOp(Op):
    text: TextRef
    buttons: tuple[ButtonDef, ...] = ()
    quick_replies: tuple[QuickReplyDef, ...] = ()


@dataclass(frozen=True)
class MediaOp(Op):
    media: Literal["image", "video", "gif"]
    url: Template
    caption: TextRef | None = None
    buttons: tuple[ButtonDef, ...] = ()
    quick_replies: tuple[QuickReplyDef, ...] = ()


@dataclass(frozen=True)
class CarouselOp(Op):
    cards: tuple[CardDef, ...]
    quick_replies: tuple[QuickReplyDef, ...] = ()


@dataclass(frozen=True)
class TypingOp(Op):
    seconds: float


@dataclass(frozen=True)
class AskOp(Op):
    slot: str
    prompt: TextRef | None  # None: ``ask_action`` asks
    validator: SlotDef
    choices: tuple[ChoiceDef, ...]
    style: Literal["quick_replies", "buttons"]
    allow_other: bool
    invalid: TextRef | None
    max_attempts: int
    failure_pc: int
    always: bool
    on_digression: Literal["resume", "drop"] | None = None  # None: the bot's DigressionDef
    max_reprompts: int | None = None
    mappings: tuple[SlotMapping, ...] = ()  # none: the value is read from the text by the slot's type
    optional: bool = False  # "I don't know" skips it
    ask_action: str | None = None  # a custom action asking the question (Rasa's action_ask_<slot>)
    reprompt: TextRef | None = None  # asked again: this instead of ``prompt`` ("Sure! ..." only the first time)


@dataclass(frozen=True)
class SetOp(Op):
    assignments: tuple[tuple[str, Any], ...]  # value: literal, Template or Expression


@dataclass(frozen=True)
class BranchOp(Op):
    """Jump to ``target`` when ``condition`` is false."""

    condition: Expression
    target: int


@dataclass(frozen=True)
class JumpOp(Op):
    target: int


@dataclass(frozen=True)
class GotoFlowOp(Op):
    flow: str
    label: str | None


@dataclass(frozen=True)
class ActionOp(Op):
    name: str
    error_pc: int | None


@dataclass(frozen=True)
class HandoffOp(Op):
    text: TextRef | None


@dataclass(frozen=True)
class EndOp(Op):
    pass


@dataclass(frozen=True)
class OptOutOp(Op):
    value: bool


# --------------------------------------------------------------------------- flows and bot


@dataclass(frozen=True)
class EventTriggerDef:
    name: str
    when: Expression | None


@dataclass(frozen=True)
class Trigger:
    intents: tuple[str, ...] = ()
    payloads: tuple[str, ...] = ()
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language ("*" = all) -> keywords
    regex: tuple[re.Pattern[str], ...] = ()
    events: tuple[EventTriggerDef, ...] = ()
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flow:
    name: str
    ops: tuple[Op, ...]
    labels: dict[str, int]
    trigger: Trigger
    interruptible: bool
    description: str
    mark: Mark
    message_tag: str | None = None
    resume_interrupted: bool = True
    form: str | None = None  # the Rasa form this flow's questions make up (declared with ``form:``)


@dataclass(frozen=True)
class CancelDef:
    response: TextRef | None
    intents: tuple[str, ...]
    keywords: dict[str, tuple[str, ...]]
    filler: dict[str, tuple[str, ...]] = field(default_factory=dict)
    idle_response: TextRef | None = None  # nothing was open: nothing to stop


@dataclass(frozen=True)
class UnsureDef:
    """ "I don't know" (phrases per language, "*" for all) to an open question, and what is said before a
    question that needs its answer is asked again."""

    response: TextRef | None = None
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionDef:
    """Rasa's session_config: a session expires after ``expiration_minutes`` of quiet (0: never)."""

    expiration_minutes: float = 0
    carry_over_slots: bool = True


@dataclass(frozen=True)
class DigressionDef:
    """An open question after another flow answered a message: asked again (up to a budget) or dropped."""

    on_digression: Literal["resume", "drop"] = "resume"
    max_reprompts: int = 2
    resume: TextRef | None = None
    give_up_flow: str | None = None


@dataclass(frozen=True)
class EntityDef:
    """An entity declared in YAML. ``language`` None: for every language. Lookup values map to their
    canonical value (a synonym's value is the entry it belongs to)."""

    name: str
    language: str | None
    patterns: tuple[str, ...] = ()
    lookup: tuple[tuple[str, str], ...] = ()  # (text to find, value)


@dataclass(frozen=True)
class WidgetDef:
    """How the bot looks on the website (``settings.widget``); the greeting is a text in every language."""

    colour: str = "#2f6fed"
    title: str | None = None
    greeting: TextRef | None = None
    avatar: str | None = None  # a file in the bot's media/ folder


@dataclass(frozen=True)
class Bot:
    """Everything the engine needs, immutable once loaded."""

    name: str
    languages: tuple[str, ...]
    default_language: str
    flows: dict[str, Flow]
    slots: dict[str, SlotDef]
    responses: dict[str, dict[str, tuple[str, ...]]]  # key -> language -> variants
    examples: dict[str, dict[str, tuple[str, ...]]]  # language -> intent -> examples
    intents: tuple[str, ...]
    actions: tuple[str, ...]
    fallback_flow: str | None
    nlu_threshold: float
    nlu_encoder: str
    cancel: CancelDef
    action_error_response: TextRef | None
    content_hash: str
    entities: tuple[EntityDef, ...] = ()
    widget: WidgetDef = WidgetDef()
    digressions: DigressionDef = DigressionDef()
    corrections: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language ("*" = all) -> openers
    dont_know: UnsureDef = UnsureDef()
    demo_shop: bool = False  # the page at / is the Stride demo shop (the demo bot's own setting)
    locales: dict[str, str] = field(default_factory=dict)  # language -> Babel locale, where it is not the language
    session: SessionDef = SessionDef()
    duckling: tuple[str, ...] = ()  # Duckling dimensions the built-in entities are also given as (bots.flow.duckling)
    # key -> language -> one per variant of ``responses``, for responses with buttons, media, channels, conditions
    response_variants: dict[str, dict[str, tuple[ResponseVariant, ...]]] = field(default_factory=dict)

    @cached_property
    def written_slots(self) -> dict[str, SlotType]:
        """The slots a text writes the language's way (dates, times, amounts), by name: read once, not per text."""
        return {name: slot.type for name, slot in self.slots.items() if slot.type in TYPED}

    @property
    def trigger_phrases(self) -> dict[str, tuple[str, ...]]:
        """Language -> the phrases that start a flow ("*": every language's, left out): language ID learns the
        bot's own words from them as from its examples."""
        phrases: dict[str, tuple[str, ...]] = {}
        for flow in self.flows.values():
            for language, keywords in flow.trigger.keywords.items():
                if language != "*":
                    phrases[language] = phrases.get(language, ()) + keywords
        return phrases
