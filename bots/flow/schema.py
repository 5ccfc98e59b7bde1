"""The shape of a bot's YAML files, checked by pydantic.

Only the *form* is checked here (keys, types, required fields); references
between flows, slots, texts and actions are checked by the loader once every
file is read. Step kinds are told apart by the key that names them
(``say:``, ``ask:``, ``if:`` ...), so a step is a small mapping authors can read.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from bots.errors import did_you_mean
from bots.locale_format import known_locale

TEXT_HELP = "a text key (string) or a mapping of language code to text"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_text(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("a text key must not be empty")
        return value
    if isinstance(value, dict) and value:
        for lang, text in value.items():
            if not isinstance(lang, str) or not isinstance(text, (str, int, float)):
                raise ValueError(f"expected {TEXT_HELP}")
        return {str(k): str(v) for k, v in value.items()}
    raise ValueError(f"expected {TEXT_HELP}")


from pydantic import BeforeValidator  # noqa: E402  (kept next to its only use)

# The channels a "continue_in" button may lead to: the server's channel registry, set while a bot loads
# (bots.flow.loader.load_bot); unset, any name passes.
KNOWN_CHANNELS: ContextVar[tuple[str, ...] | None] = ContextVar("KNOWN_CHANNELS", default=None)

TextSpec = Annotated[str | dict[str, str], BeforeValidator(_check_text)]


class ButtonSpec(_Strict):
    title: TextSpec
    payload: str | None = None
    url: str | None = None
    phone: str | None = None
    # "Continue in Messenger" / "Continue on the website": a fresh signed link to this same thread, made when sent
    continue_in: str | None = None

    @field_validator("continue_in")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        known = KNOWN_CHANNELS.get()
        if value is not None and known is not None and value not in known:
            raise ValueError(
                f"no channel {value!r} to continue in (channels: {', '.join(known)}){did_you_mean(value, known)}"
            )
        return value

    @model_validator(mode="after")
    def _one_target(self) -> ButtonSpec:
        given = [name for name in ("payload", "url", "phone", "continue_in") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a button needs exactly one of payload, url, phone or continue_in")
        return self


class QuickReplySpec(_Strict):
    title: TextSpec
    payload: str


class CardSpec(_Strict):
    title: TextSpec
    subtitle: TextSpec | None = None
    image: str | None = None
    buttons: list[ButtonSpec] = Field(default_factory=list, max_length=10)


class ChoiceSpec(_Strict):
    title: TextSpec
    value: str | int | float | bool


class SlotMappingSpec(_Strict):
    """Where an ask's value comes from, as Rasa's slot mappings say it (``from_entity``, ``from_intent``, ...)."""

    type: Literal["from_entity", "from_intent", "from_text", "from_trigger_intent"]
    entity: str | None = None
    role: str | None = None
    group: str | None = None
    intent: str | list[str] | None = None
    not_intent: str | list[str] | None = None
    value: str | int | float | bool | None = None

    @model_validator(mode="after")
    def _complete(self) -> SlotMappingSpec:
        if self.type == "from_entity" and not self.entity:
            raise ValueError("a from_entity mapping needs entity")
        if self.type in ("from_intent", "from_trigger_intent") and (self.value is None or not self.intent):
            raise ValueError(f"a {self.type} mapping needs intent and value")
        return self


class _Step(_Strict):
    id: str | None = None


class SayStep(_Step):
    say: TextSpec
    buttons: list[ButtonSpec] = Field(default_factory=list)
    quick_replies: list[QuickReplySpec] = Field(default_factory=list)


class _MediaStep(_Step):
    caption: TextSpec | None = None
    buttons: list[ButtonSpec] = Field(default_factory=list)
    quick_replies: list[QuickReplySpec] = Field(default_factory=list)


class ImageStep(_MediaStep):
    image: str


class VideoStep(_MediaStep):
    video: str


class GifStep(_MediaStep):
    gif: str


class CarouselStep(_Step):
    carousel: list[CardSpec] = Field(min_length=1)
    quick_replies: list[QuickReplySpec] = Field(default_factory=list)


class TypingStep(_Step):
    typing: float = Field(gt=0, le=30)


SlotType = Literal["text", "number", "email", "phone", "date", "time", "money", "choice", "regex", "bool", "any"]


class AskStep(_Step):
    ask: str
    prompt: TextSpec | None = None  # exactly one of prompt and ask_action
    # Rasa's action_ask_<slot>: a custom action asks the question (its messages are the prompt)
    ask_action: str | None = None
    type: SlotType | None = None
    pattern: str | None = None
    choices: list[ChoiceSpec] = Field(default_factory=list)
    style: Literal["quick_replies", "buttons"] = "quick_replies"
    allow_other: bool = False
    invalid: TextSpec | None = None
    reprompt: TextSpec | None = None  # the question asked again (after a wrong answer or an aside); default: prompt
    max_attempts: int = Field(3, ge=1, le=20)
    on_failure: list[Step] | None = None
    always: bool = False
    optional: bool = False  # "I don't know" skips it (the slot stays empty) instead of asking again
    # After another flow answered a message in between: ask again (resume) or let the question go (drop).
    on_digression: Literal["resume", "drop"] | None = None  # default: settings.digressions
    max_reprompts: int | None = Field(None, ge=0, le=20)  # default: settings.digressions
    mappings: list[SlotMappingSpec] = Field(default_factory=list)  # default: read the slot's type from the text


class SetStep(_Step):
    set: dict[str, Any] = Field(min_length=1)


class ElifSpec(_Strict):
    if_: str = Field(alias="if")
    then: list[Step]


class IfStep(_Step):
    if_: str = Field(alias="if")
    then: list[Step]
    elif_: list[ElifSpec] = Field(default_factory=list, alias="elif")
    else_: list[Step] = Field(default_factory=list, alias="else")


class GotoStep(_Step):
    goto: str


class ActionStep(_Step):
    action: str
    on_error: list[Step] | None = None


class HandoffStep(_Step):
    handoff: TextSpec | bool


class EndStep(_Step):
    end: Literal[True]


class OptOutStep(_Step):
    opt_out: bool


class InvalidStep(_Step):
    """Stands in for a step that failed validation (its problems already reported), so the rest of its flow is
    still compiled and checked. Only the loader makes one: no YAML mapping selects it."""


INVALID_STEP_TAG = "step:(invalid)"


STEP_KINDS: dict[str, type[_Step]] = {
    "say": SayStep,
    "ask": AskStep,
    "image": ImageStep,
    "video": VideoStep,
    "gif": GifStep,
    "carousel": CarouselStep,
    "typing": TypingStep,
    "set": SetStep,
    "if": IfStep,
    "goto": GotoStep,
    "action": ActionStep,
    "handoff": HandoffStep,
    "end": EndStep,
    "opt_out": OptOutStep,
}
STEP_TAG_PREFIX = "step:"


def step_kind(value: Any) -> str | None:
    """The step kind a mapping declares: the first of its keys that names a step type."""
    if isinstance(value, dict):
        for key in value:
            if isinstance(key, str) and key in STEP_KINDS:
                return STEP_TAG_PREFIX + key
        return None
    if isinstance(value, InvalidStep):
        return INVALID_STEP_TAG
    if isinstance(value, BaseModel):
        for key, cls in STEP_KINDS.items():
            if type(value) is cls:
                return STEP_TAG_PREFIX + key
    return None


if TYPE_CHECKING:
    # What the union below accepts, spelled out for the type checker (it cannot follow the generated union)
    Step = (
        SayStep
        | AskStep
        | ImageStep
        | VideoStep
        | GifStep
        | CarouselStep
        | TypingStep
        | SetStep
        | IfStep
        | GotoStep
        | ActionStep
        | HandoffStep
        | EndStep
        | OptOutStep
        | InvalidStep
    )
else:
    Step = Annotated[
        Union[  # noqa: UP007
            tuple(Annotated[cls, Tag(STEP_TAG_PREFIX + key)] for key, cls in STEP_KINDS.items())
            + (Annotated[InvalidStep, Tag(INVALID_STEP_TAG)],)
        ],
        Discriminator(
            step_kind,
            custom_error_type="unknown_step",
            custom_error_message="not a step: a step is a mapping with one of the keys " + ", ".join(STEP_KINDS),
            custom_error_context={"discriminator": "step kind"},
        ),
    ]


class EventTrigger(_Strict):
    name: str
    when: str | None = None


class TriggerSpec(_Strict):
    intents: list[str] = Field(default_factory=list)
    payloads: list[str] = Field(default_factory=list)
    keywords: list[str] | dict[str, list[str]] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    events: list[str | EventTrigger] = Field(default_factory=list)
    refs: list[str] = Field(default_factory=list)


MessageTag = Literal["CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "CUSTOMER_FEEDBACK"]


class FlowSpec(_Strict):
    description: str = ""
    trigger: TriggerSpec = TriggerSpec()
    interruptible: bool = True
    # false: when this flow interrupts a question, the question is dropped afterwards instead of asked again
    resume_interrupted: bool = True
    # Messenger: the tag that lets this flow's messages go out after the 24-hour window (never promotional)
    message_tag: MessageTag | None = None
    # Rasa's forms: this flow's questions are the form of that name (its ``active_loop``, ``validate_<form>``)
    form: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    steps: list[Step] = Field(min_length=1)


class SlotSpec(_Strict):
    type: SlotType = "any"
    pattern: str | None = None
    normalize: str | None = None
    values: list[str | int | float | bool] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    initial: Any = None
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")  # money slots: an amount said without one is in it

    @model_validator(mode="after")
    def _fits_type(self) -> SlotSpec:
        if self.type == "regex" and not self.pattern:
            raise ValueError("a regex slot needs a pattern")
        if self.type == "choice" and not self.values:
            raise ValueError("a choice slot needs values")
        if self.pattern and self.type != "regex":
            raise ValueError("pattern is only for regex slots")
        if self.currency and self.type != "money":
            raise ValueError("currency is only for money slots")
        return self


class CancelSpec(_Strict):
    response: TextSpec | None = None
    # said instead when nothing is open: "never mind" after a greeting stopped nothing
    idle_response: TextSpec | None = None
    intents: list[str] = Field(default_factory=list)
    keywords: list[str] | dict[str, list[str]] = Field(default_factory=list)
    # words that may stand around a cancel phrase without making it a request ("ok", "nah", "please")
    filler: list[str] | dict[str, list[str]] = Field(default_factory=list)


class UnsureSpec(_Strict):
    """ "I don't know" to an open question: an optional one is skipped, any other explained and asked again."""

    response: TextSpec | None = None  # said before a question that needs its answer is asked again
    keywords: list[str] | dict[str, list[str]] = Field(default_factory=list)


class DigressionSpec(_Strict):
    """What an open question does when the customer talks about something else first (the bot's default)."""

    on_digression: Literal["resume", "drop"] = "resume"
    max_reprompts: int = Field(2, ge=0, le=20)  # times a question is asked again after digressions
    resume: TextSpec | None = None  # a short line before the question asked again
    give_up: str | None = None  # the flow started once the budget is spent (a menu, a person)


class WidgetSpec(_Strict):
    """How the chat window and the page at ``/`` present the bot: set by the bot, so no page shows another's."""

    colour: str = Field("#2f6fed", alias="color")
    title: str | None = None  # the chat window's title (default: the bot's name)
    greeting: TextSpec | None = None  # shown before the chat starts, in the visitor's language
    avatar: str | None = None  # an image file in the bot's media/ folder

    @field_validator("colour")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
            raise ValueError(f"{value!r} is not a colour like #e8590c or #e50")
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the title must not be empty (leave it out to use the bot's name)")
        return value


class SessionConfigSpec(_Strict):
    """Rasa's ``session_config``: when a conversation's session expires, and whether its slots carry over."""

    session_expiration_time: float = Field(0, ge=0)  # minutes without a message; 0: a session never expires
    carry_over_slots_to_new_session: bool = True


class SettingsSpec(_Strict):
    name: str | None = None
    session_config: SessionConfigSpec = SessionConfigSpec()
    widget: WidgetSpec = WidgetSpec()
    # The page at / (connectors.web.demo_page) is the Stride demo shop instead of the bot's own "Try" page
    demo_shop: bool = False
    fallback_flow: str | None = None
    nlu_threshold: float = Field(0.4, ge=0, le=1)
    # A multilingual sentence encoder beside the n-grams (the `encoder` extra, docs/flows.md): off, auto (when
    # installed) or its name. Off by default: it makes training several times slower and start-up 2 s longer.
    nlu_encoder: Literal["off", "auto", "use-multilingual-v3"] = "off"
    # the built-in entities also given under Duckling's names and in its shape, for Rasa actions that read them
    duckling: list[Literal["time", "amount-of-money", "number"]] = Field(default_factory=list)
    cancel: CancelSpec = CancelSpec()
    digressions: DigressionSpec = DigressionSpec()
    # Words a correction starts with ("no, 43", "actually ST-234567"), per language or a plain list for all
    corrections: list[str] | dict[str, list[str]] = Field(default_factory=list)
    dont_know: UnsureSpec = Field(default_factory=UnsureSpec)
    action_error_response: TextSpec | None = None
    # The Babel locale a language's dates and amounts are written in, where it is not the language itself
    # (pt: pt_PT for European Portuguese, "50 €"; Babel's "pt" is Brazilian, "€ 50")
    locales: dict[str, str] = Field(default_factory=dict)

    @field_validator("locales")
    @classmethod
    def _known_locales(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [f"{language}: {name}" for language, name in value.items() if not known_locale(name)]
        if unknown:
            raise ValueError(f"Babel knows no locale {', '.join(unknown)} (write it like pt_PT or de_CH)")
        return value


class ResponseButtonSpec(_Strict):
    """A button of a response: its title is the words themselves, in the language of the response."""

    title: str = Field(min_length=1)
    payload: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ResponseButtonSpec:
        if (self.payload is None) == (self.url is None):
            raise ValueError("a response's button needs exactly one of payload or url")
        return self


class ResponseVariantSpec(_Strict):
    """A response variant with more than words (Rasa's response shape): buttons, an image, a custom payload,
    for one channel only or under a condition. A plain string is a variant of words alone."""

    text: str | None = None
    buttons: list[ResponseButtonSpec] = Field(default_factory=list, max_length=10)
    image: str | None = None
    custom: Any = None
    channel: str | None = None
    condition: str | None = Field(default=None, alias="if")

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        known = KNOWN_CHANNELS.get()
        if value is not None and known is not None and value not in known:
            raise ValueError(f"no channel {value!r} (channels: {', '.join(known)}){did_you_mean(value, known)}")
        return value

    @model_validator(mode="after")
    def _something_to_show(self) -> ResponseVariantSpec:
        if not (self.text or "").strip() and not self.buttons and not self.image and self.custom is None:
            raise ValueError("a response variant needs a text, buttons, an image or a custom payload")
        return self


RESPONSE_VARIANT_KEYS = frozenset({"text", "buttons", "image", "custom", "channel", "if"})
ResponseVariantValue = str | ResponseVariantSpec
ResponseValue = ResponseVariantValue | list[ResponseVariantValue]


def _response_kind(value: Any) -> str:
    """A mapping with a variant's keys is one variant; any other mapping is texts per language."""
    if isinstance(value, dict) and not (set(value) & RESPONSE_VARIANT_KEYS):
        return "languages"
    return "value"


ResponseEntry = Annotated[
    Annotated[ResponseValue, Tag("value")] | Annotated[dict[str, ResponseValue], Tag("languages")],
    Discriminator(_response_kind),
]


class EntitySpec(_Strict):
    """An entity the NLU extracts: by regular expressions, or by a list of values (with synonyms)."""

    regex: list[str] = Field(default_factory=list)
    lookup: list[str | dict[str, list[str]]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> EntitySpec:
        if not self.regex and not self.lookup:
            raise ValueError("an entity needs regex patterns or lookup values")
        return self


class BotFileSpec(_Strict):
    """One YAML file of a bot. Any file may hold any of the sections."""

    version: str | int | None = None
    language: str | None = None
    settings: SettingsSpec | None = None
    flows: dict[str, FlowSpec] = Field(default_factory=dict)
    slots: dict[str, SlotSpec] = Field(default_factory=dict)
    responses: dict[str, ResponseEntry] = Field(default_factory=dict)
    nlu: dict[str, list[str]] = Field(default_factory=dict)
    entities: dict[str, EntitySpec] = Field(default_factory=dict)

    @field_validator("nlu")
    @classmethod
    def _examples(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for intent, examples in value.items():
            if any(not str(e).strip() for e in examples):
                raise ValueError(f"intent {intent!r} has an empty example")
        return value


for _model in (AskStep, ElifSpec, IfStep, ActionStep, FlowSpec, EntitySpec, BotFileSpec):
    _model.model_rebuild()
