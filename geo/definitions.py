"""The one definition of each word the product shows: life circles and their minutes, the walking speed, what a
coverage figure counts, what a gap is and how it is cut.

Every page, command, export and report takes these from here and derives its labels from the
parameters of the run it describes (:mod:`i18n.definitions` says them in each language), so that
"10 分钟" is 500 m everywhere, a coverage figure says which facilities it counts, and a gap is the
same piece on the coverage page, the print map, the report and the scenario comparison.

- **Life circles** (GB 50180-2018): the 5-, 10- and 15-minute circles are 300, 500 and 1,000 m
  of walking along streets. Minutes and metres are converted through them: piecewise linear
  between the circles, and beyond 15 minutes at the walking speed (60 m/min). So the nearby
  finder's "15 minutes" is the 15-minute circle's 1,000 m, and 500 m reads "10 minutes" in every
  table, never 8 or 8.33.
- **Coverage**: the share of residents whose walk to at least one open facility of the counted
  layers is within the distance. :data:`ALL_FACILITIES` counts venues, greenways, school facilities
  open to the public and health stations; :data:`VENUES_ONLY` counts sports venues alone. A figure
  always carries which it counts.
- **A gap**: contiguous grid cells (sharing an edge) whose residents are beyond the distance,
  cut at the boundaries of the unit level (streets by default) and into blocks of about
  :data:`GAP_PIECE_KM2`, ranked by uncovered residents — something one office can act on.
- **Small counts** of people: the health figures' k lives with the health rules
  (:func:`layers.health.min_count`); estimates derived from them are rounded as
  :mod:`geo.disclosure` says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Walking speed beyond the life circles (metres a minute).
WALK_SPEED_M_PER_MIN = 60.0


@dataclass(frozen=True)
class LifeCircle:
    """One GB 50180-2018 life circle: its key, its minutes and its walking distance."""

    key: str
    minutes: int
    metres: float


LIFE_CIRCLES: tuple[LifeCircle, ...] = (LifeCircle("5min", 5, 300.0), LifeCircle("10min", 10, 500.0),
                                        LifeCircle("15min", 15, 1000.0))
#: Distance (m) of each life circle by key, as the engine's defaults use them.
CIRCLE_METRES: dict[str, float] = {c.key: c.metres for c in LIFE_CIRCLES}
_MINUTES = np.array([0.0] + [c.minutes for c in LIFE_CIRCLES])
_METRES = np.array([0.0] + [c.metres for c in LIFE_CIRCLES])


def circle_of(metres: float) -> LifeCircle | None:
    """The life circle of exactly ``metres``, or ``None``."""
    return next((c for c in LIFE_CIRCLES if abs(c.metres - float(metres)) < 1e-9), None)


def minutes_for(metres: float) -> float:
    """The walking minutes of ``metres`` (through the life circles; beyond the last, at the walking speed)."""
    m = float(metres)
    if m <= _METRES[-1]:
        return float(np.interp(m, _METRES, _MINUTES))
    return float(_MINUTES[-1] + (m - _METRES[-1]) / WALK_SPEED_M_PER_MIN)


def metres_for(minutes: float) -> float:
    """The walking distance of ``minutes`` (the inverse of :func:`minutes_for`)."""
    t = float(minutes)
    if t <= _MINUTES[-1]:
        return float(np.interp(t, _MINUTES, _METRES))
    return float(_METRES[-1] + (t - _MINUTES[-1]) * WALK_SPEED_M_PER_MIN)


@dataclass(frozen=True)
class CoverageMeasure:
    """What a coverage figure counts: its key and the facility layers a resident must reach one of."""

    key: str
    layers: tuple[str, ...]


ALL_FACILITIES = CoverageMeasure("all", ("venues", "greenways", "school_facilities", "health_stations"))
VENUES_ONLY = CoverageMeasure("venues", ("venues",))
MEASURES = {m.key: m for m in (ALL_FACILITIES, VENUES_ONLY)}


def measure_of_layer(layer: str) -> CoverageMeasure:
    """The measure a page's layer choice means (``"any"`` and ``"all"``: every facility layer)."""
    if layer in ("any", "all"):
        return ALL_FACILITIES
    if layer == "venues":
        return VENUES_ONLY
    return CoverageMeasure(layer, (layer,))


#: How gaps are cut: at the boundaries of this unit level, and into blocks of about this many km².
GAP_LEVEL = "street"
GAP_PIECE_KM2 = 1.0
#: The distance a report's gaps are found at when it names none (the 15-minute circle).
GAP_DISTANCE_M = CIRCLE_METRES["15min"]


__all__ = ["LifeCircle", "LIFE_CIRCLES", "CIRCLE_METRES", "WALK_SPEED_M_PER_MIN", "circle_of", "minutes_for",
           "metres_for", "CoverageMeasure", "ALL_FACILITIES", "VENUES_ONLY", "MEASURES", "measure_of_layer",
           "GAP_LEVEL", "GAP_PIECE_KM2", "GAP_DISTANCE_M"]
