"""``python -m bots.actions.serve``: rasa-sdk's own action server, for Rasa 3.x projects' actions unchanged.

Exactly ``python -m rasa_sdk`` (same arguments, same server, same code path),
except that ``ruamel.yaml``'s safe loaders are given back first
(:mod:`bots.actions.ruamel_compat`): rasa-sdk 3.21 requires the ruamel.yaml
that removed them, and actions written for Rasa 3.x call them when imported.
Actions that do not use them run the same on plain ``python -m rasa_sdk``.
"""

from __future__ import annotations

from bots.actions import ruamel_compat

# On import, not in main(): Sanic's worker processes import this module again (as ``__mp_main__``) and then
# unpickle the executor, which imports the project's actions there too.
ruamel_compat.install()


def main() -> None:
    """Hand over to rasa-sdk's command line, the shim installed."""
    from rasa_sdk.__main__ import main as rasa_sdk_main

    rasa_sdk_main()


if __name__ == "__main__":
    main()
