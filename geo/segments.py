"""Exact nearest-segment queries for millions of points.

Street edges, polygon boundaries and greenway lines are all sets of straight segments.
:class:`SegmentIndex` samples every segment at most ``spacing`` metres apart, keeps the
samples in a :class:`scipy.spatial.cKDTree`, and projects each query point onto the
segments of its nearest samples.  The answer is exact, not approximate: a segment at
distance ``d`` always has a sample within ``d + spacing / 2``, so once the k-th nearest
sample is farther than the best projection plus ``spacing / 2`` no unseen segment can be
nearer; points where that is not yet true are asked again with a larger ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class NearestSegment:
    """For each query point: its nearest segment, the distance, and where on the segment.

    ``segment`` is -1 (and ``distance`` infinite) where no segment lies within the
    ``max_distance`` of the query.  ``along`` is the distance in metres from the
    segment's first point to the foot of the perpendicular (clamped to the segment).
    """

    segment: np.ndarray
    distance: np.ndarray
    along: np.ndarray


#: Query points answered together (the working arrays of one slice: about 30 MB).
QUERY_SLICE = 65_536
#: Distances this close are a tie (float noise between equal distances to a shared node).
TIE_M = 1e-9


class SegmentIndex:
    """Nearest-segment index over segments ``(x0, y0) → (x1, y1)`` in a metric CRS.

    Parameters
    ----------
    x0, y0, x1, y1 : array_like
        Segment end points in metres.  A segment with equal ends is a point.
    spacing : float, optional
        Largest gap between samples along a segment (metres).  Smaller is faster to
        query and slower to build; the result is exact either way.
    """

    def __init__(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
                 *, spacing: float = 50.0) -> None:
        self.x0 = np.ascontiguousarray(x0, dtype=np.float64)
        self.y0 = np.ascontiguousarray(y0, dtype=np.float64)
        self.dx = np.asarray(x1, dtype=np.float64) - self.x0
        self.dy = np.asarray(y1, dtype=np.float64) - self.y0
        if not (len(self.x0) == len(self.y0) == len(self.dx) == len(self.dy)):
            raise ValueError("x0, y0, x1 and y1 must have the same length")
        if spacing <= 0:
            raise ValueError(f"spacing must be positive, not {spacing}")
        self.length = np.hypot(self.dx, self.dy)
        self.spacing = float(spacing)
        n_pieces = np.maximum(np.ceil(self.length / spacing).astype(np.int64), 1)
        # a sample's segment in the smallest integer that numbers them all (a province has millions of samples)
        owner = np.repeat(np.arange(len(self.x0), dtype=np.int32 if len(self.x0) < 2**31 else np.int64),
                          n_pieces + 1)
        first = np.cumsum(n_pieces + 1) - (n_pieces + 1)
        frac = (np.arange(len(owner)) - np.repeat(first, n_pieces + 1)) / np.repeat(n_pieces, n_pieces + 1)
        self._owner = owner
        samples = np.column_stack((self.x0[owner] + frac * self.dx[owner],
                                   self.y0[owner] + frac * self.dy[owner]))
        del frac
        # the tree keeps the samples themselves, not a copy of them
        self._tree = cKDTree(samples, copy_data=False) if len(samples) else None

    def __len__(self) -> int:
        return len(self.x0)

    def _project(self, px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = self.dx[seg], self.dy[seg]
        len2 = dx * dx + dy * dy
        rx, ry = px - self.x0[seg], py - self.y0[seg]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(len2 > 0, (rx * dx + ry * dy) / len2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        dist = np.hypot(rx - t * dx, ry - t * dy)
        return dist, t

    def nearest(self, x: np.ndarray, y: np.ndarray, *, max_distance: float = np.inf,
                k: int = 8) -> NearestSegment:
        """Nearest segment to each point ``(x[i], y[i])``, exactly.

        Parameters
        ----------
        x, y : array_like
            Query points in the index's CRS.
        max_distance : float, optional
            Segments farther than this are not looked for (``segment == -1``).
        k : int, optional
            Samples looked at in the first round; more rounds follow where needed.
        """
        px = np.asarray(x, dtype=np.float64)
        py = np.asarray(y, dtype=np.float64)
        n = len(px)
        seg_out = np.full(n, -1, dtype=np.int64)
        dist_out = np.full(n, np.inf)
        along_out = np.zeros(n)
        if self._tree is None or n == 0:
            return NearestSegment(seg_out, dist_out, along_out)
        # each point is answered on its own, so the points go through in slices: the query's working arrays
        # (about 0.5 KB a point at k = 8) stay those of one slice, not of every cell of a province
        for start in range(0, n, QUERY_SLICE):
            part = slice(start, min(start + QUERY_SLICE, n))
            self._nearest_into(px[part], py[part], max_distance, k, seg_out[part], dist_out[part], along_out[part])
        return NearestSegment(seg_out, dist_out, along_out)

    def _nearest_into(self, px: np.ndarray, py: np.ndarray, max_distance: float, k: int, seg_out: np.ndarray,
                      dist_out: np.ndarray, along_out: np.ndarray) -> None:
        """:meth:`nearest` for one slice of points, written into the slices of its result arrays."""
        n = len(px)
        n_samples = self._tree.n
        bound = max_distance + self.spacing / 2.0 if np.isfinite(max_distance) else np.inf
        todo = np.arange(n)
        k = max(1, min(k, n_samples))
        while len(todo):
            qd, qi = self._tree.query(np.column_stack((px[todo], py[todo])), k=k,
                                      distance_upper_bound=bound)
            qd = qd.reshape(len(todo), -1)
            qi = qi.reshape(len(todo), -1)
            found = qi < n_samples
            seg = np.where(found, self._owner[np.minimum(qi, n_samples - 1)], 0)
            d, t = self._project(px[todo][:, None], py[todo][:, None], seg)
            d = np.where(found, d, np.inf)
            # among segments at the same distance (a point nearest to a node they share) the lowest-numbered:
            # the choice must not depend on which other segments are indexed (a partition holds fewer)
            low = d.min(axis=1, keepdims=True)
            tied = np.isfinite(d) & (d <= low + TIE_M)
            best = np.argmin(np.where(tied, seg, np.iinfo(seg.dtype).max), axis=1)
            rows = np.arange(len(todo))
            best_d = d[rows, best]
            settled = (qd[:, -1] >= best_d + self.spacing / 2.0) | (k >= n_samples) | ~found[:, -1]
            done = todo[settled]
            bs = seg[rows, best][settled]
            ok = np.isfinite(best_d[settled]) & (best_d[settled] <= max_distance)
            seg_out[done[ok]] = bs[ok]
            dist_out[done[ok]] = best_d[settled][ok]
            along_out[done[ok]] = t[rows, best][settled][ok] * self.length[bs[ok]]
            todo = todo[~settled]
            k = min(k * 4, n_samples)
