"""A reply stored for later sending (an outbox row) comes back whole: help's groups, link buttons."""

from __future__ import annotations

from dialogs.messages import Button, ItemGroup, Reply, reply_from_record, reply_record


def test_a_stored_reply_keeps_its_groups_and_its_link_buttons() -> None:
    reply = Reply(
        kind="help", title="What I can do", text="lead",
        groups=(ItemGroup("After a meeting", ("debrief Acme", "history")),
                ItemGroup("Your data", ("export",))),
        buttons=(Button("Mail the recap", "", "mailto:?subject=Recap"), Button("Edit 1", "edit 1")),
        meta={"edit_debrief": 7, "dropped": object()},
    )
    back = reply_from_record(reply_record(reply))
    assert back == reply
    assert back.groups[1].items == ("export",) and back.buttons[0].url == "mailto:?subject=Recap"
    assert back.buttons[1].url is None and back.meta == {"edit_debrief": 7}
