"""The fleet's decision upload (docs/production.md): idempotent, validated, whole or nothing."""

import base64
import io
import json
import threading

import pytest
from django.db import connection
from PIL import Image

from moderation.models import DecisionBatch, DecisionCount, DecisionRecord, ReviewItem
from moderation.services.decision_batch import MAX_BODY_BYTES, MAX_RECORDS
from policy_admin.fleet.services import fleet_token_create
from tests.policy_admin.factories import PolicyFactory

pytestmark = pytest.mark.django_db

# Spelled out, not reversed: this path is the contract agents are built against.
URL = "/api/v1/fleet/policies/default/decisions"


@pytest.fixture
def secret(tenant, admin):
    return fleet_token_create(tenant=tenant, actor=admin, name="fleet-eu")[1]


def jpeg() -> str:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


def record(v1, **overrides) -> dict:
    data = {
        "request_id": "req-1",
        "decided_at": "2026-12-03T16:41:07Z",
        "channel": "production",
        "version": v1.number,
        "bundle_sha256": v1.sha256,
        "action": "review",
        "reasons": ["review"],
        "inclusion_probability": None,
        "rules": [
            {
                "rule_id": "keywords:gore",
                "kind": "keywords",
                "action": "review",
                "score": 1.0,
                "threshold": 1.0,
                "fired": True,
            }
        ],
        "scores": {"violence": 0.62},
        "prompt": "a gore scene",
        "thumbnail_base64": jpeg(),
        "image_sha256": "ab" * 32,
    }
    data.update(overrides)
    return data


def batch(v1, records=None, counts=None, batch_id="b-1", **extra) -> dict:
    return {
        "batch_id": batch_id,
        "instance_id": "gpu-eu-1",
        "dropped": 0,
        "records": [record(v1)] if records is None else records,
        "counts": counts if counts is not None else [count(v1)],
        **extra,
    }


def count(v1, **overrides) -> dict:
    data = {
        "minute": "2026-12-03T16:41:00Z",
        "channel": "production",
        "version": v1.number,
        "action": "review",
        "rule_id": "",
        "count": 40,
    }
    data.update(overrides)
    return data


def post(client, body, secret, **headers):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        URL, raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}", **headers
    )


def test_a_batch_is_stored_with_its_counts_and_review_items(client, v1, secret):
    response = post(client, batch(v1), secret)
    assert response.status_code == 201, response.content
    assert response.json() == {"batch_id": "b-1", "stored": 1, "duplicate": False}
    stored = DecisionRecord.objects.get()
    assert (stored.version_id, stored.action, stored.channel) == (v1.pk, "review", "production")
    assert stored.rules[0]["rule_id"] == "keywords:gore"
    assert bytes(stored.thumbnail).startswith(b"\xff\xd8")
    assert stored.audited is False
    assert DecisionCount.objects.get().count == 40
    assert ReviewItem.objects.get().record == stored
    assert DecisionBatch.objects.get().instance_id == "gpu-eu-1"


def test_audit_records_are_marked_with_their_probability(client, v1, secret):
    audit = record(v1, action="allow", reasons=["audit"], inclusion_probability=0.01)
    assert post(client, batch(v1, records=[audit]), secret).status_code == 201
    stored = DecisionRecord.objects.get()
    assert stored.audited
    assert stored.inclusion_probability == 0.01


def test_a_retried_batch_is_stored_once(client, v1, secret):
    assert post(client, batch(v1), secret).status_code == 201
    again = post(client, batch(v1), secret)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert DecisionRecord.objects.count() == 1
    assert DecisionCount.objects.get().count == 40  # the counts were not added twice


def test_counts_of_later_batches_add_up_in_the_same_minute(client, v1, secret):
    post(client, batch(v1, counts=[count(v1, count=3), count(v1, count=4)]), secret)
    post(client, batch(v1, batch_id="b-2", records=[], counts=[count(v1, count=5)]), secret)
    assert DecisionCount.objects.get().count == 12


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"action": "maybe"}, "records[1].action"),
        ({"decided_at": "yesterday"}, "records[1].decided_at"),
        ({"decided_at": "2026-12-03T16:41:07"}, "records[1].decided_at"),
        ({"reasons": []}, "records[1].reasons"),
        ({"reasons": ["audit"], "inclusion_probability": None}, "records[1].inclusion_probability"),
        ({"inclusion_probability": 1.5}, "records[1].inclusion_probability"),
        ({"thumbnail_base64": "not base64!"}, "records[1].thumbnail_base64"),
        ({"thumbnail_base64": base64.b64encode(b"GIF89a").decode()}, "records[1].thumbnail_base64"),
        ({"scores": {"sexual": "high"}}, "records[1].scores.sexual"),
        ({"version": 9}, "records[1].version"),
        ({"bundle_sha256": "0" * 64}, "records[1].bundle_sha256"),
        ({"colour": "red"}, "records[1].colour"),
    ],
)
def test_a_bad_record_is_a_400_naming_the_field_and_nothing_is_stored(
    client, v1, secret, change, field
):
    body = batch(v1, records=[record(v1), record(v1, request_id="req-2", **change)])
    response = post(client, body, secret)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert field in response.json()["message"]
    assert not DecisionRecord.objects.exists()
    assert not DecisionBatch.objects.exists()
    assert not DecisionCount.objects.exists()


def test_a_rule_result_field_is_named(client, v1, secret):
    bad = record(v1, rules=[{"rule_id": "x", "kind": "k", "action": "block", "fired": "yes"}])
    response = post(client, batch(v1, records=[bad]), secret)
    assert response.json()["field"] == "records[0].rules[0].fired"


def test_not_json_and_too_many_records_are_400(client, v1, secret):
    assert post(client, b"{not json", secret).status_code == 400
    many = batch(v1, records=[record(v1, request_id=f"r{i}") for i in range(MAX_RECORDS + 1)])
    response = post(client, many, secret)
    assert response.status_code == 400
    assert response.json()["field"] == "records"


def test_an_oversized_body_is_a_413_before_it_is_parsed(client, v1, secret):
    response = post(client, b" " * (MAX_BODY_BYTES + 1), secret)
    assert response.status_code == 413
    assert "MiB" in response.json()["message"]


def test_a_version_of_another_policy_is_refused(client, v1, secret, tenant, editor):
    from policy_admin.services.publishing import policy_publish
    from tests.policy_admin.factories import KeywordRuleSetFactory

    other = PolicyFactory(tenant=tenant, name="Other", slug="other")
    KeywordRuleSetFactory(policy=other, name="Spam", terms="spam", term_count=1)
    theirs = policy_publish(policy=other, actor=editor, revision=other.revision)
    body = batch(v1, records=[record(v1, bundle_sha256=theirs.sha256)])
    response = post(client, body, secret)
    assert response.status_code == 400
    assert response.json()["field"] == "records[0].bundle_sha256"


def test_another_tenants_token_gets_a_404_for_the_policy(client, v1, other_tenant, outsider):
    theirs = fleet_token_create(tenant=other_tenant, actor=outsider, name="globex")[1]
    assert post(client, batch(v1), theirs).status_code == 404
    assert not DecisionRecord.objects.exists()


def test_a_token_without_the_report_scope_is_a_403(client, v1, tenant, admin):
    fetch_only = fleet_token_create(tenant=tenant, actor=admin, name="ro", scopes=["fetch"])[1]
    response = post(client, batch(v1), fetch_only)
    assert response.status_code == 403
    assert "report" in response.json()["message"]


def test_a_report_only_token_cannot_fetch_bundles(client, v1, tenant, admin):
    report_only = fleet_token_create(tenant=tenant, actor=admin, name="up", scopes=["report"])[1]
    assert post(client, batch(v1), report_only).status_code == 201
    fetched = client.get(
        "/api/v1/fleet/policies/default/channels/production/bundle",
        HTTP_AUTHORIZATION=f"Bearer {report_only}",
    )
    assert fetched.status_code == 403


def test_a_token_scoped_to_other_channels_is_a_403(client, v1, tenant, admin):
    staging = fleet_token_create(tenant=tenant, actor=admin, name="stg", channels=["staging"])[1]
    assert post(client, batch(v1), staging).status_code == 403


def test_no_token_is_a_401(client, v1):
    assert client.post(URL, b"{}", content_type="application/json").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_at_once_is_stored_once(live_server, tenant, admin, editor):
    import httpx

    from tests.policy_admin.factories import KeywordRuleSetFactory

    policy = PolicyFactory(tenant=tenant, name="Default", slug="default")
    KeywordRuleSetFactory(policy=policy, name="Gore", terms="gore", term_count=1)
    from policy_admin.services.publishing import policy_publish

    v1 = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    token = fleet_token_create(tenant=tenant, actor=admin, name="fleet")[1]
    body = json.dumps(batch(v1)).encode()
    answers = []

    def send():
        answers.append(
            httpx.post(
                live_server.url + URL,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=30,
            ).status_code
        )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connection.close()
    assert sorted(answers) == [200, 201]
    assert DecisionRecord.objects.count() == 1


def shadow_count(v1, **overrides) -> dict:
    data = {
        "minute": "2026-12-03T16:41:00Z",
        "channel": "production",
        "version": v1.number,
        "shadow_version": v1.number,
        "enforced_action": "allow",
        "shadow_action": "block",
        "rule_id": "",
        "count": 7,
    }
    data.update(overrides)
    return data


def test_shadow_flips_and_counts_are_stored(client, v1, secret):
    from moderation.models import ShadowCount

    flip = record(
        v1,
        action="allow",
        reasons=["shadow_flip"],
        shadow={"version": v1.number, "bundle_sha256": v1.sha256, "action": "block", "rules": []},
    )
    body = batch(
        v1,
        records=[flip],
        shadow_counts=[shadow_count(v1), shadow_count(v1, count=3), shadow_count(v1, rule_id="x")],
    )
    assert post(client, body, secret).status_code == 201
    stored = DecisionRecord.objects.get()
    assert (stored.shadow_version_id, stored.shadow_action) == (v1.pk, "block")
    counts = dict(ShadowCount.objects.values_list("rule_id", "count"))
    assert counts == {"": 10, "x": 7}


def test_a_shadow_flip_without_the_shadow_decision_is_refused(client, v1, secret):
    flip = record(v1, reasons=["shadow_flip"])
    response = post(client, batch(v1, records=[flip]), secret)
    assert response.json()["field"] == "records[0].shadow"


def test_a_shadow_count_of_an_unknown_shadow_version_is_refused(client, v1, secret):
    body = batch(v1, shadow_counts=[shadow_count(v1, shadow_version=4)])
    response = post(client, body, secret)
    assert response.status_code == 400
    assert response.json()["field"] == "shadow_counts[0].shadow_version"
