"""Webhook signatures and payload parsing, against the official helper's real vectors."""

from __future__ import annotations

import json

import pytest

from kontent_ssg.content.webhooks import (
    Change,
    changes_from_json,
    changes_to_json,
    is_codename,
    is_language_codename,
    json_depth_exceeds,
    parse_webhook,
    sign_webhook,
    verify_signature,
)
from kontent_ssg.errors import WebhookError
from tests.support.fixtures import load_real

VECTORS = "kontent-ai__webhook-helper-js/DERIVED__signature-vectors.json"


def _vectors() -> list[dict]:
    return load_real(VECTORS)["vectors"]


def test_real_vectors_verify_with_the_helpers_crlf_normalisation(real_fixtures):
    for v in _vectors():
        body = v["body"].encode("utf-8")
        assert verify_signature(body, v["expected_signature"], v["secret"]), v["name"]


def test_real_vectors_verify_over_the_raw_body_too(real_fixtures):
    for v in _vectors():
        body = v["body"].encode("utf-8")
        raw = v["signature_over_body_without_crlf_normalisation"]
        assert sign_webhook(body, v["secret"]) == raw
        assert verify_signature(body, raw, v["secret"]), v["name"]


def test_real_negative_case_fails(real_fixtures):
    data = load_real(VECTORS)
    v = _vectors()[0]
    body = data["negative_case"]["body"].encode("utf-8")
    assert not verify_signature(body, v["expected_signature"], v["secret"])


def test_wrong_secret_missing_and_garbage_signatures_fail(real_fixtures):
    v = _vectors()[1]
    body = v["body"].encode("utf-8")
    assert not verify_signature(body, v["expected_signature"], "not-the-secret")
    assert not verify_signature(body, None, v["secret"])
    assert not verify_signature(body, "", v["secret"])
    assert not verify_signature(body, "ÿ not base64 ÿ", v["secret"])
    assert not verify_signature(body + b" ", v["expected_signature"], v["secret"])
    assert not verify_signature(body, v["expected_signature"], "")


def test_own_signature_roundtrip():
    body = b'{"notifications": []}'
    sig = sign_webhook(body, "s3cret")
    assert verify_signature(body, sig, "s3cret")
    assert verify_signature(body, f"  {sig}\n", "s3cret")
    assert not verify_signature(body, sig, "S3cret")


def test_parse_v2_published(real_fixtures):
    v = next(v for v in _vectors() if v["name"] == "v2_published")
    assert parse_webhook(v["body"].encode()) == [
        Change(
            kind="item",
            action="published",
            codename="this_changes_everything_",
            item_id="aa7f127f-1920-4454-a89a-0609aba8ea6f",
            language="default",
            type="product_update",
            slot="published",
        )
    ]


def test_parse_v2_preview_slot(real_fixtures):
    v = next(v for v in _vectors() if v["name"] == "v2_workflow_step_changed_preview")
    (change,) = parse_webhook(v["body"].encode())
    assert change.slot == "preview"
    assert change.action == "workflow_step_changed"


def test_parse_v2_parsed_shape_payloads(real_fixtures):
    payloads = load_real(
        "kontent-ai__webhook-helper-js/DERIVED__v2-webhook-payloads-parsed-shape.json"
    )
    payloads = payloads["payloads"]
    (preview,) = parse_webhook(json.dumps(payloads["validPreviewWebhookPayload"]).encode())
    assert (preview.kind, preview.action, preview.slot) == ("item", "created", "preview")
    (asset,) = parse_webhook(json.dumps(payloads["validAssetWebhookPayload"]).encode())
    assert (asset.kind, asset.codename, asset.slot) == ("asset", "my_asset", "published")


def test_parse_legacy_publish(real_fixtures):
    v = next(v for v in _vectors() if v["name"] == "legacy_content_item_variant_publish")
    assert parse_webhook(v["body"].encode()) == [
        Change(
            kind="item",
            action="publish",
            codename="christian_bale",
            item_id="f0e9e9fa-91e8-40d5-9527-b7e0ae51fc54",
            language="en",
            type="actor",
            slot="published",
        )
    ]


def test_parse_legacy_taxonomy_names_items_and_group(real_fixtures):
    body = load_real("kontent-ai__webhook-helper-js/lib__test__responses__delivery-response.json")
    changes = parse_webhook(json.dumps(body).encode())
    assert [(c.kind, c.codename) for c in changes] == [
        ("item", "this_article_changed"),
        ("taxonomy", "personas"),
    ]
    assert all(c.action == "upsert" and c.slot == "published" for c in changes)


def test_parse_legacy_workflow_ids_only(real_fixtures):
    body = load_real("kontent-ai__webhook-helper-js/lib__test__responses__workflow-response.json")
    (change,) = parse_webhook(json.dumps(body).encode())
    assert change.item_id == "65f05e0f-40c3-436b-a641-e2d4cae16e46"
    assert change.codename is None and change.language is None


def test_parse_legacy_preview_create_real_capture(real_fixtures):
    body = load_real("kontent-ai__gatsby-packages/hookBodies__preview-create.json")
    (change,) = parse_webhook(json.dumps(body).encode())
    assert (change.kind, change.codename, change.slot) == (
        "item",
        "untitled_content_item_e1542c3",
        "preview",
    )


def test_parse_v2_model_changes_are_structural():
    def note(object_type: str) -> dict:
        return {
            "data": {"system": {"id": "x", "codename": "c"}},
            "message": {"object_type": object_type, "action": "changed"},
        }

    body = json.dumps({"notifications": [note("content_type"), note("language"), note("workflow")]})
    assert [c.kind for c in parse_webhook(body.encode())] == ["type", "language", "unknown"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"x"',
        b"{}",
        b'{"notifications": []}',
        b'{"notifications": [1]}',
        b'{"notifications": [{"modified": "data"}]}',
        b'{"notifications": [{"data": {"system": {}}, "message": {"object_type": "x"}}]}',
        b'{"notifications": [{"data": {"system": {"codename": "a"}}, '
        b'"message": {"object_type": "content_item", "action": "published", '
        b'"delivery_slot": "nowhere"}}]}',
        b'{"notifications": [{"data": {"system": {}}, '
        b'"message": {"object_type": "content_item", "action": "published"}}]}',
        b'{"message": {"type": "content_item_variant"}, "data": {"items": []}}',
        b'{"message": {"type": "content_item_variant", "operation": "publish"}, '
        b'"data": {"items": [{"id": "x"}]}}',
        b'{"message": {"type": "x", "operation": "y"}, "data": {"items": "nope"}}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_raise_webhook_error(body):
    with pytest.raises(WebhookError):
        parse_webhook(body)


def test_changes_roundtrip_through_json():
    changes = [Change("item", "published", "a", "id", "en-US", "article", "preview")]
    assert changes_from_json(changes_to_json(changes)) == changes


# -- the Kontent.ai grammar and hostile bodies ------------------------------------------------

REAL_WEBHOOK_BODIES = [
    "kontent-ai__webhook-helper-js/lib__test__responses__delivery-response.json",
    "kontent-ai__webhook-helper-js/lib__test__responses__workflow-response.json",
    "kontent-ai__gatsby-packages/hookBodies__preview-create.json",
]


def test_every_real_webhook_body_parses_without_dropping_anything(real_fixtures):
    bodies = [v["body"].encode() for v in _vectors()]
    bodies += [json.dumps(load_real(name)).encode() for name in REAL_WEBHOOK_BODIES]
    shapes = load_real(
        "kontent-ai__webhook-helper-js/DERIVED__v2-webhook-payloads-parsed-shape.json"
    )["payloads"]
    bodies += [json.dumps(p).encode() for p in shapes.values() if "notifications" in p]
    for body in bodies:
        dropped: list[str] = []
        assert parse_webhook(body, on_invalid=dropped.append)
        assert dropped == []


def test_real_codenames_and_languages_fit_the_grammar(real_fixtures):
    """Every codename and language of the real Delivery responses passes; the one exception
    is a hand-written SDK fixture testing reserved names ("Brewing": an item codename with
    a capital, which Kontent.ai itself never generates: it lowercases every codename)."""
    items: set[str] = set()
    languages: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            system = value.get("system")
            if isinstance(system, dict) and "language" in system:  # an item variant
                items.add(system["codename"])
                languages.add(system["language"])
            for language in value.get("languages") or []:  # a /languages listing
                if isinstance(language, dict) and "system" in language:
                    languages.add(language["system"]["codename"])
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    for path in real_fixtures.rglob("*.json"):
        walk(json.loads(path.read_text(encoding="utf-8-sig")))
    assert len(items) > 100 and {"en-US", "default", "de-DE---11"} <= languages
    assert {c for c in items if not is_codename(c)} == {"Brewing"}
    assert all(is_language_codename(language) for language in languages)


@pytest.mark.parametrize(
    "codename",
    ["a", "_", "_private", "this_changes_everything_", "n2019_report", "x" * 60],
)
def test_valid_codenames(codename):
    assert is_codename(codename)


@pytest.mark.parametrize(
    "codename",
    [
        "",
        "a?b",
        "a#b",
        "../x",
        "a/b",
        "..",
        "a.b",
        "a-b",
        "a b",
        "Gamma",
        "1abc",
        "x" * 61,
        "a\x1b[31m",
        "caf\u00e9",
        "a%2Fb",
        None,
        5,
    ],
)
def test_invalid_codenames(codename):
    assert not is_codename(codename)


@pytest.mark.parametrize(
    ("language", "valid"),
    [
        ("en-US", True),
        ("default", True),
        ("de-DE---11", True),
        ("Another_language", True),
        ("French_\u2013_Switzerland", True),  # generated from the name "French \u2013 Switzerland"
        ("x" * 25, True),
        ("x" * 26, False),
        ("", False),
        ("en US", False),
        ("en\x1b[2J", False),
        ("en\u202e", False),
        ("en\n", False),
    ],
)
def test_language_codenames(language, valid):
    assert is_language_codename(language) is valid


def _v2(codename: str, language: str = "en-US", object_type: str = "content_item") -> dict:
    return {
        "data": {"system": {"id": "x", "codename": codename, "language": language}},
        "message": {"object_type": object_type, "action": "published"},
    }


@pytest.mark.parametrize(
    "notification",
    [
        _v2("a?b"),
        _v2("a#b"),
        _v2("../../types"),
        _v2("ok", language="en-US\r\nX-Injected: 1"),
        _v2("bad/group", object_type="taxonomy"),
        _v2("Bad_Type", object_type="content_type"),
        {
            "data": {"system": {"codename": "fr CH"}},
            "message": {"object_type": "language", "action": "changed"},
        },
    ],
)
def test_a_body_whose_every_notification_is_invalid_is_refused(notification):
    body = json.dumps({"notifications": [notification, notification]}).encode()
    with pytest.raises(WebhookError, match="no valid codename") as caught:
        parse_webhook(body)
    assert "(and 1 more)" in caught.value.message


def test_a_mixed_body_keeps_the_valid_notifications_and_reports_the_others():
    body = json.dumps({"notifications": [_v2("good"), _v2("a?b"), _v2("also_good")]}).encode()
    dropped: list[str] = []
    changes = parse_webhook(body, on_invalid=dropped.append)
    assert [c.codename for c in changes] == ["good", "also_good"]
    assert len(dropped) == 1
    assert (
        "notifications[1].data.system codename 'a?b' is not a Kontent.ai codename" in (dropped[0])
    )


def test_legacy_hostile_codenames_are_dropped_or_refused():
    def legacy(items: list, taxonomies: list) -> bytes:
        return json.dumps(
            {
                "message": {"type": "content_item_variant", "operation": "publish"},
                "data": {"items": items, "taxonomies": taxonomies},
            }
        ).encode()

    with pytest.raises(WebhookError, match="no valid codename"):
        parse_webhook(legacy([{"codename": "../x"}], [{"codename": "a#b"}]))
    dropped: list[str] = []
    body = legacy([{"codename": "fine", "language": "en"}], [{"codename": "a#b"}])
    assert [c.codename for c in parse_webhook(body, on_invalid=dropped.append)] == ["fine"]
    assert "taxonomies[0]" in dropped[0]


def test_deep_nesting_is_refused_without_recursion():
    for body in (
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * 100_000,  # never closed
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    ):
        with pytest.raises(WebhookError, match="nested"):
            parse_webhook(body)
    assert json_depth_exceeds(b"[" * 33 + b"]" * 33)
    assert not json_depth_exceeds(b"[" * 32 + b"]" * 32)
    # Brackets inside strings are text, not nesting.
    assert not json_depth_exceeds(json.dumps({"s": "[" * 1000, "t": '\\"[[[' * 100}).encode())
    assert not json_depth_exceeds(json.dumps([[n] for n in range(10_000)]).encode())
