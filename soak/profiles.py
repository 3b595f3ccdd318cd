"""How much each scenario does: the full profile (``make soak``) and the quick one CI runs.

Every loop of the suite is bounded twice, by a count from here and by a time limit.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("FULL", "PROFILES", "QUICK", "Profile")


@dataclass(frozen=True)
class Profile:
    """The sizes and time limits of one run."""

    name: str
    #: Malformed inputs sent (going round ``flood_distinct`` different ones), and the most
    #: seconds they may take.
    flood_inputs: int
    flood_distinct: int
    flood_seconds: float
    #: Bystanders doing ack round trips during the flood (and the worker kill).
    bystanders: int
    #: Connect/disconnect cycles before the warm RSS reading, then the measured ones.
    churn_warm: int
    churn_cycles: int
    churn_seconds: float
    #: Stalled readers, and what is broadcast to them: events of ``blast_size`` bytes.
    stalled_clients: int
    blast_count: int
    blast_size: int
    #: Silent and drip-feeding connections, and how long they are held.
    slowloris_connections: int
    slowloris_seconds: float
    #: The server's ``ulimit -n`` and how many connections try to get past it.
    fd_limit: int
    fd_attackers: int
    #: Cross-node broadcasts per second during the Redis restart, and how long Redis is down.
    casts_per_second: int
    redis_down_seconds: float
    redis_seconds: float
    #: Seconds of load on the cluster before and after a worker is killed.
    worker_seconds: float


QUICK = Profile(
    name="quick",
    flood_inputs=1_000,
    flood_distinct=100,
    flood_seconds=6,
    bystanders=3,
    churn_warm=300,
    churn_cycles=1_000,
    churn_seconds=20,
    stalled_clients=3,
    blast_count=80,
    blast_size=256 * 1024,
    slowloris_connections=200,
    slowloris_seconds=3,
    fd_limit=64,
    fd_attackers=100,
    casts_per_second=50,
    redis_down_seconds=1.0,
    redis_seconds=4,
    worker_seconds=1.5,
)

FULL = Profile(
    name="full",
    flood_inputs=50_000,
    flood_distinct=1_000,
    flood_seconds=300,
    bystanders=5,
    churn_warm=2_000,
    churn_cycles=20_000,
    churn_seconds=300,
    stalled_clients=8,
    blast_count=200,
    blast_size=256 * 1024,
    slowloris_connections=2_000,
    #: Past Node's headersTimeout (60 s): a bounded server has dropped them by then.
    slowloris_seconds=75,
    fd_limit=256,
    fd_attackers=600,
    casts_per_second=100,
    redis_down_seconds=3.0,
    redis_seconds=15,
    worker_seconds=5,
)

PROFILES = {p.name: p for p in (QUICK, FULL)}
