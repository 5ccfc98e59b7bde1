"""Hostile requests for every public route of the server: any path segment, query, header bytes and body,
with the admin token, the widget's identity and Meta's signatures sometimes right so the fuzz gets deep."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

from connectors.web.identity import sign_customer
from tests.fuzz import strategies as h
from tests.fuzz.harness import ADMIN_TOKEN, IDENTITY_SECRET, ORIGIN
from tests.fuzz.raw_http import RawRequest

MESSENGER_SECRET = "app-secret"  # tests.test_messenger's app secret, which the site's Messenger channel uses

_rest_body = h.shaped(
    ("sender", "message"),
    sender=st.sampled_from(["fuzz-1", "fuzz-2"]),
    message=st.sampled_from(["hi", "where is my order?", "/greet", "cancel"]),
    message_id=st.from_regex(r"r[0-9]{1,6}", fullmatch=True),
    metadata=h.shaped(language=st.sampled_from(["de", "en"]), locale=h.hostile_text, message_id=h.hostile_text),
    event=h.shaped(name=st.sampled_from(["page_view", "cart_abandoned"]), data=h.json_values),
    input_channel=h.hostile_text,
)
_campaign = h.shaped(
    ("name", "when", "flow"),
    name=st.from_regex(r"c[a-z0-9]{1,8}", fullmatch=True),
    when=st.sampled_from(["count('purchase') == 0", "hours_since('x') > 1", "language == 'de'", "1 +", "(" * 200]),
    flow=st.sampled_from(["greet", "no_such_flow"]),
    text=st.one_of(h.hostile_text, st.dictionaries(st.sampled_from(["en", "de", "xx"]), h.hostile_text)),
    tag=st.sampled_from(["POST_PURCHASE_UPDATE", "NOPE"]),
    rate_per_minute=st.floats(),
    limit=st.integers(),
    dry_run=st.booleans(),
)

_thread_query = h.shaped(
    ("channel", "user_id"),
    channel=st.sampled_from(["rest", "web", "messenger"]),
    user_id=st.sampled_from(["fuzz-1", "visitor0000000000fuzz1"]),
    after=st.integers(-2, 2**65).map(str),
    limit=st.integers(-2, 2**65).map(str),
)
_poll_query = h.shaped(
    ("visitor_id",),
    visitor_id=h.visitor_ids,
    after=st.integers(-2, 2**65).map(str),
    epoch=st.text(max_size=12),
    customer_id=st.sampled_from(["ana"]),
    customer_signature=st.sampled_from([sign_customer(IDENTITY_SECRET, "ana"), "00"]),
)
_verify_query = h.shaped(
    ("hub.mode", "hub.verify_token", "hub.challenge"),
    **{"hub.mode": st.just("subscribe"), "hub.verify_token": st.just("verify-me"), "hub.challenge": h.hostile_text},
)
QUERIES = {"/api/threads": _thread_query, "/api/threads/{thread}": _thread_query, "/web/api/poll": _poll_query}
QUERIES |= {"/api/handoff/figures": h.shaped(("days",), days=h.hostile_text)}
QUERIES |= {"/webhooks/messenger": _verify_query, "/webhooks/instagram": _verify_query}

# (method, path with {parameters}, body, which app secret signs it); None: no body or no signature
Route = tuple[str, str, st.SearchStrategy[Any] | None, str | None]
ROUTES: list[Route] = [
    ("GET", "/health", None, None),
    ("GET", "/api/threads", None, None),
    ("GET", "/api/threads/{thread}", None, None),
    ("POST", "/api/threads/{thread}/handoff/release", None, None),
    ("GET", "/api/threads/{thread}/export", None, None),
    (
        "POST",
        "/api/threads/{thread}/messages",
        h.shaped(("text",), text=h.hostile_text, by=h.hostile_text, tag=h.hostile_text),
        None,
    ),
    ("POST", "/api/followups", _campaign, None),
    ("GET", "/api/followups/{name}", None, None),
    ("GET", "/api/handoff/figures", None, None),
    ("GET", "/metrics", None, None),
    ("GET", "/media/{file}", None, None),
    ("GET", "/widget.js", None, None),
    ("GET", "/widget.css", None, None),
    ("POST", "/web/api/hello", h.widget_hello, None),
    (
        "POST",
        "/web/api/send",
        h.shaped(("visitor_id", "frame"), visitor_id=h.visitor_ids, customer=h.customers(), frame=h.widget_frames),
        None,
    ),
    (
        "POST",
        "/web/api/link",
        h.shaped(
            ("visitor_id", "to"),
            visitor_id=h.visitor_ids,
            customer=h.customers(),
            to=st.sampled_from(["messenger", "instagram", "web"]),
        ),
        None,
    ),
    ("GET", "/web/api/poll", None, None),
    ("GET", "/web/ws", None, None),
    ("GET", "/", None, None),
    ("GET", "/favicon.ico", None, None),
    ("GET", "/products/{sku}", None, None),
    ("GET", "/{info}", None, None),
    ("GET", "/returns/{order}", None, None),
    ("GET", "/webhooks/rest", None, None),
    ("POST", "/webhooks/rest/webhook", _rest_body, None),
    ("POST", "/model/parse", h.shaped(("text",), text=h.hostile_text, message_id=h.hostile_text), None),
    ("GET", "/webhooks/messenger", None, None),
    ("POST", "/webhooks/messenger", h.webhook_envelopes("page"), "messenger"),
    ("GET", "/webhooks/instagram", None, None),
    ("POST", "/webhooks/instagram", h.webhook_envelopes("instagram"), "instagram"),
    ("POST", "/inbox/api/login", h.shaped(("name", "password"), name=h.hostile_text, password=h.hostile_text), None),
    ("GET", "/inbox/api/conversations", None, None),
    ("GET", "/inbox/api/conversations/{thread}", None, None),
    ("POST", "/inbox/api/conversations/{thread}/reply", h.shaped(("text",), text=h.hostile_text), None),
    ("GET", "/inbox/api/live", None, None),
    ("GET", "/inbox/api/figures", None, None),
    ("GET", "/inbox/api/canned", None, None),
    ("GET", "/inbox", None, None),
    ("GET", "/inbox/static/{file}", None, None),
    ("DELETE", "/api/threads/{thread}", None, None),  # last: the routes before it find the known threads
]

_QUERY_KEYS = ["channel", "user_id", "after", "limit", "visitor_id", "customer_id", "customer_signature", "epoch"]
_QUERY_KEYS += ["hub.mode", "hub.verify_token", "hub.challenge", "sku"]
_query_values = st.one_of(
    st.sampled_from(["rest", "fuzz-1", "0", "-1", "99999999999999999999", "subscribe", "verify-me", ""]),
    st.sampled_from(["visitor0000000000fuzz", "ana"]),
    h.percent_encoded(),
)
_query = st.lists(  # extra pairs: known names with odd values, and names nobody expects
    st.tuples(st.one_of(st.sampled_from(_QUERY_KEYS), h.percent_encoded(st.binary(max_size=6))), _query_values),
    max_size=4,
).map(lambda pairs: "&".join(f"{key}={value}" for key, value in pairs))
_raw_target_bytes = st.binary(max_size=30).map(lambda raw: re.sub(rb"[\r\n ]", b"", raw))

_header_bytes = h.text_encodings() | st.binary(max_size=40)
_HEADERS = ["Content-Type", "Origin", "X-Forwarded-For", "Forwarded", "If-None-Match", "Accept-Encoding"]
_HEADERS += ["Accept-Language", "Range", "Cookie", "User-Agent", "X-Hub-Signature", "Authorization"]
_HEADER_NAMES = st.sampled_from(_HEADERS).map(str.encode) | st.binary(min_size=1, max_size=8)
_admin = f"Bearer {ADMIN_TOKEN}".encode()
_authorization = st.sampled_from([_admin, _admin, b"Bearer " + ADMIN_TOKEN.upper().encode(), b"adm"])
_content_type = st.sampled_from([b"application/json", b"text/plain", b"multipart/form-data; boundary=x"])


def _encode_query(fields: dict[str, Any]) -> str:
    """Fields as a query string; a value that is no string (a hostile one) is sent as its JSON."""

    def encoded(value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")

    return "&".join(f"{encoded(key)}={encoded(value)}" for key, value in fields.items())


def _one_in(count: int) -> st.SearchStrategy[bool]:
    """True once in ``count`` draws; False is the simpler example, so shrinking heads for it."""
    return st.sampled_from([False] * (count - 1) + [True])


def _one_line(value: bytes) -> bytes:
    """A header value stays one header: a line break would start another (or end the headers)."""
    return value.replace(b"\r", b"").replace(b"\n", b"")


@st.composite
def hostile_requests(draw: st.DrawFn, route: Route, known_threads: list[str], secrets: dict[str, str]) -> RawRequest:
    """One request to ``route`` (or, now and then, to a malformed path), hostile in any of its parts."""
    method, template, body_strategy, signer = route
    segments = st.one_of(st.sampled_from(known_threads), h.percent_encoded(), st.sampled_from(["TR2", "cart", "x"]))
    path = re.sub(r"\{\w+\}", lambda _: draw(segments), template)
    if draw(_one_in(10)):
        target = b"/" + draw(_raw_target_bytes)  # not even a well-formed path
    else:
        query = _encode_query(draw(QUERIES[template])) if method == "GET" and template in QUERIES else ""
        query = "&".join(part for part in (query, draw(_query)) if part)
        target = (path + ("?" + query if query else "")).encode()
    body = b""
    if body_strategy is not None:
        kind = draw(st.sampled_from(["json", "json", "json", "json", "bytes", "none"]))
        body = draw(h.json_bytes(body_strategy)) if kind == "json" else draw(st.binary(max_size=200))
        body = b"" if kind == "none" else body
    headers = [(b"Authorization", draw(_authorization)), (b"Content-Type", draw(_content_type))]
    if draw(st.booleans()):
        headers.append((b"Origin", ORIGIN.encode()))
    if signer is not None:
        digest = hmac.new(secrets[signer].encode(), body, hashlib.sha256).hexdigest()
        signature = draw(st.sampled_from([f"sha256={digest}".encode(), b"sha256=00", b"", b"sha1=" + digest.encode()]))
        headers.append((b"X-Hub-Signature-256", signature))
    if draw(_one_in(4)):  # most requests keep clean headers, so the parser lets them through
        for name in draw(st.lists(_HEADER_NAMES, min_size=1, max_size=3)):
            headers.append((name, draw(_header_bytes)))
    headers = [(name, _one_line(value)) for name, value in headers]
    return RawRequest(method, target, headers, body)
