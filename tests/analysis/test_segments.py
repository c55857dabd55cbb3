"""The nearest-segment index is exact: it agrees with GEOS on every point."""

from __future__ import annotations

import numpy as np
import shapely

from geo.segments import SegmentIndex


def test_nearest_segment_equals_geos_including_points_and_bounds():
    rng = np.random.default_rng(1)
    n = 2000
    x0, y0 = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n)
    angle, length = rng.uniform(0, 2 * np.pi, n), rng.exponential(120, n)
    length[:40] = 0.0  # degenerate segments are points
    x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
    index = SegmentIndex(x0, y0, x1, y1, spacing=30)
    px, py = rng.uniform(-800, 5800, 20_000), rng.uniform(-800, 5800, 20_000)
    got = index.nearest(px, py)
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1))
    pts = shapely.points(px, py)
    which, dist = shapely.STRtree(lines).query_nearest(pts, return_distance=True, all_matches=False)
    np.testing.assert_allclose(got.distance, dist, atol=1e-9)
    # Same distance (ties may pick another segment at exactly that distance).
    np.testing.assert_allclose(shapely.distance(lines[got.segment], pts), dist, atol=1e-9)
    # The foot lies on the segment at `along` metres from its start.
    foot = shapely.line_interpolate_point(lines[got.segment], got.along)
    np.testing.assert_allclose(shapely.distance(foot, pts), dist, atol=1e-6)
    bounded = index.nearest(px, py, max_distance=25.0)
    near = dist <= 25.0
    assert (bounded.segment[~near] == -1).all() and np.isinf(bounded.distance[~near]).all()
    np.testing.assert_allclose(bounded.distance[near], dist[near], atol=1e-9)
