"""The message tree of a chat (server/domain/branches.py): roots, newest leaves, paths, siblings."""
from hypothesis import given
from hypothesis import strategies as st

from server.domain.branches import Tree


def rows(*pairs):
    return [{"id": i, "parent_id": p} for i, p in pairs]


# u1 ─ a1 ─ u2 ─ a2
#         └ u2b ─ a2b ─ u3
#              └ a2c          (an edited message, a regenerated reply)
CHAT = rows(("u1", None), ("a1", "u1"), ("u2", "a1"), ("a2", "u2"), ("u2b", "a1"),
            ("a2b", "u2b"), ("a2c", "u2b"), ("u3", "a2b"))


def test_an_empty_tree_has_no_leaf_and_no_path():
    tree = Tree.of([])
    assert tree.latest_leaf() is None
    assert tree.path_to(None) == [] and tree.active_path(None) == []
    assert tree.siblings("x") == ["x"]


def test_of_keeps_children_oldest_first():
    tree = Tree.of(CHAT)
    assert tree.children[None] == ["u1"]
    assert tree.children["a1"] == ["u2", "u2b"]
    assert tree.children["u2b"] == ["a2b", "a2c"]
    assert tree.parent["u3"] == "a2b" and tree.parent["u1"] is None


def test_add_makes_the_tree_read_before_an_insert_current():
    tree = Tree.of(CHAT)
    tree.add("a3", "u3")
    assert tree == Tree.of(CHAT + rows(("a3", "u3")))
    assert tree.latest_leaf("u2b") == "a2c"  # the newest child of u2b is still a2c
    tree.add("a4", "u3")
    assert tree.siblings("a4") == ["a3", "a4"]


def test_latest_leaf_follows_the_newest_child_down():
    tree = Tree.of(CHAT)
    assert tree.latest_leaf() == "a2c"  # u1 → a1 → u2b (newer than u2) → a2c (newer than a2b)
    assert tree.latest_leaf("u2") == "a2"
    assert tree.latest_leaf("a2b") == "u3"
    assert tree.latest_leaf("u3") == "u3"  # a leaf is its own latest leaf


def test_latest_leaf_starts_from_the_newest_root():
    tree = Tree.of(rows(("r1", None), ("c1", "r1"), ("r2", None)))
    assert tree.latest_leaf() == "r2"


def test_path_to_runs_from_the_root_to_the_message():
    tree = Tree.of(CHAT)
    assert tree.path_to("u3") == ["u1", "a1", "u2b", "a2b", "u3"]
    assert tree.path_to("a1") == ["u1", "a1"]
    assert tree.path_to("missing") == []


def test_a_message_not_in_the_tree_is_its_own_only_sibling():
    tree = Tree.of(rows(("u1", None), ("u2", None)))
    assert tree.siblings("unknown") == ["unknown"]  # not the roots


def test_siblings_are_the_children_of_the_same_parent():
    tree = Tree.of(CHAT)
    assert tree.siblings("u2") == tree.siblings("u2b") == ["u2", "u2b"]
    assert tree.siblings("a2c") == ["a2b", "a2c"]
    assert tree.siblings("u1") == ["u1"]  # the only root


def test_active_path_goes_to_the_current_message_or_else_the_latest_leaf():
    tree = Tree.of(CHAT)
    assert tree.active_path("a2") == ["u1", "a1", "u2", "a2"]
    assert tree.active_path("u2b") == ["u1", "a1", "u2b"]  # current need not be a leaf
    fallback = ["u1", "a1", "u2b", "a2c"]
    assert tree.active_path(None) == fallback
    assert tree.active_path("deleted-long-ago") == fallback


# -- properties, on random trees --------------------------------------------------------------

@st.composite
def chats(draw, min_size=0):
    """Rows in creation order: each message's parent is an earlier message, or none (a root)."""
    n = draw(st.integers(min_size, 40))
    made = []
    for i in range(n):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        made.append({"id": f"m{i}", "parent_id": None if parent is None else f"m{parent}"})
    return made


def is_chain(tree, path):
    return (tree.parent[path[0]] is None
            and all(tree.parent[child] == parent and child in tree.children[parent]
                    for parent, child in zip(path, path[1:])))


@given(chats(min_size=1), st.data())
def test_a_path_starts_at_a_root_and_each_step_is_a_child_of_the_one_before(made, data):
    tree = Tree.of(made)
    message = data.draw(st.sampled_from([r["id"] for r in made]))
    path = tree.path_to(message)
    assert path[-1] == message and is_chain(tree, path)
    assert len(set(path)) == len(path)


@given(chats(min_size=1))
def test_the_latest_leaf_is_a_leaf_reached_by_newest_children_from_the_newest_root(made):
    tree = Tree.of(made)
    leaf = tree.latest_leaf()
    assert not tree.children.get(leaf)
    path = tree.path_to(leaf)
    assert path[0] == tree.children[None][-1]
    assert all(child == tree.children[parent][-1] for parent, child in zip(path, path[1:]))


@given(chats(), st.one_of(st.none(), st.just("not-a-message")))
def test_without_a_current_message_the_active_path_leads_to_the_latest_leaf(made, current):
    tree = Tree.of(made)
    assert tree.active_path(current) == tree.path_to(tree.latest_leaf())


@given(chats(min_size=1), st.data())
def test_the_active_path_of_a_message_ends_at_it(made, data):
    tree = Tree.of(made)
    current = data.draw(st.sampled_from([r["id"] for r in made]))
    path = tree.active_path(current)
    assert path == tree.path_to(current) and path[-1] == current and is_chain(tree, path)


@given(chats(min_size=1), st.data())
def test_siblings_contain_the_message_and_share_its_parent_in_creation_order(made, data):
    tree = Tree.of(made)
    message = data.draw(st.sampled_from([r["id"] for r in made]))
    siblings = tree.siblings(message)
    assert message in siblings
    expected = [r["id"] for r in made if r["parent_id"] == tree.parent[message]]
    assert siblings == expected


@given(chats())
def test_adding_rows_one_by_one_builds_the_same_tree_as_reading_them(made):
    tree = Tree()
    for row in made:
        tree.add(row["id"], row["parent_id"])
    assert tree == Tree.of(made)


def test_parents_first_puts_every_message_after_its_parent_whatever_the_row_order():
    rows = [{"id": "reply", "parent_id": "question"}, {"id": "question", "parent_id": None},
            {"id": "again", "parent_id": "question"}, {"id": "stray", "parent_id": "gone"}]
    assert Tree.of(rows).parents_first() == ["question", "reply", "again", "stray"]
