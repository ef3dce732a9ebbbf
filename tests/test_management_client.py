"""The Management API client (paging, errors, retries) and the Delivery → Management
conversions, on their own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from kontent_ssg.content.delivery import RetryPolicy
from kontent_ssg.errors import ManagementError
from kontent_ssg.management.client import ManagementClient
from kontent_ssg.management.convert import (
    References,
    external_id,
    rich_text_to_management,
    type_payload,
)
from tests.support.mapi_emulator import ManagementEmulator, MapiFaults

KEY = "client-test-key-1"


@pytest.fixture
def mapi() -> Iterator[ManagementEmulator]:
    with ManagementEmulator(api_key=KEY, page_size=2) as emu:
        yield emu
        assert emu.internal_errors == []


def _client(emu: ManagementEmulator, **policy: object) -> ManagementClient:
    retry = RetryPolicy(**policy)  # type: ignore[arg-type]
    return ManagementClient(emu.url, emu.environment_id, KEY, retry=retry)


def test_listings_follow_x_continuation_to_the_end(mapi: ManagementEmulator) -> None:
    with _client(mapi) as client:
        for n in range(5):
            client.post("taxonomies", {"name": f"Group {n}", "terms": []}, what="seed")
        groups = client.list_all("taxonomies", "taxonomies", what="list")
    assert [g["codename"] for g in groups] == [f"group_{n}" for n in range(5)]
    pages = [r for r in mapi.request_log if r.method == "GET"]
    assert len(pages) == 3  # 2 + 2 + 1


def test_a_continuation_token_the_api_never_gave_is_a_400(mapi: ManagementEmulator) -> None:
    with _client(mapi) as client, pytest.raises(ManagementError) as info:
        client.send("GET", "items", what="list", headers={"x-continuation": "bm9wZQ=="})
    assert info.value.status == 400
    assert "continuation token" in str(info.value)


def test_a_repeating_token_stops_the_listing() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"items": [{"id": "1"}], "pagination": {"continuation_token": "same"}}
        return httpx.Response(200, json=body)

    client = ManagementClient(
        "https://manage.example/v2", "env", KEY, transport=httpx.MockTransport(answer)
    )
    with client, pytest.raises(ManagementError, match="continuation token repeats"):
        client.list_all("items", "items", what="list items")


def test_validation_errors_are_in_the_message(mapi: ManagementEmulator) -> None:
    with _client(mapi) as client, pytest.raises(ManagementError) as info:
        client.post("types", {"name": "", "elements": []}, what="create type 'x'")
    assert info.value.status == 400
    assert "create type 'x': POST" in str(info.value)
    assert "Provide a nonempty name which fits within 50 characters." in str(info.value)


def test_a_conflict_is_a_409(mapi: ManagementEmulator) -> None:
    with _client(mapi) as client:
        client.post("taxonomies", {"name": "Topics", "codename": "topics"}, what="first")
        with pytest.raises(ManagementError) as info:
            client.post("taxonomies", {"name": "Topics", "codename": "topics"}, what="second")
    assert info.value.status == 409


def test_429_waits_as_retry_after_says_then_gives_up_in_bounds(mapi: ManagementEmulator) -> None:
    waited: list[float] = []
    mapi.faults = MapiFaults(rate_limit_on=frozenset({1, 2}), retry_after=2)
    with _client(mapi, sleep=waited.append) as client:
        assert client.get("workflows", what="workflows")[0]["codename"] == "default"
    assert waited == [2.0, 2.0] and client.retries == 2
    mapi.faults = MapiFaults(fail_from=1)
    failing = pytest.raises(ManagementError, match=r"kept failing.*HTTP 503.*3 attempts")
    with _client(mapi, sleep=waited.append, max_attempts=3) as client, failing:
        client.get("workflows", what="workflows")


def test_the_key_is_sent_as_bearer_and_never_shown() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(400, json={"message": f"bad key {KEY}", "error_code": 5})

    client = ManagementClient(
        "https://manage.example/v2", "env", KEY, transport=httpx.MockTransport(answer)
    )
    with client, pytest.raises(ManagementError) as info:
        client.get("items", what="list")
    assert seen == [f"Bearer {KEY}"]
    assert KEY not in str(info.value) and "bad key ***" in str(info.value)
    assert KEY not in repr(client)


# --- conversions -----------------------------------------------------------------------------


def test_rich_text_references_become_external_ids_and_components_inline() -> None:
    component = {
        "system": {"id": "5d8d5ce6-0000", "codename": "n5d8d5ce6_0000", "type": "quote"},
        "elements": {"text": {"type": "text", "name": "Text", "value": "Brew well."}},
    }
    refs = References({"canal_street": "id-cafe"}, frozenset({"id-cafe"}), lambda c, lang: None)
    refs.component = lambda codename, language: component if codename == "n5d8d5ce6_0000" else None
    element = {
        "type": "rich_text",
        "images": {"img-1": {"image_id": "img-1", "url": "/images/a.svg"}},
        "value": (
            '<p>See <a data-item-id="id-cafe" href="">the café</a>, '
            '<a data-asset-id="x" href="/images/card.svg">the card</a>, '
            '<a data-email-address="a@b.example" href="mailto:a@b.example">mail</a>, '
            '<a href="https://e.example" data-new-window="true" target="_blank" '
            'rel="noopener noreferrer">out</a>.</p>\n'
            '<object type="application/kenticocloud" data-type="item" data-rel="component" '
            'data-codename="n5d8d5ce6_0000"></object>\n'
            '<object type="application/kenticocloud" data-type="item" data-rel="link" '
            'data-codename="canal_street"></object>\n'
            '<figure data-asset-id="img-1" data-image-id="img-1"><img src="/images/a.svg" '
            'data-asset-id="img-1" data-image-id="img-1" alt=""></figure>'
        ),
    }
    html, components = rich_text_to_management(element, "en-US", refs)
    item = external_id("item", "id-cafe")
    assert html == (
        f'<p>See <a data-item-external-id="{item}">the café</a>, '
        f'<a data-asset-external-id="{external_id("asset", "/images/card.svg")}">the card</a>, '
        '<a data-email-address="a@b.example">mail</a>, '
        '<a href="https://e.example" data-new-window="true">out</a>.</p>\n'
        '<object type="application/kenticocloud" data-type="component" '
        'data-id="5d8d5ce6-0000"></object>\n'
        f'<object type="application/kenticocloud" data-type="item" data-external-id="{item}">'
        "</object>\n"
        f'<figure data-asset-external-id="{external_id("asset", "/images/a.svg")}"></figure>'
    )
    assert components == [
        {
            "id": "5d8d5ce6-0000",
            "type": {"codename": "quote"},
            "elements": [{"element": {"codename": "text"}, "value": "Brew well."}],
        }
    ]
    assert refs.warnings == []


def test_types_get_what_the_management_api_requires() -> None:
    payload = type_payload(
        {
            "system": {"codename": "article", "name": "Article"},
            "elements": {
                "title": {"type": "text", "name": "Title"},
                "url": {"type": "url_slug", "name": "URL"},
                "tags": {
                    "type": "multiple_choice",
                    "name": "Tags",
                    "options": [{"name": "Guide", "codename": "guide"}],
                },
                "topics": {"type": "taxonomy", "name": "Topics", "taxonomy_group": "topics"},
                "color": {"type": "custom", "name": "Colour"},
            },
        }
    )
    elements = {e["codename"]: e for e in payload["elements"]}
    assert payload["external_id"] == "kontent-ssg:type:article"
    assert elements["url"]["depends_on"] == {"element": {"codename": "title"}}
    assert elements["tags"]["mode"] == "multiple"
    assert elements["topics"]["taxonomy_group"] == {"codename": "topics"}
    assert elements["color"]["source_url"].startswith("https://")
    json.dumps(payload)  # a request body


def test_unknown_objects_and_environments_are_404s(mapi: ManagementEmulator) -> None:
    with _client(mapi) as client:
        assert client.find("items/external-id/nope", what="look up") is None
        with pytest.raises(ManagementError) as info:
            client.get("items/external-id/nope", what="get item 'nope'")
        assert info.value.status == 404 and "get item 'nope'" in str(info.value)
    other = ManagementClient(mapi.url, "0b0e5f4e-0000-4000-8000-000000000000", KEY)
    with other, pytest.raises(ManagementError) as info:
        other.get("languages", what="list languages")
    assert info.value.status == 404 and "does not exist" in str(info.value)
