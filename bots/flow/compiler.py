"""Compile validated flow steps into the linear programs of :mod:`bots.flow.model`.

Checks that need the whole bot (unknown texts, slots, flows, actions) happen
in :mod:`bots.flow.checks`; this module only lays out operations and records
what each one refers to, with its position in the YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bots.errors import Problem, did_you_mean
from bots.flow import schema as s
from bots.flow.expressions import Expression, ExpressionError, Template
from bots.flow.model import (
    ActionOp,
    AskOp,
    BranchOp,
    ButtonDef,
    CardDef,
    CarouselOp,
    ChoiceDef,
    EndOp,
    GotoFlowOp,
    HandoffOp,
    JumpOp,
    MediaOp,
    Op,
    OptOutOp,
    QuickReplyDef,
    SayOp,
    SetOp,
    SlotDef,
    SlotMapping,
    TextRef,
    TypingOp,
)
from bots.located_yaml import Mark, mark_of


@dataclass
class Reference:
    """Something an operation names that must exist elsewhere in the bot."""

    kind: str  # text, slot, flow, action, goto, name, template
    name: str
    mark: Mark
    flow: str = ""


@dataclass
class CompiledFlow:
    ops: list[Op] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    label_marks: dict[str, Mark] = field(default_factory=dict)
    step_starts: list[tuple[int, Mark]] = field(default_factory=list)
    pending_gotos: list[tuple[int, str, Mark]] = field(default_factory=list)


class FlowCompiler:
    """Turns one flow's steps into operations; collects references and problems."""

    def __init__(
        self, flow_name: str, slots: dict[str, SlotDef], problems: list[Problem], references: list[Reference]
    ) -> None:
        self.flow_name = flow_name
        self.slots = slots
        self.problems = problems
        self.references = references
        self.out = CompiledFlow()

    # ------------------------------------------------------------------ helpers

    def _problem(self, mark: Mark, code: str, message: str) -> None:
        self.problems.append(Problem(mark, code, f"flow {self.flow_name!r}: {message}"))

    def text(self, value: Any, raw: Any, key: Any, default: Mark) -> TextRef:
        mark = mark_of(raw, key, default)
        if isinstance(value, str):
            self.references.append(Reference("text", value, mark, self.flow_name))
            return TextRef(key=value, mark=mark)
        inline = tuple(sorted(value.items()))
        for _lang, text in inline:
            self.template(text, mark)
        self.references.append(Reference("inline", ",".join(lang for lang, _ in inline), mark, self.flow_name))
        return TextRef(inline=inline, mark=mark)

    def template(self, source: str, mark: Mark) -> Template:
        template = Template(str(source))
        for name in template.names():
            self.references.append(Reference("name", name, mark, self.flow_name))
        return template

    def expression(self, source: str, mark: Mark) -> Expression:
        try:
            expression = Expression.parse(source)
        except ExpressionError as exc:
            self._problem(mark, "FLOW-E011", str(exc))
            return Expression.parse("False")
        for name in expression.names():
            self.references.append(Reference("name", name, mark, self.flow_name))
        for name in expression.functions():
            self.references.append(Reference("function", name, mark, self.flow_name))
        return expression

    def buttons(self, specs: list[s.ButtonSpec], raw: Any, default: Mark) -> tuple[ButtonDef, ...]:
        raw_list = raw.get("buttons") if isinstance(raw, dict) else None
        result = []
        for index, spec in enumerate(specs):
            item = raw_list[index] if isinstance(raw_list, list) and index < len(raw_list) else None
            mark = mark_of(raw_list, index, default)
            title = self.text(spec.title, item, "title", mark)
            if spec.payload is not None:
                kind, value = "postback", spec.payload
            elif spec.url is not None:
                kind, value = "url", spec.url
                if not re.match(r"^(https?://|\{public_url\})", spec.url.strip(), re.IGNORECASE):
                    self._problem(
                        mark_of(item, "url", mark),
                        "FLOW-E016",
                        f"a URL button needs an http(s) address or {{public_url}}/..., not {spec.url!r}",
                    )
            elif spec.continue_in is not None:
                kind, value = "continue", spec.continue_in
            else:
                kind, value = "phone", str(spec.phone)
            field = {"postback": "payload", "continue": "continue_in"}.get(kind, kind)
            result.append(ButtonDef(title, kind, self.template(value, mark_of(item, field, mark))))  # type: ignore[arg-type]
        return tuple(result)

    def quick_replies(self, specs: list[s.QuickReplySpec], raw: Any, default: Mark) -> tuple[QuickReplyDef, ...]:
        raw_list = raw.get("quick_replies") if isinstance(raw, dict) else None
        result = []
        for index, spec in enumerate(specs):
            item = raw_list[index] if isinstance(raw_list, list) and index < len(raw_list) else None
            mark = mark_of(raw_list, index, default)
            result.append(
                QuickReplyDef(
                    self.text(spec.title, item, "title", mark),
                    self.template(spec.payload, mark_of(item, "payload", mark)),
                )
            )
        return tuple(result)

    # ------------------------------------------------------------------ steps

    def steps(self, specs: list[Any], raw: Any, default: Mark) -> None:
        for index, spec in enumerate(specs):
            item = raw[index] if isinstance(raw, list) and index < len(raw) else None
            mark = mark_of(raw, index, default)
            self.out.step_starts.append((len(self.out.ops), mark))
            if spec.id is not None:
                if spec.id in self.out.labels:
                    first = self.out.label_marks[spec.id]
                    self._problem(
                        mark_of(item, "id", mark),
                        "FLOW-E005",
                        f"duplicate step id {spec.id!r} (first used at line {first.line})",
                    )
                else:
                    self.out.labels[spec.id] = len(self.out.ops)
                    self.out.label_marks[spec.id] = mark_of(item, "id", mark)
            self.step(spec, item, mark)

    def emit(self, op: Op) -> int:
        self.out.ops.append(op)
        return len(self.out.ops) - 1

    def step(self, spec: Any, raw: Any, mark: Mark) -> None:
        ops = self.out.ops
        if isinstance(spec, s.SayStep):
            self.emit(
                SayOp(
                    mark,
                    self.text(spec.say, raw, "say", mark),
                    self.buttons(spec.buttons, raw, mark),
                    self.quick_replies(spec.quick_replies, raw, mark),
                )
            )
        elif isinstance(spec, (s.ImageStep, s.VideoStep, s.GifStep)):
            kind: Literal["image", "video", "gif"] = (
                "image" if isinstance(spec, s.ImageStep) else "video" if isinstance(spec, s.VideoStep) else "gif"
            )
            caption = self.text(spec.caption, raw, "caption", mark) if spec.caption is not None else None
            self.emit(
                MediaOp(
                    mark,
                    kind,
                    self.template(getattr(spec, kind), mark_of(raw, kind, mark)),
                    caption,
                    self.buttons(spec.buttons, raw, mark),
                    self.quick_replies(spec.quick_replies, raw, mark),
                )
            )
        elif isinstance(spec, s.CarouselStep):
            cards = []
            raw_cards = raw.get("carousel") if isinstance(raw, dict) else None
            for index, card in enumerate(spec.carousel):
                card_raw = raw_cards[index] if isinstance(raw_cards, list) and index < len(raw_cards) else None
                card_mark = mark_of(raw_cards, index, mark)
                cards.append(
                    CardDef(
                        self.text(card.title, card_raw, "title", card_mark),
                        self.text(card.subtitle, card_raw, "subtitle", card_mark)
                        if card.subtitle is not None
                        else None,
                        self.template(card.image, mark_of(card_raw, "image", card_mark)) if card.image else None,
                        self.buttons(card.buttons, card_raw, card_mark),
                    )
                )
            self.emit(CarouselOp(mark, tuple(cards), self.quick_replies(spec.quick_replies, raw, mark)))
        elif isinstance(spec, s.TypingStep):
            self.emit(TypingOp(mark, spec.typing))
        elif isinstance(spec, s.AskStep):
            self._ask(spec, raw, mark)
        elif isinstance(spec, s.SetStep):
            assignments: list[tuple[str, Any]] = []  # value: literal, Template or Expression
            for name, value in spec.set.items():
                value_mark = mark_of(raw.get("set") if isinstance(raw, dict) else None, name, mark)
                self.references.append(Reference("slot", name, value_mark, self.flow_name))
                if isinstance(value, str) and value.startswith("="):
                    assignments.append((name, self.expression(value[1:], value_mark)))
                elif isinstance(value, str):
                    assignments.append((name, self.template(value, value_mark)))
                else:
                    assignments.append((name, value))
            self.emit(SetOp(mark, tuple(assignments)))
        elif isinstance(spec, s.IfStep):
            self._if(spec, raw, mark)
        elif isinstance(spec, s.GotoStep):
            index = self.emit(JumpOp(mark, -1))  # patched once all labels are known
            self.out.pending_gotos.append((index, spec.goto, mark_of(raw, "goto", mark)))
        elif isinstance(spec, s.ActionStep):
            self.references.append(Reference("action", spec.action, mark_of(raw, "action", mark), self.flow_name))
            if spec.on_error is None:
                self.emit(ActionOp(mark, spec.action, None))
            else:
                at = self.emit(ActionOp(mark, spec.action, -1))
                jump = self.emit(JumpOp(mark, -1))
                error_pc = len(ops)
                self.steps(spec.on_error, raw.get("on_error") if isinstance(raw, dict) else None, mark)
                ops[at] = ActionOp(mark, spec.action, error_pc)
                ops[jump] = JumpOp(mark, len(ops))
        elif isinstance(spec, s.HandoffStep):
            text = None if isinstance(spec.handoff, bool) else self.text(spec.handoff, raw, "handoff", mark)
            if spec.handoff is False:
                self._problem(mark, "FLOW-E012", "handoff: false does nothing; remove the step")
            self.emit(HandoffOp(mark, text))
        elif isinstance(spec, s.EndStep):
            self.emit(EndOp(mark))
        elif isinstance(spec, s.OptOutStep):
            self.emit(OptOutOp(mark, spec.opt_out))
        elif isinstance(spec, s.InvalidStep):
            # A broken step (already reported) may stop or go on: a branch to the next step stands for both, so
            # the steps after it are not called unreachable, nor a loop through it endless
            self.emit(BranchOp(mark, Expression.parse("False"), len(ops) + 1))
        else:  # pragma: no cover - the schema admits no other kind
            raise AssertionError(type(spec))

    def _ask(self, spec: s.AskStep, raw: Any, mark: Mark) -> None:
        ops = self.out.ops
        slot_mark = mark_of(raw, "ask", mark)
        self.references.append(Reference("slot", spec.ask, slot_mark, self.flow_name))
        base = self.slots.get(spec.ask, SlotDef(spec.ask, "any"))
        slot_type = spec.type or base.type
        pattern = base.pattern
        if spec.pattern is not None:
            try:
                pattern = re.compile(spec.pattern)
            except re.error as exc:
                self._problem(mark_of(raw, "pattern", mark), "FLOW-E013", f"invalid pattern: {exc}")
        if slot_type == "regex" and pattern is None:
            self._problem(mark, "FLOW-E013", f"asking for {spec.ask!r} as regex needs a pattern")
        raw_choices = raw.get("choices") if isinstance(raw, dict) else None
        choices = tuple(
            ChoiceDef(
                self.text(
                    choice.title,
                    raw_choices[i] if isinstance(raw_choices, list) else None,
                    "title",
                    mark_of(raw_choices, i, mark),
                ),
                choice.value,
            )
            for i, choice in enumerate(spec.choices)
        )
        if slot_type == "choice" and not choices and not base.values:
            self._problem(mark, "FLOW-E013", f"asking for choice slot {spec.ask!r} needs choices")
        validator = SlotDef(
            spec.ask,
            slot_type,
            pattern,
            base.normalize,
            base.values or tuple(c.value for c in choices),
            base.min,
            base.max,
            currency=base.currency,
        )
        invalid = self.text(spec.invalid, raw, "invalid", mark) if spec.invalid is not None else None
        reprompt = self.text(spec.reprompt, raw, "reprompt", mark) if spec.reprompt is not None else None
        if (spec.prompt is None) == (spec.ask_action is None):
            self._problem(mark, "FLOW-E013", f"asking for {spec.ask!r} needs either a prompt or an ask_action")
        prompt = self.text(spec.prompt, raw, "prompt", mark) if spec.prompt is not None else None
        if spec.ask_action is not None:
            self.references.append(
                Reference("action", spec.ask_action, mark_of(raw, "ask_action", mark), self.flow_name)
            )
        at = self.emit(JumpOp(mark, -1))  # placeholder for the AskOp
        jump = self.emit(JumpOp(mark, -1))
        failure_pc = len(ops)
        if spec.on_failure is None:
            self.emit(EndOp(mark))
        else:
            self.steps(spec.on_failure, raw.get("on_failure") if isinstance(raw, dict) else None, mark)
        ops[at] = AskOp(
            mark,
            spec.ask,
            prompt,
            validator,
            choices,
            spec.style,
            spec.allow_other,
            invalid,
            spec.max_attempts,
            failure_pc,
            spec.always,
            spec.on_digression,
            spec.max_reprompts,
            tuple(
                SlotMapping(m.type, m.entity, m.role, m.group, _names(m.intent), _names(m.not_intent), m.value)
                for m in spec.mappings
            ),
            spec.optional,
            spec.ask_action,
            reprompt,
        )
        ops[jump] = JumpOp(mark, len(ops))

    def _if(self, spec: s.IfStep, raw: Any, mark: Mark) -> None:
        ops = self.out.ops
        branches: list[tuple[str, list[Any], Any, Mark]] = [
            (spec.if_, spec.then, raw.get("then") if isinstance(raw, dict) else None, mark_of(raw, "if", mark))
        ]
        raw_elifs = raw.get("elif") if isinstance(raw, dict) else None
        for index, branch in enumerate(spec.elif_):
            branch_raw = raw_elifs[index] if isinstance(raw_elifs, list) and index < len(raw_elifs) else None
            branches.append(
                (
                    branch.if_,
                    branch.then,
                    branch_raw.get("then") if isinstance(branch_raw, dict) else None,
                    mark_of(branch_raw, "if", mark_of(raw_elifs, index, mark)),
                )
            )
        end_jumps = []
        for condition, then, then_raw, condition_mark in branches:
            expression = self.expression(condition, condition_mark)
            branch_at = self.emit(JumpOp(mark, -1))
            self.steps(then, then_raw, condition_mark)
            end_jumps.append(self.emit(JumpOp(mark, -1)))
            ops[branch_at] = BranchOp(condition_mark, expression, len(ops))
        if spec.else_:
            self.steps(spec.else_, raw.get("else") if isinstance(raw, dict) else None, mark)
        for index in end_jumps:
            ops[index] = JumpOp(mark, len(ops))

    def finish_gotos(self, flow_names: set[str]) -> list[tuple[str, str | None, Mark]]:
        """Resolve ``goto`` targets; return the cross-flow (flow, label) targets for later checks."""
        cross: list[tuple[str, str | None, Mark]] = []
        for index, target, mark in self.out.pending_gotos:
            local = target in self.out.labels
            if local and target in flow_names:
                self._problem(
                    mark,
                    "FLOW-E006",
                    f"goto {target!r} is ambiguous: it names both a step of this "
                    f"flow and a flow; write '{self.flow_name}.{target}' or rename",
                )
            if local:
                self.out.ops[index] = JumpOp(mark, self.out.labels[target])
            elif target in flow_names:
                self.out.ops[index] = GotoFlowOp(mark, target, None)
                cross.append((target, None, mark))
            elif "." in target and target.split(".", 1)[0] in flow_names:
                flow, label = target.split(".", 1)
                if flow == self.flow_name and label in self.out.labels:
                    self.out.ops[index] = JumpOp(mark, self.out.labels[label])
                else:
                    self.out.ops[index] = GotoFlowOp(mark, flow, label)
                    cross.append((flow, label, mark))
            else:
                self._problem(
                    mark,
                    "FLOW-E004",
                    f"goto {target!r}: no step with that id in this flow and no flow of that name"
                    + did_you_mean(target, [*self.out.labels, *flow_names]),
                )
                self.out.ops[index] = EndOp(mark)
        return cross


def successors(ops: list[Op] | tuple[Op, ...], pc: int) -> list[int]:
    op = ops[pc]
    if isinstance(op, JumpOp):
        return [op.target]
    if isinstance(op, BranchOp):
        return [pc + 1, op.target]
    if isinstance(op, AskOp):
        return [pc + 1, op.failure_pc]
    if isinstance(op, ActionOp):
        return [pc + 1] + ([op.error_pc] if op.error_pc is not None else [])
    if isinstance(op, (GotoFlowOp, EndOp, HandoffOp)):
        return []
    return [pc + 1]


def reachable(ops: list[Op] | tuple[Op, ...], entries: set[int]) -> set[int]:
    seen: set[int] = set()
    todo = [pc for pc in entries if 0 <= pc < len(ops)]
    while todo:
        pc = todo.pop()
        if pc in seen or pc >= len(ops):
            continue
        seen.add(pc)
        todo.extend(successors(ops, pc))
    return seen


def _names(value: str | list[str] | None) -> tuple[str, ...]:
    """An intent or a list of intents, as Rasa's mappings accept either."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
