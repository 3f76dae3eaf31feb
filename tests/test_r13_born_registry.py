"""The shipped registry loads only its key index; which organs each one heads is built on
first need (issue 17, round 13). The lazily built tree is the one the eager load made."""

from __future__ import annotations

from organs import shipped
from organs.registry import OrganRegistry


def test_the_lazily_built_tree_equals_the_one_built_from_every_organ() -> None:
    lazy = OrganRegistry.of_lines(shipped.lines())
    eager = OrganRegistry(*shipped.read())
    parents = sorted({o.parent for o in eager.all() if o.parent})
    assert len(parents) > 100
    for parent in parents[::7]:
        assert [o.organ_id for o in lazy.children(parent)] == [
            o.organ_id for o in eager.children(parent)
        ]
    assert lazy.match_header("BỘ TÀI CHÍNH") == eager.match_header("BỘ TÀI CHÍNH")


def test_an_overlay_on_the_lazily_loaded_registry_keeps_the_tree() -> None:
    national = OrganRegistry.of_lines(shipped.lines())
    with_sample = OrganRegistry.from_setting("national+sample")
    someone = next(o for o in with_sample.all() if o.parent and with_sample.get(o.parent))
    assert someone.organ_id in [o.organ_id for o in with_sample.children(someone.parent)]
    assert len(with_sample) >= len(national)
