"""A gate a test opens: a plain ``def`` that blocks its thread, as a slow database call would, until told to go on.

The test passes a folder as the message's ``gate`` metadata, waits for ``started`` to appear in it
(the action is running now), checks what must happen meanwhile, then creates ``open``. Files work
in both modes: in process and on the rasa-sdk server process. Without a gate it returns at once.
"""

from __future__ import annotations

import time
from pathlib import Path

from rasa_sdk import Tracker

CEILING_SECONDS = 120.0  # a test that never opens the gate fails instead of hanging


def hold(tracker: Tracker) -> None:
    folder = (tracker.latest_message.get("metadata") or {}).get("gate")
    if not folder:
        return
    gate = Path(folder)
    (gate / "started").touch()
    deadline = time.monotonic() + CEILING_SECONDS
    while not (gate / "open").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"nobody opened the gate {gate} in {CEILING_SECONDS:g} s")
        time.sleep(0.01)  # blocks the thread on purpose: that is what is tested
