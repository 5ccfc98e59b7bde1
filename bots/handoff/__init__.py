"""What happens around a hand-off besides pausing the bot: notifying a team, honest hours, operator figures.

The flow engine pauses the bot (``handoff`` steps); this package watches the turns that do it
(:class:`~bots.handoff.desk.HandoffDesk`, the pipeline's turn observer) and never decides a flow.
"""
