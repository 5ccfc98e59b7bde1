"""The documentation's complete example is a bot that loads and answers."""

from __future__ import annotations

from bots.flow.engine import Engine
from bots.flow.loader import load_bot
from bots.types import Identity, Inbound
from nlu_models.char_ngrams import CharNgramInterpreter
from tests.conftest import REPO


def test_the_docs_example_bot_validates_and_talks() -> None:
    result = load_bot(
        REPO / "docs" / "example-bot", languages=("en", "de"), default_language="en", actions=["lookup_order"]
    )
    assert result.errors == [], "\n".join(map(str, result.errors))
    bot = result.bot
    assert bot is not None and bot.name == "Shoebot"
    engine = Engine(bot)
    interpreter = CharNgramInterpreter.for_bot(bot)
    state = engine.new_state()
    text = "which size should i take?"
    turn = engine.handle(
        state,
        Inbound(Identity("t", "u"), "message", text=text),
        interpreter.parse_sync(text, __import__("nlu_models.base", fromlist=["LanguageHints"]).LanguageHints()),
        1.0,
    )
    assert turn.outbound[0].text == "Which EU size do you usually wear?"  # type: ignore[union-attr]
    documented = (REPO / "docs" / "flows.md").read_text()
    for name in ("bot.yml", "texts/en.yml", "texts/de.yml", "nlu/en.yml", "actions.py"):
        assert (REPO / "docs" / "example-bot" / name).read_text().rstrip() in documented, name
