"""A plan says each difference once: a detail the change's reason already gives is not printed again."""

from __future__ import annotations

import io

from rich.console import Console

from mcpdeploy.plan.models import Change, Plan
from mcpdeploy.plan.render import render_plan


def test_a_detail_the_reason_gives_is_printed_once() -> None:
    change = Change(provider="xano", kind="change_field_type", action="update", resource="field notes.body",
                    reason="type int -> text: existing values may not convert", risk="data_loss",
                    details=("type int -> text", "filters [] -> ['trim']"))
    screen = io.StringIO()
    render_plan(Console(file=screen, no_color=True, width=120), Plan(changes=(change,)))
    text = screen.getvalue()
    assert text.count("type int -> text") == 1
    assert text.count("filters [] -> ['trim']") == 1
