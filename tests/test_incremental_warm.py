"""The receiver's builder, warmed (content, plan and reverse dependency index read before the
first webhook, the heap frozen): every change it applies still gives exactly what a clean full
build gives, including template and static-file changes met with the plan cached."""

from __future__ import annotations

import contextlib
import gc

import pytest

from kontent_ssg.content.webhooks import Change
from kontent_ssg.speed import thaw
from tests.support.emulator import Emulator
from tests.test_incremental import EN, Site, assert_same_as_full_build, make_snapshot, rendered


@pytest.fixture
def heap_unfrozen_after():
    """``Builder.warm`` freezes this process's heap for good (the receiver's whole life):
    give the other tests their collector back."""
    yield
    thaw()


def _change(codename: str) -> list[Change]:
    return [Change("item", "published", codename, language=EN)]


def _retitle(site: Site, emu: Emulator, codename: str, title: str) -> None:
    """Publish a new title of the article ``codename`` in the emulator (no webhook sent)."""
    item = site.item(codename)
    item["elements"]["title"]["value"] = title
    emu.upsert_item(item)


def test_warmed_builder_matches_a_clean_full_build_after_each_change(tmp_path, heap_unfrozen_after):
    with Emulator(make_snapshot()) as emu:
        site = Site(tmp_path / "site", emu)
        site.build()  # the output a receiver starts from
        with site.builder() as builder:
            builder.build()  # the receiver's catch-up build: nothing changed
            builder.warm()
            assert gc.get_freeze_count() > 0
            assert builder._plan is not None  # planned before the first webhook
            assert builder.state.dependants({"template:article.html"})  # the index, kept

            # A title: plan-neutral, so the warmed plan is patched.
            _retitle(site, emu, "gamma", "Gamma, warm")
            report = builder.apply(_change("gamma"))
            assert "articles/gamma/index.html" in report.pages_written
            assert "Gamma, warm" in (site.out / "articles/gamma/index.html").read_text()
            assert_same_as_full_build(site, tmp_path)
            compiled = builder._env  # templates compiled once, kept for the next rebuilds
            _retitle(site, emu, "gamma", "Gamma, warmer")
            builder.apply(_change("gamma"))
            assert builder._env is compiled
            assert_same_as_full_build(site, tmp_path)

            # A template edited while the receiver runs, met at the next webhook.
            (site.folder / "templates" / "article.html").write_text(
                "<h1 class='v2'>{{ item.title }}</h1>\n<div>{{ item.body }}</div>\n"
            )
            beta = site.item("beta")
            beta["elements"]["body"]["value"] = "<p>beta, warm</p>"
            emu.upsert_item(beta)
            routes = builder._plan.routes
            published = builder._published
            report = builder.apply(_change("beta"))
            # A body: the plan patched, its routes those just published, so the pages were
            # chosen without comparing every page with the manifest.
            assert builder._plan.routes is routes and builder._published is not None
            assert builder._published[1] is routes
            # ... and the new manifest's sorted list of pages is the last one's; the
            # unchanged pages are what it lists but the written ones.
            assert published is not None and published[1] is routes
            every = sorted(routes.by_path)
            assert builder._manifest["pages"] is published[0]["pages"] == every
            assert set(report.pages_unchanged) == set(every) - set(report.pages_written)
            assert len(report.pages_unchanged) == len(set(report.pages_unchanged))
            assert builder._env is not compiled  # compiled afresh from the new bytes
            assert "articles/alpha/index.html" in rendered(report)  # every article: template
            assert "class='v2'" in (site.out / "articles/alpha/index.html").read_text()
            assert_same_as_full_build(site, tmp_path)

            # A static file added: the plan is made afresh (it knows the static files).
            (site.folder / "static").mkdir(exist_ok=True)
            (site.folder / "static" / "humans.txt").write_text("warm\n")
            _retitle(site, emu, "delta", "Delta, warm")
            report = builder.apply(_change("delta"))
            assert (site.out / "humans.txt").read_text() == "warm\n"
            assert_same_as_full_build(site, tmp_path)

            # A slug: the plan changes (a page moves), not patched.
            alpha = site.item("alpha")
            alpha["elements"]["url"]["value"] = "alpha-moved"
            emu.upsert_item(alpha)
            report = builder.apply(_change("alpha"))
            assert "articles/alpha/index.html" in report.pages_deleted
            assert_same_as_full_build(site, tmp_path)


def test_warm_without_a_previous_build_reads_nothing(tmp_path, heap_unfrozen_after):
    with Emulator(make_snapshot()) as emu:
        site = Site(tmp_path / "site", emu)
        with site.builder() as builder:
            builder.warm()  # no output, no state: the first rebuild is a full one
            assert builder.content.snapshot is None
            report = builder.build()
            assert "articles/gamma/index.html" in report.pages_written


def test_output_checked_between_rebuilds_is_used_once_then_damage_found_next_time(tmp_path):
    """The receiver checks its output when idle (check_output_now) so that a webhook's
    rebuild need not stat every file. A result is used by one rebuild only, and only while
    the output is the build it checked; damage after the check is found by the next check,
    and the rebuild after that is a full one that puts the files back."""
    with Emulator(make_snapshot()) as emu:
        site = Site(tmp_path / "site", emu)
        site.build()
        with site.builder() as builder:
            builder.build()
            builder.check_output_now(every=0)
            alpha_page = site.out / "articles" / "alpha" / "index.html"
            alpha_page.unlink()  # after the idle check: this rebuild does not know yet

            _retitle(site, emu, "gamma", "Gamma, once")
            report = builder.apply(_change("gamma"))
            assert report.incremental
            assert not alpha_page.exists()

            builder.check_output_now(every=0)  # idle again: finds the page missing
            _retitle(site, emu, "gamma", "Gamma, twice")
            report = builder.apply(_change("gamma"))
            assert not report.incremental
            assert alpha_page.is_file()
            assert_same_as_full_build(site, tmp_path)

            # Without a check since the last publish, the rebuild checks for itself.
            alpha_page.unlink()
            _retitle(site, emu, "gamma", "Gamma, thrice")
            report = builder.apply(_change("gamma"))
            assert not report.incremental
            assert alpha_page.is_file()
            assert_same_as_full_build(site, tmp_path)


def test_output_check_between_rebuilds_is_not_used_after_another_publish(tmp_path):
    with Emulator(make_snapshot()) as emu:
        site = Site(tmp_path / "site", emu)
        site.build()
        with site.builder() as builder:
            builder.build()
            builder.check_output_now(every=0)
            _retitle(site, emu, "delta", "Delta, elsewhere")
            assert site.build().pages_written  # another process publishes: a new build id
            (site.out / "articles" / "alpha" / "index.html").unlink()
            _retitle(site, emu, "gamma", "Gamma, elsewhere")
            report = builder.apply(_change("gamma"))
            assert not report.incremental  # its own check found the page missing
            assert_same_as_full_build(site, tmp_path)


@contextlib.contextmanager
def _checked_builder(tmp_path):  # type: ignore[no-untyped-def]
    """A long-running builder of a built site whose output it has checked once when idle."""
    with Emulator(make_snapshot()) as emu:
        site = Site(tmp_path / "site", emu)
        site.build()
        with site.builder() as builder:
            builder.build()
            builder.check_output_now()
            assert builder._output_checked is not None and builder._output_checked[1]
            yield site, emu, builder


def test_output_is_checked_again_right_after_each_rebuild(tmp_path):
    """Idle checks are rate-limited only while nothing was published: the first idle moment
    after a rebuild checks again, so the next webhook finds a result it can use."""
    with _checked_builder(tmp_path) as (site, emu, builder):
        first = builder._output_checked
        builder.check_output_now()  # nothing published since: not again
        assert builder._output_checked is first
        _retitle(site, emu, "gamma", "Gamma, checked")
        builder.apply(_change("gamma"))
        assert builder._output_checked is None  # used by that rebuild
        builder.check_output_now()  # within the 5 s, but a new build was published
        again = builder._output_checked
        assert again is not None and again[0] != first[0] and again[1]


def test_idle_checks_of_one_build_are_spaced_by_what_a_check_costs(tmp_path):
    """An idle receiver re-checks the same build at most every 5 s, and no more often than
    IDLE_CHECK_SHARE times a check's own duration (seconds each at 100k pages)."""
    with _checked_builder(tmp_path) as (_, _, builder):
        first = builder._output_checked
        assert builder._output_check_took > 0
        builder._output_checked_at -= 6  # 6 s ago, a quick check: due again
        builder.check_output_now()
        second = builder._output_checked
        assert second is not None and second is not first
        builder._output_checked_at -= 6
        builder._output_check_took = 1.0  # a check of a large site: 20 s apart
        builder.check_output_now()
        assert builder._output_checked is second
        builder._output_checked_at -= 15
        builder.check_output_now()
        assert builder._output_checked is not second


def test_an_idle_check_stopped_part_way_is_finished_by_the_next_rebuild(tmp_path, monkeypatch):
    """A notification stops the idle output check (``stop``); the rebuild it starts looks
    only at the files that check did not reach, and finds damage among them."""
    from kontent_ssg.builder import output

    monkeypatch.setattr(output.OutputCheck, "STEP", 1)
    looked: list[str] = []
    file_intact = output._file_intact

    def counting(path, entry):  # type: ignore[no-untyped-def]
        looked.append(path)
        return file_intact(path, entry)

    monkeypatch.setattr(output, "_file_intact", counting)
    with Emulator(make_snapshot()) as emu:
        site = Site(tmp_path / "site", emu)
        site.build()
        with site.builder() as builder:
            builder.build()
            files = builder._manifest_now()["files"]
            calls = iter(range(10**6))
            looked.clear()
            builder.check_output_now(stop=lambda: next(calls) >= 3)  # three files, then stop
            check = builder._output_check
            assert check is not None and check.result is None and len(looked) == 3
            assert builder._output_checked is None
            first = list(looked)
            # A file the check has not reached goes; the rebuild finishes the check.
            unreached = sorted(set(files) - {p[len(str(site.out)) + 1 :] for p in looked})
            (site.out / unreached[-1]).unlink()
            looked.clear()
            _retitle(site, emu, "gamma", "Gamma, after a stopped check")
            report = builder.apply(_change("gamma"))
            assert looked and not set(looked) & set(first)  # not what the idle check saw
            assert not report.incremental  # it found the file missing
            assert (site.out / unreached[-1]).is_file()
            assert builder._output_check is None
