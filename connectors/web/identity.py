"""Who is chatting on the website.

Every browser gets an anonymous visitor id (random, kept in the site's own
storage). A business whose customers are logged in may also pass its own
customer id, signed with HMAC-SHA256 under a secret shared with Threadline,
so one customer finds the same thread on every device. An id without a
valid signature is refused: otherwise anyone could read anyone's chat by
typing a customer number.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from bots.types import is_text, secrets_match

_VISITOR = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
WEB_CHANNEL = "web"
CUSTOMER_CHANNEL = "customer"


class IdentityError(ValueError):
    pass


def check_visitor_id(value: object) -> str:
    if not isinstance(value, str) or not _VISITOR.match(value):
        raise IdentityError("visitor_id must be 16 to 64 letters, digits, - or _")
    return value


def sign_customer(secret: str, customer_id: str) -> str:
    """The signature a business's server puts next to its customer id (hex HMAC-SHA256)."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def check_customer(secret: str, customer: object) -> str | None:
    """The verified customer id, None when none was given; raises for a bad or unsigned one."""
    if customer is None:
        return None
    if not isinstance(customer, dict) or not isinstance(customer.get("id"), str) or not customer["id"]:
        raise IdentityError("customer must be an object with an 'id' and a 'signature'")
    customer_id: str = customer["id"]
    if len(customer_id) > 256:
        raise IdentityError("customer id is longer than 256 characters")
    if not is_text(customer_id):
        raise IdentityError("customer id is not valid Unicode text")
    if not secret:
        raise IdentityError("signed customer ids are not enabled on this server (connectors.web.identity_secret)")
    signature = customer.get("signature")
    if not isinstance(signature, str) or not secrets_match(signature.lower(), sign_customer(secret, customer_id)):
        raise IdentityError("the customer id's signature is missing or wrong")
    return customer_id
