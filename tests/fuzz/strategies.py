"""Hypothesis strategies for hostile input: text with lone surrogates and control characters, JSON of any shape,
bodies shaped like what each endpoint expects but with wrong types and broken text in every field."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

from connectors.web.identity import sign_customer
from tests.fuzz.harness import IDENTITY_SECRET
from tests.test_instagram import ACCOUNT
from tests.test_messenger import PAGE

# Characters of every category, lone surrogates included (hypothesis leaves those out unless asked).
_ANY_CHARACTER = st.characters(exclude_categories=())
# Values that reached a different branch than random text would: empty, whitespace, NUL, line breaks,
# the link-token and payload prefixes, escapes, very long text.
_PICKED = st.sampled_from(
    ["", " ", "\x00", "\n", "\r\n", "\ud800", "é" * 64, "tl1=", "tl1=AAAA.BBBB", "/greet", '/buy{"sku": 1}', "%0a"]
    + ["../../etc/passwd", "a" * 5000, "null", "[]", "{}", "-1", "1e309", "visitor0000000000fuzz"]
)
hostile_text = st.one_of(_PICKED, st.text(_ANY_CHARACTER, max_size=40))

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),  # Python's json writes and reads NaN and Infinity
    hostile_text,
)
json_values: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def json_bytes(draw: st.DrawFn, value: st.SearchStrategy[Any] = json_values) -> bytes:
    """A JSON document; its lone surrogates either escaped (valid JSON, invalid text) or as raw invalid UTF-8."""
    document = draw(value)
    if draw(st.booleans()):
        return json.dumps(document).encode()
    return json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _field(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that is mostly right, so the fuzz gets past the first check, and otherwise anything at all."""
    return st.one_of(plausible, plausible, json_values)


def shaped(required: tuple[str, ...] = (), **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with the ``required`` fields and any subset of the others: half the time all plausible,
    so the fuzz gets past the first check, otherwise each field plausible or hostile."""
    optional = {name: strategy for name, strategy in fields.items() if name not in required}
    return st.one_of(
        st.fixed_dictionaries({name: fields[name] for name in required}, optional=optional),
        st.fixed_dictionaries(
            {name: _field(fields[name]) for name in required},
            optional={name: _field(strategy) for name, strategy in optional.items()},
        ),
    )


# a few visitors again and again, so a widget message finds the thread an earlier hello opened
VISITORS = ["visitor0000000000fuzz1", "visitor0000000000fuzz2"]
visitor_ids = st.sampled_from(VISITORS) | st.from_regex(r"visitor[0-9a-z]{9,20}", fullmatch=True)


@st.composite
def customers(draw: st.DrawFn) -> dict[str, Any]:
    """A customer of the business's site: correctly signed, or with a wrong or undecodable signature."""
    customer_id = draw(st.one_of(st.sampled_from(["ana", "bob-42"]), hostile_text))
    try:
        signature = sign_customer(IDENTITY_SECRET, customer_id)
    except UnicodeEncodeError:  # a lone surrogate cannot be signed
        signature = "00"
    return {"id": customer_id, "signature": draw(st.one_of(st.just(signature), hostile_text))}


_frame_types = st.sampled_from(["message", "event", "hello", "link", "ping", ""])
widget_frames = shaped(
    ("type", "id", "text"),
    type=_frame_types,
    id=st.from_regex(r"f[0-9]{1,4}", fullmatch=True),
    text=st.sampled_from(["hi", "where is my order?", "trail shoes", "cancel"]),
    payload=st.sampled_from(["/greet", '/buy{"sku": "TR2"}', "/nothing"]),
    display=hostile_text,
    name=st.sampled_from(["page_view", "cart_abandoned"]),
    data=st.dictionaries(st.sampled_from(["sku", "url", "title"]), hostile_text, max_size=3),
    page=st.sampled_from(["https://shop.example/products/TR2", "/"]),
    to=st.sampled_from(["messenger", "instagram", "web", "rest"]),
)
widget_hello = shaped(
    ("visitor_id",),
    type=st.just("hello"),
    visitor_id=visitor_ids,
    customer=customers(),
    link=st.sampled_from(["tl1=", "tl1=AAAA.BBBB"]),
    confirm=st.booleans(),
    locale=st.sampled_from(["en-US", "de", "zz"]),
    after=st.integers(min_value=-5, max_value=10**6),
    epoch=st.text(max_size=12),
)

_ACCOUNTS = st.sampled_from([PAGE, ACCOUNT, "0"])  # the Messenger page, the Instagram account, neither
_psids = st.from_regex(r"[0-9]{6,16}", fullmatch=True)
messaging_items = shaped(
    ("sender", "recipient", "timestamp"),
    sender=shaped(id=_psids),
    recipient=shaped(id=_ACCOUNTS),
    timestamp=st.integers(min_value=0, max_value=2**42),
    message=shaped(
        mid=st.from_regex(r"m\.[a-z0-9]{4,10}", fullmatch=True),
        text=st.sampled_from(["hi", "where is my order?"]),
        quick_reply=shaped(payload=st.sampled_from(["/greet", "/x"])),
        is_echo=st.booleans(),
        attachments=st.lists(shaped(type=st.sampled_from(["image", "file"]), payload=shaped(url=hostile_text))),
    ),
    postback=shaped(payload=st.sampled_from(["/greet", "GET_STARTED"]), title=hostile_text),
    referral=shaped(ref=hostile_text, source=st.sampled_from(["SHORTLINK", "ADS"])),
    pass_thread_control=shaped(new_owner_app_id=hostile_text, metadata=hostile_text),
    take_thread_control=shaped(previous_owner_app_id=hostile_text),
    read=shaped(watermark=st.integers()),
)


@st.composite
def webhook_envelopes(draw: st.DrawFn, page_object: str) -> dict[str, Any]:
    """A Meta webhook body: the right ``object`` most of the time, entries with items of any shape."""
    entries = st.lists(
        shaped(
            id=_ACCOUNTS,
            time=st.integers(min_value=0),
            messaging=st.lists(messaging_items, max_size=3),
            standby=st.lists(messaging_items, max_size=2),
        ),
        max_size=3,
    )
    return draw(shaped(object=st.just(page_object), entry=entries))


_SHORT_BYTES = st.binary(max_size=24)


def percent_encoded(raw: st.SearchStrategy[bytes] = _SHORT_BYTES) -> st.SearchStrategy[str]:
    """Any bytes as they travel in a URL: percent-encoded, so the server decodes them (or refuses to)."""
    return raw.map(lambda value: quote_from_bytes(value, safe=""))


def text_encodings(text: st.SearchStrategy[str] = hostile_text) -> st.SearchStrategy[bytes]:
    """Text as UTF-8, as Latin-1 (high bytes that are no UTF-8) or with raw surrogates (no encoding at all)."""

    def encode(value: str, encoding: str) -> bytes:
        return value.encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace")

    return st.builds(encode, text, st.sampled_from(["utf-8", "latin-1"]))
