"""Which of a bot's languages have too few examples of their own and lean on the sentence encoder (zero-shot).

With an encoder, an intent taught in English is also recognised in German; without one, an intent with
no German examples is found in German only where the words happen to look alike. ``threadline validate``
and ``threadline nlu-test`` print this, so an author knows where the bot is guessing across languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlu_models.encoder.registry import EXTRA_HINT, chosen
from nlu_models.encoder.registry import languages as encoder_languages

SWITCH = ", settings.nlu_encoder: auto"
FEW = 3  # fewer examples of an intent in a language than this: that language leans on the others for it


@dataclass(frozen=True)
class Reliance:
    language: str
    thin: tuple[str, ...]  # intents with fewer than FEW examples in this language (and enough elsewhere)
    served: bool  # the bot's encoder reads this language, so the other languages' examples serve it

    def describe(self, encoder_name: str | None) -> str:
        intents = ", ".join(self.thin[:5]) + (f" and {len(self.thin) - 5} more" if len(self.thin) > 5 else "")
        plural = "s" if len(self.thin) != 1 else ""
        head = f"{self.language}: {len(self.thin)} intent{plural} with fewer than {FEW} examples ({intents})"
        if self.served:
            return f"{head}: served by the sentence encoder {encoder_name} from the other languages' examples"
        if encoder_name is None:
            return f"{head}: add examples, or let a sentence encoder serve them from others ({EXTRA_HINT}{SWITCH})"
        return f"{head}: the sentence encoder {encoder_name} does not read this language; add examples"


def reliance(
    examples: dict[str, dict[str, tuple[str, ...]]], languages: tuple[str, ...], setting: str
) -> tuple[str | None, list[Reliance]]:
    """(the encoder the setting chooses here, the languages with thin intents), in the bot's language order."""
    name = chosen(setting)
    covered = encoder_languages(name)
    intents = {intent for per_intent in examples.values() for intent, items in per_intent.items() if items}
    found = []
    for language in languages:
        own = examples.get(language, {})
        thin = tuple(
            sorted(
                intent
                for intent in intents
                if len(own.get(intent, ())) < FEW
                and any(len(examples[other].get(intent, ())) >= FEW for other in examples if other != language)
            )
        )
        if thin:
            found.append(Reliance(language, thin, language in covered))
    return name, found
