"""How a milestone run that ran to its end shows on the Prefect API: Completed, or — inputs
missing — the Cancelled-typed "Incomplete" the UI shows grey (`flows.milestone.show_incomplete_in_ui`)."""

from __future__ import annotations

from typing import Any


def ran_to_the_end(state: Any) -> bool:
    """A milestone run's API state: it completed, with or without every input."""
    return state is not None and (state.is_completed() or (state.is_cancelled() and state.name == "Incomplete"))
