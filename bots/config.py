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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from bots.errors import Problem, ProblemsError, UserError, validation_problems
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

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


class RestConnectorConfig(_Strict):
    enabled: bool = True
    token: str = ""


class RateLimitConfig(_Strict):
    messages: int = Field(20, ge=1)
    per_seconds: float = Field(60.0, gt=0)


class WebConnectorConfig(_Strict):
    enabled: bool = True
    # Pages allowed to embed the widget, as origins (https://shop.example). Empty: only this server's own
    # origin (server.public_url). "*" allows any site.
    allowed_origins: tuple[str, ...] = ()
    # HMAC-SHA256 secret for signed customer ids from the business's site; empty: signed identities are off.
    identity_secret: str = ""
    websocket: bool = True
    history_limit: int = Field(200, ge=1, le=5000)
    rate_limit: RateLimitConfig = RateLimitConfig()
    demo_page: bool = True

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
                raise ValueError(f"{origin!r} is not an origin like https://shop.example (no path, no trailing /)")
        return value


MESSENGER_ENV = {
    "page_id": "MESSENGER_PAGE_ID",
    "verify_token": "MESSENGER_VERIFY_TOKEN",
    "app_secret": "MESSENGER_APP_SECRET",
    "page_access_token": "MESSENGER_PAGE_ACCESS_TOKEN",
    "graph_api_url": "MESSENGER_GRAPH_API_URL",
}


class MessengerConnectorConfig(_Strict):
    """Facebook Messenger. On when a page access token and an app secret are set.

    Each of the keys in MESSENGER_ENV may come from its environment variable, which wins over the file.
    """

    page_id: str = ""
    verify_token: str = ""
    app_secret: str = ""
    page_access_token: str = ""
    graph_api_url: str = "https://graph.facebook.com/v21.0"
    app_id: str = ""  # our app's id: echoes from other app ids (or none) are a person writing from the Page inbox
    appsecret_proof: bool = True
    typing_indicators: bool = True
    mark_seen: bool = True
    fetch_profile_locale: bool = True
    send_retries: int = Field(5, ge=0, le=20)
    retry_base_seconds: float = Field(0.5, gt=0)
    retry_max_seconds: float = Field(30.0, gt=0)
    send_timeout_seconds: float = Field(20.0, gt=0)

    @field_validator("graph_api_url")
    @classmethod
    def _graph_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://graph.facebook.com/v21.0")
        return value.rstrip("/")

    @property
    def enabled(self) -> bool:
        return bool(self.page_access_token and self.app_secret)


class ConnectorsConfig(_Strict):
    rest: RestConnectorConfig = RestConnectorConfig()
    web: WebConnectorConfig = WebConnectorConfig()
    messenger: MessengerConnectorConfig = MessengerConnectorConfig()


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
    connectors: ConnectorsConfig = ConnectorsConfig()
    linking: LinkingConfig = LinkingConfig()
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


def _messenger_environment(merged: dict[str, Any]) -> None:
    """MESSENGER_* environment variables win over the file, as the Messenger docs of this project promise."""
    values = {key: os.environ[env] for key, env in MESSENGER_ENV.items() if os.environ.get(env)}
    if not values:
        return
    connectors = dict(merged.get("connectors") or {})
    messenger = dict(connectors.get("messenger") or {})
    messenger.update(values)
    connectors["messenger"] = messenger
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
        problems.append(Problem(key_mark_of(data, "data_dir", top), "CFG-E003",
                                f"unknown key 'data_dir' (set the {DATA_DIR_ENV} environment variable instead)"))
        raise ProblemsError(problems)
    merged["data_dir"] = Path(os.environ.get(DATA_DIR_ENV) or "data")
    _messenger_environment(merged)
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
        raise ProblemsError(validation_problems(exc, data, top, "CFG-E003")) from None
    bot_dir = config.bot if config.bot.is_absolute() else (path.parent / config.bot)
    return config.model_copy(update={"bot": bot_dir.resolve()})
