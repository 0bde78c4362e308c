"""The lifecycle the Django tests guard: a ticket that workers claim, release and finish."""

from __future__ import annotations

from statusguard import Flag, FlagKind, Lifecycle, Transition

TICKET = Lifecycle(
    "ticket",
    states=["open", "claimed", "done"],
    initial="open",
    transitions=[
        Transition("claim", "open", "claimed"),
        Transition("release", "claimed", "open"),
        Transition("finish", "claimed", "done"),
        # a deployment may let a ticket be finished without a claim
        Transition("finish", "open", "done", when={"direct_finish": True}),
        # reopening depends on a fact the caller knows at the time
        Transition("reopen", "done", "open", when={"warranty": True}),
    ],
    flags=[Flag("direct_finish"), Flag("warranty", FlagKind.FACT)],
)

#: the config every test deployment uses (the trigger migration installs the same)
CONFIG = {"direct_finish": False}
