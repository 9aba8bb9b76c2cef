"""The production figures API: the quality page's Production section as JSON, params checked."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse_lazy

from tests.moderation.production_data import audited_blocks, counts, labelled
from tests.moderation.production_factories import DecisionRecordFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db

PRODUCTION = reverse_lazy(
    "policy-quality-production", kwargs={"tenant": "acme", "policy": "default"}
)


def test_production_has_the_pages_numbers(api_client, viewer, v1):
    counts(
        v1.policy,
        [(30, "production", 1, "allow", 90), (1, "production", 1, "review", 10)],
    )
    audited_blocks(v1, true_blocks=3, false_blocks=1)
    labelled(v1, "block", ["block"], audited=False)  # review band: not counted
    ReviewItemFactory(record=DecisionRecordFactory(version=v1))
    api_client.force_authenticate(viewer)

    body = api_client.get(PRODUCTION, {"days": 3}).json()

    assert body["bucket"] == "day"
    assert body["total"] == 100
    assert body["review_share"] == pytest.approx(0.1)
    assert sum(b["counts"]["allow"] for b in body["decisions"]) == 90
    assert body["channels"] == [
        {
            "channel": "production",
            "version": 1,
            "total": 100,
            "actions": {"allow": 90, "flag": 0, "review": 10, "block": 0},
            "review_share": pytest.approx(0.1),
        }
    ]
    assert body["backlog"]["open_items"] == 1
    block = body["estimates"]["block"]["precision"]
    assert block["n"] == 4
    assert block["value"] == pytest.approx(0.75)
    assert block["low"] == pytest.approx(0.3006, abs=1e-4)
    assert "not counted" in body["note"]


def test_one_day_is_hourly_and_the_query_count_does_not_grow_with_records(api_client, viewer, v1):
    api_client.force_authenticate(viewer)
    audited_blocks(v1, true_blocks=1, false_blocks=1)
    with CaptureQueriesContext(connection) as few:
        api_client.get(PRODUCTION, {"days": 1})
    audited_blocks(v1, true_blocks=20, false_blocks=5)
    with CaptureQueriesContext(connection) as many:
        body = api_client.get(PRODUCTION, {"days": 1}).json()
    assert body["bucket"] == "hour"
    assert body["estimates"]["block"]["precision"]["n"] == 27
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("params", "field", "said"),
    [
        ({"days": 0}, "days", "1 to 90"),
        ({"days": "x"}, "days", "whole number"),
        ({"bucket": "week"}, "bucket", "bucket=hour or bucket=day"),
    ],
)
def test_a_bad_parameter_is_a_400_that_says_what_to_pass(
    api_client, viewer, policy, params, field, said
):
    api_client.force_authenticate(viewer)
    response = api_client.get(PRODUCTION, params)
    assert response.status_code == 400
    assert said in str(response.json())
    assert field in str(response.json())
