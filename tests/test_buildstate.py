"""The SQLite build state: reverse index, problems, queue durability across connections."""

from __future__ import annotations

from kontent_ssg.content.webhooks import Change
from kontent_ssg.incremental.state import BuildState, PageRecord, Problems, state_path


def test_dependants_of_keys(tmp_path):
    state = BuildState(state_path(tmp_path))
    state.record(
        [
            (PageRecord("a/index.html", "/a/", "h1"), ["item:a:en", "template:article.html"]),
            (PageRecord("b/index.html", "/b/", "h2"), ["item:b:en", "item:a:en"]),
            (PageRecord("index.html", "/", "h3"), ["type:article:en"]),
        ]
    )
    assert state.dependants(["item:a:en"]) == {"a/index.html", "b/index.html"}
    assert state.dependants(["type:article:en", "item:zzz:en"]) == {"index.html"}
    assert state.dependants([]) == set()
    assert state.dependants(["item:zzz:en"]) == set()


def test_dependants_match_whole_keys_only(tmp_path):
    # The JSON of one key can occur inside the JSON of another ("b" inside 'a","b'):
    # only a page that recorded the key itself depends on it, with few keys or many.
    state = BuildState(state_path(tmp_path))
    state.record(
        [
            (PageRecord("p/index.html", "/p/", "h1"), ['a","b', "item:ab:en", "x\\"]),
            (PageRecord("q/index.html", "/q/", "h2"), ["b", "item:a:en"]),
        ]
    )
    assert state.dependants(["b"]) == {"q/index.html"}
    assert state.dependants(["item:a"]) == set()
    assert state.dependants(["item:a:en"]) == {"q/index.html"}
    assert state.dependants(['a","b']) == {"p/index.html"}
    assert state.dependants(["x\\"]) == {"p/index.html"}
    many = [f"item:n{i}:en" for i in range(20)]
    assert state.dependants([*many, "b"]) == {"q/index.html"}
    assert state.deps_of("p/index.html") == {'a","b', "item:ab:en", "x\\"}


def test_record_replaces_deps_and_deletes(tmp_path):
    state = BuildState(state_path(tmp_path))
    state.record([(PageRecord("a.html", "/a", "h"), ["item:x:en"])])
    state.record([(PageRecord("a.html", "/a", "h2"), ["item:y:en"])])
    assert state.deps_of("a.html") == {"item:y:en"}
    assert state.dependants(["item:x:en"]) == set()
    assert state.page("a.html") == PageRecord("a.html", "/a", "h2")
    state.record([], deleted=["a.html"])
    assert state.pages() == {}
    assert state.dependants(["item:y:en"]) == set()
    assert state.is_empty


def test_problems_are_replaced_with_the_page_and_dropped_with_it(tmp_path):
    state = BuildState(state_path(tmp_path))
    link = {"item": "a", "element": "body", "language": "en", "target_id": "x", "page": "/a/"}
    state.record(
        [(PageRecord("a.html", "/a/", "h"), []), (PageRecord("b.html", "/b/", "h"), [])],
        problems={"a.html": Problems(("no template",), (link,)), "b.html": Problems()},
    )
    assert state.problems() == {"a.html": Problems(("no template",), (link,))}
    # Re-rendered without problems: its old ones go; an untouched page keeps its own.
    state.record([(PageRecord("b.html", "/b/", "h2"), [])], problems={"b.html": Problems(("w",))})
    state.record([(PageRecord("a.html", "/a/", "h2"), [])])
    assert state.problems() == {"b.html": Problems(("w",))}
    state.record([], deleted=["b.html"])
    assert state.problems() == {}
    state.record([(PageRecord("c.html", "/c/", "h"), [])], problems={"c.html": Problems(("x",))})
    state.record([(PageRecord("d.html", "/d/", "h"), [])], replace=True)
    assert state.problems() == {}


def test_meta_and_sync_token_persist(tmp_path):
    path = state_path(tmp_path)
    state = BuildState(path)
    state.sync_token = "tok-1"
    state.record([], meta={"config_hash": "abc"})
    state.close()
    again = BuildState(path)
    assert again.sync_token == "tok-1"
    assert again.get_meta("config_hash") == "abc"
    again.sync_token = None
    assert again.sync_token is None


def test_queue_survives_reopen_and_marks_done(tmp_path):
    path = state_path(tmp_path)
    state = BuildState(path)
    first = state.enqueue([Change("item", "published", "a", language="en")])
    state.enqueue([Change("taxonomy", "changed", "topics")], slot="preview")
    state.close()  # as if the process died after answering 202

    again = BuildState(path)
    pending = again.pending()
    assert [p.id for p in pending] == [first, first + 1]
    assert pending[0].changes == [Change("item", "published", "a", language="en")]
    assert [p.slot for p in again.pending(slot="preview")] == ["preview"]
    again.mark_done([first])
    assert [p.id for p in again.pending()] == [first + 1]
    assert again.queue_counts() == {"pending": 1, "done": 1}


def test_preview_state_is_separate(tmp_path):
    assert state_path(tmp_path) != state_path(tmp_path, preview=True)
    assert state_path(tmp_path).name == "state.sqlite"
    assert state_path(tmp_path).parent.name == "build"


def test_repeated_lookups_use_an_index_kept_in_step_with_writes(tmp_path):
    # A long-running receiver asks again and again: from the second lookup on the answers
    # come from an in-memory index, which must follow this state's own writes and notice
    # another connection's.
    state = BuildState(state_path(tmp_path))
    state.record(
        [
            (PageRecord("a/index.html", "/a/", "h1"), ["item:a:en", "template:t.html"]),
            (PageRecord("b/index.html", "/b/", "h2"), ["item:b:en", "item:a:en"]),
        ]
    )
    for _ in range(3):
        assert state.dependants(["item:a:en"]) == {"a/index.html", "b/index.html"}
    assert state._page_keys is not None  # the index is in use from here on
    state.record([(PageRecord("b/index.html", "/b/", "h3"), ["item:b:en"])])
    assert state.dependants(["item:a:en"]) == {"a/index.html"}
    state.record(
        [(PageRecord("c/index.html", "/c/", "h4"), ["item:a:en"])], deleted=["a/index.html"]
    )
    assert state.dependants(["item:a:en"]) == {"c/index.html"}
    assert state.dependants(["item:b:en"]) == {"b/index.html"}
    other = BuildState(state_path(tmp_path))
    other.record([(PageRecord("d/index.html", "/d/", "h5"), ["item:a:en"])])
    other.close()
    assert state.dependants(["item:a:en"]) == {"c/index.html", "d/index.html"}
    state.record([(PageRecord("e/index.html", "/e/", "h6"), ["item:e:en"])], replace=True)
    assert state.dependants(["item:a:en"]) == set()
    assert state.dependants(["item:e:en"]) == {"e/index.html"}


def test_a_page_recorded_again_with_the_keys_it_had_keeps_them_and_takes_the_rest(tmp_path):
    # With the index in memory, a page re-rendered with the same keys is not given them again
    # (the hash, URL and problems still change); a page another connection changed since is.
    state = BuildState(state_path(tmp_path))
    keys = ["item:a:en", "item:b:en", "listing:article:en"]
    state.record(
        [(PageRecord("t/index.html", "/t/", "h1"), keys)],
        problems={"t/index.html": Problems(("a warning",))},
    )
    state.keep_index()
    state.record([(PageRecord("t/index.html", "/t2/", "h2"), list(reversed(keys)))])
    assert state.page("t/index.html") == PageRecord("t/index.html", "/t2/", "h2")
    assert state.deps_of("t/index.html") == set(keys)
    assert state.problems() == {}
    other = BuildState(state_path(tmp_path))
    other.record([(PageRecord("t/index.html", "/t/", "h3"), ["item:z:en"])])
    other.close()
    state.record([(PageRecord("t/index.html", "/t/", "h4"), keys)])
    assert state.deps_of("t/index.html") == set(keys)
    assert state.dependants(["item:z:en"]) == set()
    assert state.dependants(["item:b:en"]) == {"t/index.html"}
    assert BuildState(state_path(tmp_path)).deps_of("t/index.html") == set(keys)
