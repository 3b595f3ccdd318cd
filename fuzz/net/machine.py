"""The Hypothesis state machine: programs of steps against a live server.

Each rule draws one step (or two: a WebSocket handshake and its CONNECT) from
:mod:`fuzz.net.strategies` and hands it to the program's :class:`~fuzz.net.executor.Executor`;
sessions go into the ``polling`` and ``websocket`` bundles, so later steps act on live
sessions. A :class:`~fuzz.net.checks.Finding` fails the program and Hypothesis shrinks it;
:class:`Campaign` keeps, for each broken invariant, the shortest program that broke it, which
is the replayable script printed at the end.

Time is bounded from outside: past :attr:`Campaign.stop_at` every rule does nothing, so a
shrink still running then ends at once (the shortest failing program so far is kept).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule

from .bystander import Bystander
from .checks import Checks, Finding
from .executor import Executor
from .sessions import Target
from .steps import (
    SIO_MOUNT,
    BadFrame,
    CloseWs,
    Get,
    Handshake,
    Post,
    RawRequest,
    Send,
    Step,
    Upgrade,
)
from .strategies import (
    bad_frames,
    framings,
    handshakes,
    polling_bodies,
    raw_requests,
    valid_handshakes,
    ws_messages,
)

__all__ = ("Campaign", "NetworkMachine")


@dataclass
class Campaign:
    """What the programs of one run share: the target, the checks, the bystander, the clock,
    and the shortest failing program per broken invariant."""

    target: Target
    checks: Checks
    stop_at: float
    bystander: Bystander | None = None
    programs: int = 0
    steps: int = 0
    failures: dict[str, tuple[Finding, list[Step]]] = field(default_factory=dict)

    def expired(self) -> bool:
        """Whether the run's time is up."""
        return time.monotonic() >= self.stop_at

    def fresh_bystander(self) -> Bystander:
        """The bystander, started again if it failed (or never started)."""
        if self.bystander is None or self.bystander.failure is not None:
            if self.bystander is not None:
                self.bystander.stop()
            self.bystander = Bystander(self.target.url)
            self.bystander.start_and_wait()
        return self.bystander

    def record(self, finding: Finding, steps: list[Step]) -> None:
        """Keep ``steps`` if it is the shortest program breaking ``finding.check`` so far."""
        best = self.failures.get(finding.check)
        if best is None or len(steps) < len(best[1]):
            self.failures[finding.check] = (finding, list(steps))

    def stop(self) -> None:
        """Stop the bystander."""
        if self.bystander is not None:
            self.bystander.stop()


class NetworkMachine(RuleBasedStateMachine):
    """Programs against :attr:`campaign`'s target (set by the runner before a run)."""

    campaign: Campaign

    polling = Bundle("polling")
    websocket = Bundle("websocket")

    def __init__(self) -> None:
        super().__init__()
        campaign = type(self).campaign
        self.off = campaign.expired()
        bystander = None if self.off else campaign.fresh_bystander()
        self.executor = Executor(campaign.target, campaign.checks, bystander)
        #: Session name -> mount, decided when the rule runs, whatever the server answers:
        #: what a rule draws must not depend on the server (Hypothesis replays draws).
        self.mounts: dict[str, str] = {}
        if not self.off:
            campaign.programs += 1

    def _run(self, step: Step) -> None:
        if self.off or type(self).campaign.expired():
            self.off = True
            return
        type(self).campaign.steps += 1
        try:
            self.executor.run(step)
        except Finding as finding:
            type(self).campaign.record(finding, self.executor.steps)
            raise

    def _name(self, h: Handshake) -> tuple[Handshake, str]:
        name = f"s{len(self.mounts)}"
        self.mounts[name] = h.mount
        return replace(h, name=name), name

    # -- sessions ------------------------------------------------------------------------------

    @rule(target=polling, h=valid_handshakes("polling"))
    def open_polling(self, h: Handshake) -> str:
        h, name = self._name(h)
        self._run(h)
        if h.mount == SIO_MOUNT:
            self._run(Post(name, b"40"))
        return name

    @rule(target=websocket, h=valid_handshakes("websocket"), join=st.booleans())
    def open_websocket(self, h: Handshake, join: bool) -> str:
        h, name = self._name(h)
        self._run(h)
        if join and h.mount == SIO_MOUNT:
            self._run(Send(name, "40"))
        return name

    @rule(h=handshakes())
    def handshake(self, h: Handshake) -> None:
        self._run(h)  # a session it opens is not kept

    @rule(r=raw_requests())
    def raw_request(self, r: RawRequest) -> None:
        self._run(r)

    # -- polling -------------------------------------------------------------------------------

    @rule(session=polling)
    def get(self, session: str) -> None:
        self._run(Get(session))

    @rule(session=polling, data=st.data())
    def post(self, session: str, data: st.DataObject) -> None:
        mount = self._mount(session)
        body = data.draw(polling_bodies(mount), label="body")
        self._run(Post(session, body))

    @rule(session=polling, body=polling_bodies(SIO_MOUNT), framing=framings,
          octet=st.booleans())  # fmt: skip
    def post_framed(self, session: str, body: bytes, framing: str, octet: bool) -> None:
        content_type = "application/octet-stream" if octet else "text/plain;charset=UTF-8"
        self._run(Post(session, body, framing, content_type))

    @rule(target=websocket, session=polling,
          probe=st.sampled_from(["2probe", "2probe", "2probe", "2prob", "3probe", "4hello"]),
          finish=st.booleans())  # fmt: skip
    def upgrade(self, session: str, probe: str, finish: bool) -> str:
        self._run(Upgrade(session, probe, finish))
        return session  # if the upgrade did not happen, WebSocket steps on it do nothing

    # -- WebSocket -----------------------------------------------------------------------------

    @rule(session=websocket, data=st.data())
    def send(self, session: str, data: st.DataObject) -> None:
        for message in data.draw(ws_messages(self._mount(session)), label="messages"):
            self._run(Send(session, message))

    @rule(session=websocket, frame=bad_frames())
    def bad_frame(self, session: str, frame: BadFrame) -> None:
        self._run(BadFrame(session, frame.data, frame.violation, frame.expect))

    @rule(session=websocket, polite=st.booleans())
    def close_websocket(self, session: str, polite: bool) -> None:
        self._run(CloseWs(session, polite))

    def _mount(self, session: str) -> str:
        return self.mounts[session]

    def teardown(self) -> None:
        if self.off:
            self.executor.close()
            return
        try:
            self.executor.finish()
        except Finding as finding:
            type(self).campaign.record(finding, self.executor.steps)
            raise
