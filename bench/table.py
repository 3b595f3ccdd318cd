"""The benchmark's figures: medians of repeats, thinkio's ratios, issue 8's targets, tables."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .scenarios import (
    PSIO_TARGETS,
    REFERENCES,
    ROUND_TRIPS,
    THINKIO,
    Metric,
    Scenario,
    ServerSpec,
)

__all__ = (
    "GEN_NEAR_SATURATION_PCT",
    "LEGEND",
    "Cell",
    "Results",
    "TargetCheck",
    "derive",
    "fmt",
    "markdown_table",
    "partial",
    "text_table",
)

#: A figure gets a dagger when the load generator was on its CPU or waiting for it this share
#: of the measured time (or more): the server may have been waiting for the generator.
GEN_NEAR_SATURATION_PCT = 80.0
#: A figure gets an asterisk when the server waited this share of the time for its CPU
#: (another process ran on its core): throughput and latency include that wait.
SERVER_STARVED_PCT = 10.0


def derive(scenario: Scenario, result: dict[str, Any]) -> dict[str, Any]:
    """Add the figures computed from a generator's result: CPU per operation and shares."""
    out = dict(result)
    window = out.get("window_s") or 0.0
    ops = out.get(scenario.ops_key) or 0
    cpu = out.get("server_cpu_s")
    out["cpu_us_per_op"] = cpu / ops * 1e6 if ops and cpu is not None else None
    if window > 0:
        out["server_pct"] = 100 * out["server_cpu_s"] / window
        out["server_wait_pct"] = 100 * out["server_wait_s"] / window
        out["gen_pct"] = 100 * out["gen_cpu_s"] / window
        out["gen_busy_pct"] = 100 * (out["gen_cpu_s"] + out["gen_wait_s"]) / window
    return out


def partial(scenario: Scenario, result: dict[str, Any]) -> bool:
    """The run did not do all it was asked (errors, or a time limit cut it short)."""
    if scenario.kind in ROUND_TRIPS:
        return bool(result.get("errors"))
    if scenario.kind in ("storm", "idle"):
        return result.get("connected") != result.get("expected")
    return not result.get("complete")


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


@dataclass
class Cell:
    value: float | None
    flags: str = ""
    error: str | None = None
    applies: bool = True

    def text(self) -> str:
        if not self.applies:
            return "n/a"
        if self.error is not None and self.value is None:
            return "failed"
        return fmt(self.value) + self.flags


@dataclass(frozen=True)
class TargetCheck:
    """One of issue 8's targets: ``server``'s ratio over ``reference`` >= ``minimum``."""

    scenario: Scenario
    metric: Metric
    server: ServerSpec
    reference: ServerSpec
    minimum: float
    ratio: float | None

    @property
    def holds(self) -> bool:
        return self.ratio is not None and self.ratio >= self.minimum

    @property
    def name(self) -> str:
        return f"{self.server.short} ≥ {self.minimum:g}x {self.reference.short}"

    def text(self) -> str:
        got = "no figure" if self.ratio is None else f"{self.ratio:.2f}x"
        return f"{self.name}: {got}"


@dataclass
class Results:
    scenarios: Sequence[Scenario]
    servers: Sequence[ServerSpec]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, scenario: Scenario, server: ServerSpec, result: dict[str, Any]) -> None:
        self.runs.setdefault((scenario.key, server.key), []).append(result)

    def _ok(self, scenario: Scenario, server: ServerSpec) -> list[dict[str, Any]]:
        return [r for r in self.runs.get((scenario.key, server.key), []) if "error" not in r]

    def cell(self, scenario: Scenario, server: ServerSpec, metric: Metric) -> Cell:
        if scenario.polling and not server.polling:
            return Cell(None, applies=False)
        runs = self.runs.get((scenario.key, server.key), [])
        ok = self._ok(scenario, server)
        errors = [r["error"] for r in runs if "error" in r]
        values = [r[metric.key] for r in ok if r.get(metric.key) is not None]
        flags = ""
        if not metric.ratio:  # the generator's own share: its flags are on the figures
            ok = []
        if any(partial(scenario, r) for r in ok) or (errors and ok):
            flags += "!"
        if any((r.get("gen_busy_pct") or 0) >= GEN_NEAR_SATURATION_PCT for r in ok):
            flags += "†"
        if any((r.get("server_wait_pct") or 0) >= SERVER_STARVED_PCT for r in ok):
            flags += "*"
        value = statistics.median(values) if values else None
        return Cell(value, flags, errors[0] if errors else None)

    def generator_rows(self) -> list[list[str]]:
        """Per scenario: what the generator reached against the ceiling server, its CPU share
        there, and its largest share (on CPU + waiting) against a real server."""
        ceiling = self.server("ceiling")
        rows = [["scenario", "ceiling (raw server)", "generator CPU there",
                 "generator busiest vs a real server: CPU (+wait)"]]  # fmt: skip
        for scenario in self.scenarios:
            metric = scenario.metrics[0]
            row = [scenario.title]
            if ceiling is not None and self.cell(scenario, ceiling, metric).applies:
                top = self.cell(scenario, ceiling, metric)
                share = self._median(scenario, ceiling, "gen_pct")
                row += [f"{top.text()} {metric.label}", f"{fmt(share)}%"]
            else:
                row += ["—", "—"]
            busiest = [(self._median(scenario, s, "gen_busy_pct") or 0.0, s)
                       for s in self.servers if s is not ceiling]  # fmt: skip
            if busiest:
                busy, server = max(busiest, key=lambda pair: pair[0])
                cpu = self._median(scenario, server, "gen_pct") or 0.0
                row.append(f"{cpu:.0f}% (+{busy - cpu:.0f}) against {server.label}")
            else:
                row.append("—")
            rows.append(row)
        return rows

    def _median(self, scenario: Scenario, server: ServerSpec, key: str) -> float | None:
        values = [r[key] for r in self._ok(scenario, server) if r.get(key) is not None]
        return statistics.median(values) if values else None

    def server(self, key: str) -> ServerSpec | None:
        return next((s for s in self.servers if s.key == key), None)

    def ratio(self, scenario: Scenario, mine: str, theirs: str, metric: Metric) -> float | None:
        """How many times better ``mine`` is than ``theirs`` (> 1: better, whatever the unit)."""
        a, b = self.server(mine), self.server(theirs)
        if a is None or b is None or not metric.ratio:
            return None
        x, y = self.cell(scenario, a, metric).value, self.cell(scenario, b, metric).value
        if not x or not y:
            return None
        return x / y if metric.higher_is_better else y / x

    def pairs(self) -> list[tuple[ServerSpec, ServerSpec]]:
        """(thinkio column, reference) for every pair both present, Node first."""
        out = []
        for ref in REFERENCES:
            for mine in THINKIO:
                a, b = self.server(mine), self.server(ref)
                if a is not None and b is not None:
                    out.append((a, b))
        return out

    def checks(self, scenario: Scenario, metric: Metric) -> list[TargetCheck]:
        """Issue 8's targets on this scenario and metric, with this run's ratios."""
        wanted: list[tuple[str, str, float]] = []
        if metric.key in scenario.node_targets:
            wanted.append(("thinkio-uvloop", "node", scenario.node_targets[metric.key]))
        if metric.key in scenario.headline:
            wanted += [(t, "python-socketio", m) for t, m in PSIO_TARGETS.items()]
        out = []
        for mine, ref, minimum in wanted:
            a, b = self.server(mine), self.server(ref)
            if a is not None and b is not None:
                ratio = self.ratio(scenario, mine, ref, metric)
                out.append(TargetCheck(scenario, metric, a, b, minimum, ratio))
        return out

    def all_checks(self) -> list[TargetCheck]:
        return [c for s in self.scenarios for m in s.metrics for c in self.checks(s, m)]

    def rows(self) -> list[list[str]]:
        """Header row, then one row per (scenario, metric)."""
        pairs = self.pairs()
        header = ["scenario", "metric", *(s.label for s in self.servers)]
        header += [f"{a.short}/{b.short}" for a, b in pairs] + ["issue 8 targets"]
        rows = [header]
        for scenario in self.scenarios:
            for i, metric in enumerate(scenario.metrics):
                row = [scenario.title if i == 0 else "", metric.label]
                row += [self.cell(scenario, s, metric).text() for s in self.servers]
                for a, b in pairs:
                    r = self.ratio(scenario, a.key, b.key, metric)
                    row.append("" if r is None else f"{r:.2f}x")
                checks = self.checks(scenario, metric)
                missed = [c.text() for c in checks if not c.holds]
                row.append(("✗ " + "; ".join(missed)) if missed else ("✓" if checks else ""))
                rows.append(row)
        return rows

    def usage_rows(self) -> list[list[str]]:
        """Per scenario and server: CPU use of server and generator, and their waits for a CPU
        (medians, % of one core over the measured phase)."""
        rows = [["scenario", *(s.label for s in self.servers)]]
        for scenario in self.scenarios:
            row = [scenario.title]
            for server in self.servers:
                ok = [r for r in self._ok(scenario, server) if r.get("window_s")]
                if not ok:
                    row.append("—")
                    continue

                def med(key: str, runs: list[dict[str, Any]] = ok) -> float:
                    return statistics.median(r.get(key) or 0.0 for r in runs)

                row.append(f"{med('server_pct'):.0f}% (+{med('server_wait_pct'):.0f}) / "
                           f"{med('gen_pct'):.0f}% (+{med('gen_busy_pct') - med('gen_pct'):.0f})")  # fmt: skip
            rows.append(row)
        return rows

    def errors(self) -> list[str]:
        out = []
        for (scenario, server), runs in self.runs.items():
            for r in runs:
                if "error" in r:
                    out.append(f"{scenario} on {server}: {r['error'].splitlines()[0]}")
        return out


def text_table(rows: list[list[str]]) -> str:
    text_columns = 2 if rows[0][1] == "metric" else 1
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i])
            if i < text_columns or i == len(row) - 1
            else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    text_columns = 2 if rows[0][1] == "metric" else 1
    align = ["---"] * text_columns + ["---:"] * (len(rows[0]) - text_columns)
    if rows[0][-1] == "issue 8 targets":
        align[-1] = "---"
    return "\n".join([line(rows[0]), "| " + " | ".join(align) + " |", *map(line, rows[1:])])


LEGEND = (
    "Ratios (`uvloop/Node` etc.): how many times better that thinkio column is than the "
    "reference, whatever the unit (throughput: thinkio / reference; latency, CPU and memory: "
    "reference / thinkio); above 1.00x thinkio is better. `issue 8 targets`: ✓ when every "
    "target on that row holds, else the ones missed with this run's ratio. "
    "`!` partial: errors, or the time limit cut the run short (the figure counts what was "
    f"done). `†` the load generator was on its CPU or waiting for it ≥ "
    f"{GEN_NEAR_SATURATION_PCT:.0f}% of the time: the figure may be the generator's limit, "
    f"not the server's. `*` the server waited for its CPU ≥ {SERVER_STARVED_PCT:.0f}% of the "
    "time (another process on its core): its throughput and latency include that wait; its "
    "CPU per operation does not. `server CPU µs/op`: the server process's CPU time (every "
    "thread, /proc schedstat) during the measured phase per round trip, delivery or "
    "connection. `generator CPU`: the load generator's, in % of its own core."
)
