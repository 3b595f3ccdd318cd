"""The invariants the network fuzzer holds a server to, and what a target may lack.

Capabilities work as in ``protocol/`` (``protocol/_target.py``, whose three are reused):
a requirement of PROTOCOL.md or RFC 6455 that a known server does not meet. For a target
declared to lack one, the strict check still runs but its failures are only counted (the
summary says how often it held and failed, so a fixed server shows that the declaration can
go); a weaker check that every conforming server passes still applies.
"""

from __future__ import annotations

from collections import Counter

from protocol._target import CAPABILITIES as PROTOCOL_CAPABILITIES

__all__ = ("CAPABILITIES", "KINDS", "Checks", "Finding")

#: Requirement -> what it is. The first three are protocol/'s.
CAPABILITIES: dict[str, str] = {
    **PROTOCOL_CAPABILITIES,
    "ws-close-codes": (
        "a WebSocket protocol violation is answered with a close frame carrying RFC 6455's "
        "code before the connection ends: 1002 protocol error, 1007 invalid UTF-8, 1009 too "
        "big, decided from the frame header (RFC 6455 7.4.1; Node's ws does)"
    ),
    "http-errors": (
        "a request that is not valid HTTP/1.1 gets a 4xx answer (431 for an oversized head, "
        "whether it arrives in one read or many; a HEAD gets the GET's status without a body) "
        "and the connection is not kept for another request (RFC 9112; Node does)"
    ),
    "error-order": (
        "a request that breaks several rules gets the error of the first rule in PROTOCOL.md "
        "1.8's order (transport, then session, method, upgrade, allowRequest, version)"
    ),
    "heartbeat": (
        "a session is closed for ping timeout only after its ping went out and pingTimeout "
        "passed without a pong (PROTOCOL.md 1.5): the bystander answers every ping at once, "
        "so a server that closes it anyway misjudged its heartbeat, e.g. by counting the pong "
        "deadline from when a late timer was due rather than from the ping it sent"
    ),
    "tracebacks": (
        "the server logs no traceback for any input a client can send (issue 9 point 3; "
        "checked when the fuzzer started the server or was given its log)"
    ),
    "post-framing": (
        "a POST on a live session whose body is badly framed (bad chunk size, both "
        "Content-Length and Transfer-Encoding) is answered 4xx and leaves the session able "
        "to POST again (Node does)"
    ),
}

#: --kind presets: what each kind of server is known to lack.
KINDS: dict[str, frozenset[str]] = {
    "strict": frozenset(),
    "node": frozenset({"ws-refuses-before-upgrade", "ws-close-packet", "post-parse-error-400"}),
    #: thinkio: nothing (issue 9's findings are fixed; the strict checks hold).
    "thinkio": frozenset(),
}


class Finding(AssertionError):
    """A server broke an invariant.

    Attributes:
        check: which invariant (a capability name, or ``answered``, ``status``,
            ``session``, ``reply``, ``bystander``, ``alive``, ``tracebacks``).
    """

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"[{check}] {message}")
        self.check = check


class Checks:
    """Applies the invariants for one target: raises :class:`Finding`, or counts a failure
    of a capability the target is declared to lack."""

    def __init__(self, lacks: frozenset[str]) -> None:
        self.lacks = lacks
        #: Capability -> how often its strict check ran, and how often it failed.
        self.ran: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        #: One example message per lacked capability that failed.
        self.examples: dict[str, str] = {}
        #: Checks already broken in this run: only counted from then on.
        self.muted: set[str] = set()

    def mute(self, checks: set[str]) -> None:
        """Count further failures of ``checks`` instead of raising them."""
        self.muted |= checks

    def require(self, check: str, ok: bool, message: str) -> None:
        """Hold the server to ``check``.

        Raises:
            Finding: ``ok`` is false and the target is not declared to lack ``check``.
        """
        if check in CAPABILITIES:
            self.ran[check] += 1
        if ok:
            return
        if check in self.lacks or check in self.muted:
            self.failed[check] += 1
            self.examples.setdefault(check, message)
            return
        raise Finding(check, message)

    def summary(self) -> list[str]:
        """One line per capability that was checked, and per invariant broken more than once."""
        lines = []
        for name in sorted(self.muted - set(self.ran)):
            lines.append(f"{name}: broken {self.failed[name] + 1} times (the first is below)")
        for name in sorted(self.ran):
            ran, failed = self.ran[name], self.failed[name]
            if name in self.lacks:
                note = (
                    f"declared lacking; failed {failed} of {ran}"
                    if failed
                    else f"declared lacking, but held in all {ran}: the declaration can go"
                )
                if failed:
                    note += f" (e.g. {self.examples[name][:200]})"
            else:
                note = f"held in all {ran}"
            lines.append(f"{name}: {note}")
        return lines
