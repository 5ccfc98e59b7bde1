"""config.yaml: one file, validated up front, secrets from the environment.

Any string value may contain ``${VAR}`` or ``${VAR:-default}``; the value is
taken from the environment when the file is read, so secrets never sit in the
file. Every mistake is reported with the file, line and dotted key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, create_model, field_validator

from bots.errors import Problem, ProblemsError, UserError, validation_problems
from bots.handoff.settings import HandoffConfig
from bots.located_yaml import (
    DuplicateKeys,
    LocatedDict,
    LocatedList,
    Mark,
    YamlError,
    key_mark_of,
    load_file,
    mark_of,
)

SUPPORTED_LANGUAGES = ("en", "zh", "nl", "fr", "de", "it", "pl", "pt", "ro", "es", "vi")
DATA_DIR_ENV = "THREADLINE_DATA_DIR"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str = ""
    admin_token: str = ""
    max_message_chars: int = Field(4000, ge=1)
    # Worker processes on this machine, sharing the port (SO_REUSEPORT); more than one needs a shared store.
    workers: int = Field(1, ge=1, le=64)
    # Slow or stalled clients (bots/server/timeouts.py): a connection with no complete request head this long
    # after it opened or after its last answer is closed; so is one whose body has not all come this long
    # after its headers. Keep the first above a proxy's upstream keep-alive (nginx and AWS ALB: 60 s).
    idle_timeout_seconds: float = Field(75.0, gt=0, le=3600)
    body_timeout_seconds: float = Field(30.0, gt=0, le=3600)

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


def _connectors_model() -> type[BaseModel]:
    """``connectors``: one section per registered channel, each validated by the channel's own model."""
    from connectors.registry import channel_specs

    fields: dict[str, Any] = {spec.name: (spec.config_model, spec.config_model()) for spec in channel_specs()}
    return create_model("ConnectorsConfig", __base__=_Strict, **fields)


ConnectorsConfig = _connectors_model()


class ActionsConfig(_Strict):
    """Custom actions written with rasa-sdk: imported from the bot folder, or on an action server."""

    mode: Literal["in_process", "remote"] = "in_process"
    package: str = Field("actions", pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
    url: str = "http://localhost:5055/webhook"  # remote: Rasa's endpoints.yml form, or the server's root
    timeout_seconds: float = Field(10.0, gt=0)
    tracker_events: int = Field(200, ge=0, le=100_000)  # past events an action's tracker carries
    compress: bool = False  # remote: deflate request bodies (rasa-sdk accepts Content-Encoding: deflate)


class LinkingConfig(_Strict):
    """One thread across channels: the signed, single-use links between the website and Messenger."""

    secret: str = ""  # empty: a random secret kept in the data directory (set it when several servers share a store)
    ttl_minutes: float = Field(30.0, gt=0, le=7 * 24 * 60)
    # The Page's username or id: "Continue in Messenger" opens https://m.me/<messenger_page>. Empty: not offered.
    messenger_page: str = Field("", pattern=r"^[A-Za-z0-9.]*$")
    # The website page (with the widget) that "Continue on the website" opens; empty: server.public_url
    site_url: str = ""

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://shop.example/")
        return value


class NluConfig(_Strict):
    interpreter: Literal["matcher"] = "matcher"


class Config(_Strict):
    bot: Path = Path("flows")
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    default_language: str = "en"
    store: str = "sqlite:///threadline.db"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    server: ServerConfig = ServerConfig()
    nlu: NluConfig = NluConfig()
    actions: ActionsConfig = ActionsConfig()
    connectors: ConnectorsConfig = ConnectorsConfig()  # type: ignore[valid-type]
    linking: LinkingConfig = LinkingConfig()
    handoff: HandoffConfig = HandoffConfig()  # notifications and business hours (docs/inbox.md)
    data_dir: Path = Path("data")

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("list at least one language")
        unknown = [code for code in value if code not in SUPPORTED_LANGUAGES]
        if unknown:
            raise ValueError(f"unsupported language {unknown[0]!r}; supported: {', '.join(SUPPORTED_LANGUAGES)}")
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @field_validator("store")
    @classmethod
    def _store(cls, value: str) -> str:
        from bots.store.factory import parse_store_url

        parse_store_url(value)  # raises ValueError saying what is wrong
        return value

    @field_validator("default_language")
    @classmethod
    def _default_language(cls, value: str, info: ValidationInfo) -> str:
        if value not in info.data.get("languages", SUPPORTED_LANGUAGES):
            raise ValueError(f"{value!r} is not in languages")
        return value

    @property
    def public_url(self) -> str:
        return self.server.public_url or f"http://{self.server.host}:{self.server.port}"

    @property
    def site_url(self) -> str:
        return self.linking.site_url or self.public_url + "/"


def _substitute_env(value: Any, where: Mark, path: str, problems: list[Problem]) -> Any:
    """Replace ``${VAR}`` references in every string, collecting missing variables as problems."""
    if isinstance(value, LocatedDict):
        for key in list(value):
            value[key] = _substitute_env(value[key], mark_of(value, key, where), f"{path}{key}.", problems)
        return value
    if isinstance(value, LocatedList):
        for index, item in enumerate(value):
            value[index] = _substitute_env(item, mark_of(value, index, where), f"{path}{index}.", problems)
        return value
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        problems.append(Problem(where, "CFG-E002", f"{path.rstrip('.')}: environment variable {name} is not set"))
        return ""

    return _ENV_REF.sub(replace, value)


def _channel_environment(merged: dict[str, Any]) -> None:
    """A channel's environment variables (MESSENGER_*, ...) win over the file, as each channel documents."""
    from connectors.registry import channel_specs

    for spec in channel_specs():
        values = {key: os.environ[env] for key, env in spec.env.items() if os.environ.get(env)}
        if not values:
            continue
        connectors = dict(merged.get("connectors") or {})
        section = dict(connectors.get(spec.name) or {})
        section.update(values)
        connectors[spec.name] = section
        merged["connectors"] = connectors


def load_config(path: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read and validate config.yaml; raise :class:`UserError` listing every problem."""
    if not path.is_file():
        raise UserError(f"{path}: config file not found")
    try:
        data = load_file(path)
    except DuplicateKeys as exc:
        raise ProblemsError([Problem(e.mark, "CFG-E001", e.message) for e in exc.errors]) from None
    except YamlError as exc:
        raise ProblemsError([Problem(exc.mark, "CFG-E001", exc.message)]) from None
    top = Mark(str(path), 1, 1)
    if data is None:
        data = LocatedDict()
        data.mark, data.key_marks, data.value_marks = top, {}, {}
    if not isinstance(data, dict):
        raise ProblemsError([Problem(top, "CFG-E001", "the config file must be a mapping of keys to values")])
    problems: list[Problem] = []
    data = _substitute_env(data, top, "", problems)
    if problems:
        raise ProblemsError(problems)
    merged: dict[str, Any] = dict(data)
    if "data_dir" in merged:
        problems.append(
            Problem(
                key_mark_of(data, "data_dir", top),
                "CFG-E003",
                f"unknown key 'data_dir' (set the {DATA_DIR_ENV} environment variable instead)",
            )
        )
        raise ProblemsError(problems)
    merged["data_dir"] = Path(os.environ.get(DATA_DIR_ENV) or "data")
    _channel_environment(merged)
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.rpartition(".")
        target = merged
        if section:
            target = merged.setdefault(section, {})
            target = dict(target) if not isinstance(target, dict) else target
            merged[section] = target
        target[key] = value
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        raise ProblemsError(validation_problems(exc, data, top, "CFG-E003", root=Config)) from None
    bot_dir = config.bot if config.bot.is_absolute() else (path.parent / config.bot)
    return config.model_copy(update={"bot": bot_dir.resolve()})
