"""``threadline shell``: talk to the bot in the terminal, through the same pipeline as every channel.

Buttons and quick replies are numbered: type the number to press one. Lines can be edited and recalled with
the arrow keys; the history is kept in the data folder (``bots.cli.line_history``).
``:event NAME {json}`` sends a site event, ``:quit`` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bots.cli.line_history import line_history
from bots.config import Config, load_config
from bots.runtime import Runtime, open_runtime
from bots.types import Button, Carousel, Custom, Identity, Inbound, Media, Outbound, QuickReply, Text

CHANNEL = "shell"


def render(messages: list[Outbound]) -> tuple[list[str], list[Button | QuickReply]]:
    """Lines to print and the choices the numbers stand for."""
    lines: list[str] = []
    choices: list[Button | QuickReply] = []

    def number(items: tuple[Button, ...] | tuple[QuickReply, ...], indent: str = "   ") -> None:
        for item in items:
            choices.append(item)
            target = f" -> {item.value}" if isinstance(item, Button) and item.kind != "postback" else ""
            lines.append(f"{indent}{len(choices)}) {item.title}{target}")

    for message in messages:
        if isinstance(message, Text):
            lines.append(f"bot: {message.text}")
            number(message.buttons)
            number(message.quick_replies)
        elif isinstance(message, Media):
            lines.append(f"bot: [{message.media}] {message.url}" + (f" — {message.caption}" if message.caption else ""))
            number(message.buttons)
            number(message.quick_replies)
        elif isinstance(message, Carousel):
            for card in message.cards:
                lines.append(f"bot: [card] {card.title}" + (f" — {card.subtitle}" if card.subtitle else ""))
                number(card.buttons, "     ")
            number(message.quick_replies)
        elif isinstance(message, Custom):
            lines.append(f"bot: [custom] {json.dumps(message.data, ensure_ascii=False)}")
    return lines, choices


def shell(config_path: Path, sender: str) -> int:
    config = load_config(config_path)
    return asyncio.run(_shell(config, sender))


async def _shell(config: Config, sender: str) -> int:
    async with open_runtime(config) as runtime:
        with line_history(config.data_dir):
            return await _chat(runtime, sender)


async def _chat(runtime: Runtime, sender: str) -> int:
    """Talk until :quit or the end of input; the answer is the exit code."""
    print(f"Chatting with {runtime.bot.name} as {sender!r}. Type :quit to leave, a number to press a button.")
    identity = Identity(CHANNEL, sender)
    choices: list[Button | QuickReply] = []
    first = await runtime.threads.turn(Inbound(identity, "event", event="conversation_start", timestamp=time.time()))
    lines, choices = render(first.outbound)
    print("\n".join(lines))
    while True:
        try:
            text = (await asyncio.to_thread(input, "you: ")).strip()
        except UnicodeDecodeError:
            print("(that was not valid UTF-8 text; nothing was sent)")
            continue
        except EOFError:
            print()
            return 0
        if not text:
            continue
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            print("(that was not valid UTF-8 text; nothing was sent)")
            continue
        if text in (":quit", ":q", ":exit"):
            return 0
        if text.startswith(":event"):
            parts = text.split(maxsplit=2)
            if len(parts) < 2:
                print('usage: :event NAME {"key": "value"}')
                continue
            try:
                data = json.loads(parts[2]) if len(parts) == 3 else {}
            except ValueError:
                print("the event data must be a JSON object")
                continue
            inbound = Inbound(
                identity,
                "event",
                event=parts[1],
                data=data if isinstance(data, dict) else {},
                timestamp=time.time(),
            )
        else:
            if text.isdigit() and 1 <= int(text) <= len(choices):
                choice = choices[int(text) - 1]
                if isinstance(choice, Button) and choice.kind != "postback":
                    print(f"(opens {choice.value})")
                    continue
                text = choice.payload if isinstance(choice, QuickReply) else choice.value
            inbound = Inbound(identity, "message", text=text, timestamp=time.time())
        outcome = await runtime.threads.turn(inbound)
        lines, new_choices = render(outcome.outbound)
        if new_choices or outcome.outbound:
            choices = new_choices
        if lines:
            print("\n".join(lines))
        else:
            handed_off = await runtime.threads.is_handed_off(identity)
            print("(no reply: a person has taken over this chat)" if handed_off else "(no reply)")
