"""Where the shared, read-only test material is: the `shared/` folder beside the checkout.

A checkout (or a worktree one level deeper) finds it by walking up; THREADLINE_SHARED names it explicitly.
Tests that need it skip when it is not on the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import REPO


def _find() -> Path:
    named = os.environ.get("THREADLINE_SHARED")
    if named:
        return Path(named)
    for parent in REPO.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared"
    return REPO.parent / "shared"


SHARED = _find()
RASA_PROJECTS = SHARED / "data" / "rasa-projects"
