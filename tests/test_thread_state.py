"""A thread's state as the stores keep it: what a frame carries survives the round trip, and a snapshot written
by a later version (a frame key this one does not know) still loads."""

from __future__ import annotations

from bots.flow.state import Frame, ThreadState


def test_a_frames_given_values_survive_the_round_trip_and_an_unknown_key_is_left_out() -> None:
    state = ThreadState(stack=[Frame("return_item", pc=3, waiting=True, given={"return_reason": "defective"})])
    again = ThreadState.from_json(state.to_json())
    assert again.stack[0].given == {"return_reason": "defective"} and again.stack[0].pc == 3
    assert "given" not in ThreadState(stack=[Frame("order_status")]).to_json()["stack"][0]  # no empty key written
    data = state.to_json()
    data["stack"][0]["added_by_a_later_version"] = 1
    assert ThreadState.from_json(data).stack[0] == again.stack[0]
