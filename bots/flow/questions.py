"""A question the flow asked, answered: the answer taken, or refused and the question asked again."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bots.flow.answers import NO, QUESTION_MARK, Answer, fold, named_choices, read_answer
from bots.flow.corrections import correct
from bots.flow.ellipsis import reads
from bots.flow.interpreter import execute, interrupt, request_validation, restart_flow, start_flow
from bots.flow.mappings import BUILT_IN_ENTITIES, builtin_answer, entity_span, holds_builtin, mapped_answer
from bots.flow.model import AskOp, Bot, Flow
from bots.flow.prefill import mark_used, titles_named, values_named
from bots.flow.prompts import prompt
from bots.flow.run import ChoiceTitles, Run
from bots.flow.slot_values import TYPED
from bots.flow.state import Frame
from bots.flow.triggers import TriggerMatch, message_payload, off_topic_flow, question_words, without_words
from bots.types import NLUResult
from nlu_models.entity_words import UNSPACED

MOSTLY_THE_ANSWER = 3  # at most this many other words and a message is its answer ("my order is ST-123456")
ECHOED_LETTERS = 4  # a question's words this long, echoed around an answer, say nothing more ("número", "number")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")  # "e-mail", "it's": one word each
_LETTER_OR_DIGIT = re.compile(r"\w")
BARE_VALUE = re.compile(r"[\d\s.,:/#+-]+")  # digits and the marks between them, nothing else


def choice_titles(bot: Bot, flow: Flow) -> ChoiceTitles:
    """For each ask with choices: every language's title, folded, mapped to the value."""
    titles: ChoiceTitles = {}
    for pc, op in enumerate(flow.ops):
        if isinstance(op, AskOp) and op.choices:
            mapping: dict[str, Any] = {}
            for choice in op.choices:
                texts = (
                    bot.responses.get(choice.title.key, {}).values()
                    if choice.title.key
                    else [(text,) for _lang, text in choice.title.inline]
                )
                for variants in texts:
                    for text in variants:
                        mapping.setdefault(fold(text), choice.value)
            titles[pc] = mapping
    return titles


def answer(run: Run, frame: Frame, text: str, nlu: NLUResult | None, match: TriggerMatch | None) -> None:
    """The customer's message to a waiting question: its answer, another flow interrupting, or a refusal."""
    flow = run.bot.flows[frame.flow]
    op = flow.ops[frame.pc]
    assert isinstance(op, AskOp)
    if correct(run, frame, text, nlu):
        return
    if run.prepared.triggers.is_unsure(text, run.state.language or run.bot.default_language, _asked(run, op)):
        unsure(run, frame, op)
        return
    titles = run.prepared.choice_titles[flow.name].get(frame.pc, {})
    payload = message_payload(text, nlu)
    typed = payload is None
    language = run.state.language
    reply = read_answer(
        text, op.validator, titles=titles, intent=nlu.intent if nlu else None, typed=typed, language=language
    )
    if op.mappings:  # Rasa's slot mappings say where the value comes from, and a quick reply of the question's own
        reply = mapped_answer(op, text, nlu, payload, titles)
        reply = reply if reply.ok else _offered(op, text, titles)
    elif op.slot in run.turn.filled:  # an entity or payload value is the answer before the free text is
        value, span = run.turn.filled[op.slot]
        reply = Answer(True, value, span if span is not None else reply.span)
    elif not reply.ok or (op.validator.type in TYPED and holds_builtin(op, nlu)):
        # "zwei", "forty-two": the NLU's built-in entity of the question's type; for a date, time or amount it
        # knows more than the typed digits ("$50", "morgen um 10"), so it is the answer whenever there is one
        reply = builtin_answer(op, text, nlu)
    if op.choices and not op.allow_other and reply.ok and op.validator.type != "choice":
        allowed = {fold(str(c.value)) for c in op.choices}
        if fold(str(reply.value)) not in allowed and fold(text) not in titles:
            reply = Answer(False)
    # "they're too small" to "shall we return order ST-234567?": the reason a later question asks for, kept for it
    later = _later_choices_named(run, frame, text)
    # "at 3pm" to "which day?": a time, e-mail address or phone number for a later question, kept for it (the
    # latest said) unless the message turns out to be another request, whose values are its own
    for_later = _values_for_later(run, frame)
    for slot, value in later.items():
        frame.given.setdefault(slot, value)
    free_text = op.validator.type in ("text", "any") and reply.span is None  # an entity's value is no free text
    explicit = match is not None and match.kind == "payload"
    speaking = language or run.bot.default_language
    after_cancel = run.prepared.triggers.after_cancel(text, speaking, frame.flow)
    if after_cancel is not None and (match is None or match.flow == frame.flow):
        # what the customer lets go may name the open flow ("forget the gift card, wheres my order ST-123456"):
        # the request is in the rest
        rest = run.prepared.triggers.find(after_cancel, None, nlu, speaking)
        match = rest if rest is not None and rest.flow != frame.flow else match
    if (
        match is not None
        and match.flow != frame.flow
        and not explicit
        and flow.interruptible
        and after_cancel is not None
        and not _only_the_answer(run, op, after_cancel, titles, typed)
    ):
        # "never mind, actually where is my order ST-345678" to the return's order number: that request, even
        # though the number would answer the question (the customer let the return go); "never mind, it's
        # ST-123456" is the answer ("never mind" the question asked back)
        run.state.fallback_streak = 0
        _let_go(run, match.flow, text)
        return
    if (
        reply.ok
        and not explicit
        and not (free_text and match is not None)
        and not is_aside(run, frame, text, reply, match, nlu)
    ):
        frame.given.update(for_later)
        _fill(run, frame, op, reply)
        return
    if not reply.ok and _asked_anew(run, frame, match, typed):
        restart_flow(run, text)
        return
    # Another request interrupts the question; so does a message about another topic that is no answer ("can you
    # tell me a joke?"): the bot says it cannot help with that (the fallback), then asks again with a resume line.
    # no request, but a value for a later question ("send it to bob@example.com" to "how much?"): no off-topic
    kept = match is None and bool(for_later)
    aside = match.flow if match is not None else None if reply.ok or kept else off_topic_flow(run.bot, nlu)
    if (
        aside is not None
        and not _a_yes_to_no_yes_or_no(op, nlu, match)
        and not later
        and aside != frame.flow
        and flow.interruptible
        and not _bare_value(text, match)
        and not _refused_value(op, text, nlu, match)
        and not _choices_named(op, text, titles, typed, language)
        and not _value_asked_later(run, frame, text)
    ):
        missed = match is None and aside == run.bot.fallback_flow  # counted as at the top: the fallback's streak
        run.state.fallback_streak = run.state.fallback_streak + 1 if missed else 0
        interrupt(run, frame, aside)
        return
    frame.given.update(for_later)
    if reply.ok:
        _fill(run, frame, op, reply)
        return
    reject(run, frame, op, explained=_asks_back(text), text=text)


def _asks_back(text: str) -> bool:
    """A question with no digit in it ("where do I find the order number?") asks about the question, not a wrong
    answer: it is asked again, with its help, without the ``invalid`` line ("that doesn't look like one")."""
    return QUESTION_MARK.search(text) is not None and not any(character.isdigit() for character in text)


def _asked(run: Run, op: AskOp) -> Callable[[], str] | None:
    """The question's text in the thread's language, rendered only when it is needed."""
    prompt_ref = op.prompt
    return None if prompt_ref is None else lambda: run.text(prompt_ref)


def _echoed(run: Run, op: AskOp, shortest: int = 1) -> frozenset[str]:
    """The question's words a customer may echo around the answer ("my order number is ...")."""
    return question_words(run.text(op.prompt), shortest) if op.prompt is not None else frozenset()


def _only_the_answer(run: Run, op: AskOp, text: str, titles: dict[str, Any], typed: bool) -> bool:
    """Whether ``text`` is the question's answer with at most one word around it besides filler and the
    question's own words ("it's ST-123456", "my order number is ST-234567", "found it: ST-234567"); "where is
    my order ST-345678" asks something else."""
    language = run.state.language or run.bot.default_language
    reply = read_answer(text, op.validator, titles=titles, typed=typed, language=language)
    if not reply.ok:
        return False
    if reply.span is None:
        return True
    return len(run.prepared.triggers.beyond_filler(_around(text.strip(), reply.span), language, _echoed(run, op))) <= 1


def _let_go(run: Run, flow: str, text: str) -> None:
    """The open flows end (the customer said to leave them) and ``flow`` starts on the rest of the message."""
    for dropped in reversed(run.state.stack):
        run.log("flow", flow=dropped.flow, status="cancelled", reason="cancel_then_request")
    run.state.stack.clear()
    run.state.message_tag = None
    start_flow(run, flow, prefill=text)


def _offered(op: AskOp, text: str, titles: dict[str, Any]) -> Answer:
    """The question's choice the message is, pressed or typed (the value its quick reply sends, or its title);
    NO when it is none. An imported Rasa button (``/inform{"kind": "a"}``) is such a choice, so it answers the
    question whatever the slot's mappings say, as the button did in Rasa."""
    folded = fold(text)
    if folded in titles:
        return Answer(True, titles[folded])
    return next((Answer(True, c.value) for c in op.choices if fold(str(c.value)) == folded), NO)


def _asked_anew(run: Run, frame: Frame, match: TriggerMatch | None, typed: bool) -> bool:
    """The open flow's own request made again, in words, with a value the flow reads and no answer to its question
    ("and i'll take the city glide in 41" while it asks to confirm the Trail Runner 2): it starts over with them.
    Not a Rasa form, whose mappings decide what a message fills."""
    flow = run.bot.flows[frame.flow]
    return (
        typed
        and match is not None
        and match.kind == "intent"
        and match.flow == frame.flow
        and flow.form is None
        and bool(set(run.turn.filled) & reads(flow))
        and run.state.stack[-1] is frame
    )


def _values_for_later(run: Run, frame: Frame) -> dict[str, object]:
    """ "at 3pm" to "which day?", "send it to bob@example.com" to "how much?": a time, an e-mail address or a phone
    number for a later question of the flow. Not in a Rasa form, whose mappings decide."""
    return values_named(run, frame.flow, after=frame.pc) if run.bot.flows[frame.flow].form is None else {}


def _a_yes_to_no_yes_or_no(op: AskOp, nlu: NLUResult | None, match: TriggerMatch | None) -> bool:
    """ "ok" or "yes" to a question that is no yes-or-no ("How much should the card be worth?"): no request of its
    own, so the question is asked again, not "Great! What would you like to do?" and then "Back to your
    question". A "no" still lets the question go (the bot's ``deny`` flow)."""
    return (
        match is not None
        and match.kind == "intent"
        and nlu is not None
        and nlu.intent == "affirm"
        and op.validator.type != "bool"
    )


def is_aside(
    run: Run, frame: Frame, text: str, reply: Answer, match: TriggerMatch | None, nlu: NLUResult | None
) -> bool:
    """Whether a message holding a valid answer is really about something else: the documented rule.

    It is, when another flow's trigger matches what is left once the answer is
    taken out, and that rest is a question of its own ("where is my order
    ST-123456?") or, for a flow that does not ask the same slot, more than a
    few words and more than the answer itself. So "it's ST-123456", "50",
    "my e-mail is anna@example.com" and "下周五吧" answer the question, while
    "when will my shoes arrive? ST-234567" goes to the order status.
    """
    if match is None or match.flow == frame.flow:
        return False
    op = run.bot.flows[frame.flow].ops[frame.pc]
    assert isinstance(op, AskOp)
    # "tomorrow, but not before 10am", "yes, it's ST-123456": the yes or no qualifies the answer; a message opening
    # with a "no" refuses what it names, but to a yes-or-no question it is the answer
    if (
        match.kind == "intent"
        and nlu is not None
        and nlu.intent in YES_OR_NO
        and (not _NO_FIRST.match(text) or op.validator.type == "bool")
    ):
        return False
    stripped = text.strip()
    rest = stripped if reply.span is None else _around(stripped, reply.span)
    if match.kind in ("regex", "keyword"):  # the trigger must lie in the rest, not in the answer itself
        language = run.state.language or run.bot.default_language
        again = run.prepared.triggers.find(rest, None, nlu, language)
        if again is None or again.flow == frame.flow:
            return False
    if QUESTION_MARK.search(rest):
        return True
    if any(isinstance(other, AskOp) and other.slot == op.slot for other in run.bot.flows[match.flow].ops):
        return False  # the other flow wants the same value: the customer is giving it
    if _mostly_the_value(stripped, rest):
        return False  # "2030年5月12日", "next Friday": a value of the question's type, whatever the NLU guessed
    # what stands around the answer, less the question's own longer words: "mi número es el 612 34 56 78" to "¿A
    # qué número de teléfono te llamamos?" says little besides the number ("número" echoes the question), while
    # "how much is shipping for 50 euros" to "How much should the gift card be worth?" asks about shipping
    return _words(without_words(rest, _echoed(run, op, ECHOED_LETTERS))) > MOSTLY_THE_ANSWER


def _around(text: str, span: tuple[int, int]) -> str:
    """What stands around a value in a message, the value taken out."""
    return f"{text[: span[0]]} {text[span[1] :]}"


def _mostly_the_value(text: str, rest: str) -> bool:
    """Whether the value read from ``text`` has at least as many letters and digits as the ``rest`` around it."""
    around = len(_LETTER_OR_DIGIT.findall(rest))
    return len(_LETTER_OR_DIGIT.findall(text)) - around >= around


def _bare_value(text: str, match: TriggerMatch | None) -> bool:
    """A message of digits alone ("12") with a question open is an attempt at its answer, wrong or not:
    asked again, never taken as another request the NLU guessed from a number. A button still leads on."""
    return (match is None or match.kind != "payload") and BARE_VALUE.fullmatch(text.strip()) is not None


def _value_asked_later(run: Run, frame: Frame, text: str) -> bool:
    """A message that is a value a later question of the open flow asks for, with nothing but filler around it
    ("ST-456789", "it's ST-456789" to "shall we return ST-234567?"), gives it to this flow, not another request
    its value triggers; the open question is not answered by it (its ``max_attempts`` and ``on_failure`` decide
    what comes next). A word of a request ("track ST-234567") or a question mark makes it another request."""
    flow = run.bot.flows[frame.flow]
    later = {op.slot for op in flow.ops[frame.pc + 1 :] if isinstance(op, AskOp)}
    language = run.state.language or run.bot.default_language
    stripped = text.strip()
    for slot, (_value, span) in run.turn.filled.items():
        if slot in later and span is not None:
            rest = _around(stripped, span)
            return not QUESTION_MARK.search(rest) and run.prepared.triggers.only_filler(rest, language)
    return False


YES_OR_NO = frozenset({"affirm", "deny"})  # the intents a bool answer reads (answers.read_answer)
# a message opening with a "no" refuses what it names ("no thanks, i don't need a call tomorrow")
_NO_FIRST = re.compile(r"\W*(?:no|nope|nah|nein|nee|non|nie|não|nao|nu|không|khong|不)(?!\w)", re.IGNORECASE)
LATER_CHOICE_WORDS = 6  # "they're a bit too small": longer messages say more than a later question's choice


def _later_choices_named(run: Run, frame: Frame, text: str) -> dict[str, Any]:
    """The choices of the open flow's later questions that a short message names by title, without a question
    mark ("they're too small", "yes, they're too big" to "do you want to return order ST-234567?"): the message
    stays with this flow, which keeps them for those questions (``Frame.given``), rather than being another
    request the NLU guessed from them (a size question). It does not answer the open question: "wrong order, too
    small" and "too small, but I'll keep them" say no yes. A Rasa form keeps none, as at its start."""
    flow = run.bot.flows[frame.flow]
    if flow.form is not None or QUESTION_MARK.search(text) or _words(text) > LATER_CHOICE_WORDS:
        return {}
    # never a yes or no: "yes, cancel it" to "what's your order number?" must not confirm the cancel unasked
    kinds = {op.slot: op.validator.type for op in flow.ops[frame.pc + 1 :] if isinstance(op, AskOp)}
    named = titles_named(run, frame.flow, text, after=frame.pc)
    return {slot: value for slot, value in named.items() if kinds.get(slot) != "bool"}


def _choices_named(op: AskOp, text: str, titles: dict[str, Any], typed: bool, language: str | None) -> bool:
    """A message naming several of the question's choices ("not too small, too big") is an attempt at its
    answer, asked again, not another request the NLU guessed from the words of one of them."""
    if op.validator.type != "choice" or not typed:
        return False
    return len(named_choices(text, op.validator, titles, language=language)) > 1


def _refused_value(op: AskOp, text: str, nlu: NLUResult | None, match: TriggerMatch | None) -> bool:
    """A message that is mostly a value of the question's type that will not do ("600 euros" to an amount up to
    500) is an attempt at the answer, asked again, not another request the NLU guessed from it."""
    if (match is not None and match.kind == "payload") or nlu is None:
        return False
    stripped = text.strip()
    for entity in nlu.entities:
        span = entity_span(entity, text) if entity.entity in BUILT_IN_ENTITIES.get(op.validator.type, ()) else None
        if span is not None and _mostly_the_value(stripped, _around(stripped, span)):
            return True
    return False


def _words(text: str) -> float:
    """Words in ``text``; scripts without spaces count two characters as a word."""
    ideographs = len(UNSPACED.findall(text))
    return len(_WORD.findall(UNSPACED.sub(" ", text))) + ideographs / 2


def reject(run: Run, frame: Frame, op: AskOp, *, explained: bool, **why: Any) -> None:
    """An answer that will not do: ask again, or after ``max_attempts`` take the ask's failure path."""
    frame.attempts += 1
    run.log("slot_rejected", name=op.slot, **why, attempt=frame.attempts)
    if frame.attempts >= op.max_attempts:
        frame.waiting = False
        frame.attempts = 0
        frame.pc = op.failure_pc
        run.log("flow", flow=frame.flow, status="ask_failed", slot=op.slot)
        said = len(run.turn.outbound)
        execute(run)
        if len(run.turn.outbound) == said and not run.state.stack:
            _offer_a_way_on(run)
        return
    if op.invalid is not None and not explained:
        run.say(op.invalid)
    prompt(run, op, again=True)


def _offer_a_way_on(run: Run) -> None:
    """A question given up on that ended its flow unsaid (no ``on_failure`` of its own): the customer is not
    left without a reply; the bot offers a way on, as when it stops re-asking (``digressions.give_up``), or
    else says it did not understand (the fallback flow)."""
    way_on = run.bot.digressions.give_up_flow or run.bot.fallback_flow
    if way_on is not None:
        start_flow(run, way_on, prefill=None)


def unsure(run: Run, frame: Frame, op: AskOp) -> None:
    """ "I don't know": an optional question is skipped, its slot left empty; any other is explained (the bot's
    ``dont_know.response``) and asked again, not counted as a wrong answer. The flow is never dropped unsaid."""
    run.log("slot_unknown", name=op.slot, optional=op.optional)
    if op.optional:
        run.set_slot(op.slot, None, "answer")
        frame.waiting, frame.attempts = False, 0
        frame.pc += 1
        execute(run)
        return
    if run.bot.dont_know.response is not None:
        run.say(run.bot.dont_know.response)
    prompt(run, op, again=True)


def _fill(run: Run, frame: Frame, op: AskOp, reply: Answer) -> None:
    run.state.fallback_streak = 0  # understood: the fallback's "misses in a row" start again
    mark_used(run, op, reply.span)  # the part of the message that answered: the next question reads the rest
    run.set_slot(op.slot, reply.value, "answer")
    if op.slot not in frame.asked:
        frame.asked.append(op.slot)
    if request_validation(run, frame, op):
        return
    frame.waiting = False
    frame.attempts = 0
    frame.pc += 1
    execute(run)
