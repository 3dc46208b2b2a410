"""Layout of a dataset's lineage graph, drawn by the dataset page as inline SVG.

Versions are nodes left to right in block order (one column each); edges lead from a parent
version to the version derived from it. A version continues its first parent's lane when that
parent is the lane's newest node, so a straight history stays on one line and branches open
new lanes below. Parents from other datasets sit in a first column of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Edge", "Graph", "Node", "layout"]

NODE_W, NODE_H = 196, 58
COL_GAP, ROW_GAP, MARGIN = 64, 26, 14


@dataclass(frozen=True)
class Node:
    id: str  # the version id (a version is keyed by its dataset and root)
    root: str  # its root; the version id for another dataset's version (its root is not here)
    number: int | None  # 1-based version number in this dataset; None for another dataset's
    x: int
    y: int
    anchored_at: str | None
    status: str  # anchored | revoked | external

    @property
    def date(self) -> str:
        return (self.anchored_at or "")[:10]


@dataclass(frozen=True)
class Edge:
    parent: str
    child: str
    path: str  # SVG path data


@dataclass(frozen=True)
class Graph:
    width: int
    height: int
    nodes: list[Node]
    edges: list[Edge]
    node_width: int = NODE_W
    node_height: int = NODE_H


def layout(versions: Sequence[dict[str, Any]], lineage: Sequence[dict[str, str]]) -> Graph:
    """Place ``versions`` (oldest first, as ``queries.get_dataset`` gives them) and the
    ``lineage`` edges (``{"from": parent, "to": child}``, version ids)."""
    own = {v["id"] for v in versions}
    external: list[str] = []
    for edge in lineage:
        if edge["from"] not in own and edge["from"] not in external:
            external.append(edge["from"])
    parents: dict[str, list[str]] = {v["id"]: [] for v in versions}
    for edge in lineage:
        if edge["to"] in parents:
            parents[edge["to"]].append(edge["from"])

    tips: list[str] = []  # newest node of each lane
    place: dict[str, tuple[int, int]] = {}  # version id -> (column, lane)
    for root in external:
        place[root] = (0, len(tips))
        tips.append(root)
    first_column = 1 if external else 0
    for index, version in enumerate(versions):
        key = version["id"]
        lane = next((tips.index(p) for p in parents[key] if p in tips), None)
        if lane is None:
            lane = len(tips)
            tips.append(key)
        tips[lane] = key
        place[key] = (first_column + index, lane)

    def xy(key: str) -> tuple[int, int]:
        column, lane = place[key]
        return MARGIN + column * (NODE_W + COL_GAP), MARGIN + lane * (NODE_H + ROW_GAP)

    nodes = [
        Node(id=r, root=r, number=None, x=xy(r)[0], y=xy(r)[1], anchored_at=None, status="external")
        for r in external
    ]
    for number, version in enumerate(versions, start=1):
        x, y = xy(version["id"])
        nodes.append(
            Node(
                id=version["id"],
                root=version["root"],
                number=number,
                x=x,
                y=y,
                anchored_at=version.get("anchored_at"),
                status=str(version.get("status", "anchored")),
            )
        )
    edges = []
    for edge in lineage:
        if edge["to"] not in place or edge["from"] not in place:
            continue
        (x1, y1), (x2, y2) = xy(edge["from"]), xy(edge["to"])
        sx, sy, ex, ey = x1 + NODE_W, y1 + NODE_H // 2, x2 - 6, y2 + NODE_H // 2
        if sy == ey:
            path = f"M{sx},{sy} L{ex},{ey}"
        else:
            bend = max(COL_GAP // 2, (ex - sx) // 2)
            path = f"M{sx},{sy} C{sx + bend},{sy} {ex - bend},{ey} {ex},{ey}"
        edges.append(Edge(parent=edge["from"], child=edge["to"], path=path))
    columns = first_column + len(versions)
    lanes = max(len(tips), 1)
    width = 2 * MARGIN + max(columns, 1) * NODE_W + max(columns - 1, 0) * COL_GAP
    height = 2 * MARGIN + lanes * NODE_H + (lanes - 1) * ROW_GAP
    return Graph(width=width, height=height, nodes=nodes, edges=edges)
