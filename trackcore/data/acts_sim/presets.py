"""Named ACTS datasets: Pythia 8 ttbar with pile-up through Fatras, with the CKF's tracks.

``trackcore simulate --engine acts --preset acts-ttbar-mu20 --out DIR`` writes one; ``trackcore
compare --data acts-ttbar-mu20`` simulates it into ``data/acts-ttbar-mu20`` on first use and then
trains every family on it (split 80/10/10 by event id) beside the ACTS CKF.
"""

from __future__ import annotations

from dataclasses import dataclass

from trackcore.data.acts_sim.engine import ActsSettings


@dataclass(frozen=True)
class ActsPreset:
    """An ACTS dataset: its settings and default number of events."""

    name: str
    settings: ActsSettings
    n_events: int
    description: str


ACTS_PRESETS: dict[str, ActsPreset] = {
    p.name: p
    for p in (
        ActsPreset(
            "acts-ttbar-mu20",
            ActsSettings(mu=20.0),
            n_events=120,
            description="ttbar + 20 pile-up, Generic detector, smearing digitisation (~9k hits/event)",
        ),
        ActsPreset(
            "acts-ttbar-mu200",
            ActsSettings(mu=200.0),
            n_events=60,
            description="ttbar + 200 pile-up, Generic detector, smearing digitisation (~83k hits/event)",
        ),
    )
}


def get_acts_preset(name: str) -> ActsPreset:
    """The ACTS preset of that name.

    Raises:
        ValueError: unknown name; the message lists the valid ones.
    """
    try:
        return ACTS_PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown ACTS preset {name!r}; valid presets: {', '.join(ACTS_PRESETS)}") from None
