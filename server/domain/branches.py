"""A chat's messages form a tree: editing a message or regenerating a reply adds a sibling. The
*active branch* is the path from the root to the chat's current leaf. Pure functions over
(id, parent_id) rows in creation order."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tree:
    parent: dict[str, str | None] = field(default_factory=dict)
    children: dict[str | None, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> "Tree":
        tree = cls()
        for row in rows:  # creation order, so children lists are oldest first
            tree.parent[row["id"]] = row["parent_id"]
            tree.children.setdefault(row["parent_id"], []).append(row["id"])
        return tree

    def add(self, message_id: str, parent_id: str | None) -> None:
        """A message just stored, so the tree read before the insert stays current."""
        self.parent[message_id] = parent_id
        self.children.setdefault(parent_id, []).append(message_id)

    def latest_leaf(self, start: str | None = None) -> str | None:
        """From `start` (or the newest root), follow the newest child down to a leaf."""
        node = start
        if node is None:
            roots = self.children.get(None)
            if not roots:
                return None
            node = roots[-1]
        while self.children.get(node):
            node = self.children[node][-1]
        return node

    def path_to(self, leaf: str | None) -> list[str]:
        path: list[str] = []
        node = leaf
        while node is not None and node in self.parent:
            path.append(node)
            node = self.parent[node]
        path.reverse()
        return path

    def siblings(self, message_id: str) -> list[str]:
        """The message and its siblings, oldest first (a message not in the tree is alone)."""
        if message_id not in self.parent:
            return [message_id]
        return self.children[self.parent[message_id]]

    def parents_first(self) -> list[str]:
        """Every message after its parent, depth first, siblings oldest first (a turn's two rows
        can share a timestamp, so creation order alone may put a reply before its question)."""
        order: list[str] = []
        roots = [child for parent, kids in self.children.items()
                 if parent is None or parent not in self.parent for child in kids]
        stack = list(reversed(roots))
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(reversed(self.children.get(node, [])))
        return order

    def active_path(self, current: str | None) -> list[str]:
        leaf = current if current in self.parent else self.latest_leaf()
        return self.path_to(leaf)
