"""Ready-made séance plans (sessions/seances/*.toml) offered when a séance is created."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from facilitation.plans import PlanError, StepPlan, parse_step

FOLDER = "seances"
EMPTY = "empty"


@dataclass(frozen=True)
class ReadyPlan:
    key: str  # the file's name without .toml
    name: str
    description: str
    steps: tuple[StepPlan, ...]


def load(sessions_dir: Path) -> list[ReadyPlan]:
    """Every ready-made plan in the folder, in the order of their file names."""
    found = []
    for path in sorted((sessions_dir / FOLDER).glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        head = data.get("plan", {})
        steps = data.get("steps", [])
        if not isinstance(head, dict) or not isinstance(steps, list) or not steps:
            raise PlanError("%(where)s: no [plan] or no [[steps]].", where=path.name)
        found.append(ReadyPlan(
            key=path.stem, name=str(head.get("name", path.stem)),
            description=str(head.get("description", "")),
            steps=tuple(parse_step(s, f"{path.name}, step {i}") for i, s in enumerate(steps, 1)),
        ))
    return found


def empty_steps() -> tuple[StepPlan, ...]:
    """An empty séance still welcomes people: the QR code needs a step to show on."""
    return (StepPlan("welcome", ""),)
