"""Custom actions of the example bot: plain async Python (here a dict stands in for the shop's order system)."""

from bots.actions import ActionCall, ActionRegistry, ActionResult

actions = ActionRegistry()
ORDERS = {"ST-123456": "shipped", "ST-234567": "packing"}


@actions.register("lookup_order")
async def lookup_order(call: ActionCall) -> ActionResult:
    state = ORDERS.get(call.slots.get("order_number") or "")
    return ActionResult(slots={"order_found": state is not None, "order_state": state})
