"""In Chromium: a channel's shadow page shows the counters and flips that a real agent
judged and uploaded through the decision ingest, and opens a flip side by side."""

import random

import pytest
from django.urls import reverse

from moderation.fleet.client import FleetClient
from moderation.fleet.decision_log import DecisionLog
from moderation.fleet.shadow import ShadowEvaluator
from policy_admin.bundles.stored import version_bundle
from policy_admin.fleet.services import fleet_token_create
from policy_admin.services.publishing import policy_publish
from policy_admin.services.shadow import shadow_set
from tests.browser.conftest import log_in
from tests.moderation.fleet.test_agent_e2e import (
    add_keywords,
    make_agent,
    pinned_keys,
    publish_to_production,
)
from tests.tenants.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fleet_isolated"),
]

# What callers send, and what v1 (Gore blocks) and its shadow v2 (Cats block too) decide.
TRAFFIC = [
    ("a cat on a sofa", "allow", "block"),
    ("a cat in the rain", "allow", "block"),
    ("two cats asleep", "allow", "allow"),  # whole words: "cats" is not "cat"
    ("a dog on a beach", "allow", "allow"),
    ("a cat and some gore", "block", "block"),
    ("gore", "block", "block"),
]


@pytest.fixture
def uploaded(live_server, tenant, policy, keyword_set, editor, admin, tmp_path):
    """v1 enforced, v2 shadowed on every request; TRAFFIC judged by the real agent and its
    counts and flips uploaded to the live server's decision ingest."""
    v1 = publish_to_production(policy, editor)
    add_keywords(policy, editor, "Cats", "cat")
    v2 = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    shadow_set(policy=policy, actor=editor, channel="production", number=v2.number, rate=1.0)
    _, secret = fleet_token_create(
        tenant=tenant, actor=admin, name="browser", policies=[policy], channels=["production"]
    )
    state = tmp_path / "state"
    agent = make_agent(live_server.url, secret, pinned_keys(live_server.url), state)
    agent.poll_once()
    # The real clock: the page counts what was shadowed since the shadow started.
    log = DecisionLog(
        client=FleetClient(live_server.url, secret, timeout=5.0),
        policy="default", channel="production", instance_id="gpu-browser-1",
        spool_dir=state / "decisions", rng=random.Random(1),
    ).attach(agent)  # fmt: skip
    shadow_eval = ShadowEvaluator(agent, log).attach()
    for i, (prompt, enforced, _) in enumerate(TRAFFIC):
        assert agent.check(prompt=prompt, request_id=f"req-{i}").action.value == enforced
    shadow_eval.drain()
    log.flush(final=True)
    assert log.last_error is None
    return v1, v2


def test_the_shadow_page_shows_uploaded_counts_flips_and_a_flip_side_by_side(
    page, live_server, viewer, uploaded
):
    v1, v2 = uploaded
    flips = [(p, e, s) for p, e, s in TRAFFIC if e != s]
    log_in(page, live_server, "acme-viewer", PASSWORD)
    url = reverse(
        "channel-shadow", kwargs={"tenant": "acme", "slug": "default", "channel": "production"}
    )
    page.goto(f"{live_server.url}{url}")

    assert page.get_by_test_id("shadowed").inner_text() == str(len(TRAFFIC))
    assert page.get_by_test_id("flips").inner_text() == str(len(flips))
    summary = page.get_by_test_id("shadow-summary").inner_text()
    assert f"v{v2.number} beside the enforced v{v1.number}" in summary
    # Cells: enforced row x shadow column (allow, flag, review, block = 0..3).
    cells = {
        "cell-allow-0": 2,  # the dog, the cats
        "cell-allow-3": 2,  # the two flips
        "cell-block-3": 2,
    }
    for testid, count in cells.items():
        cell = page.get_by_test_id(testid).inner_text()
        assert cell.split()[0] == str(count), (testid, cell)
    assert "33.33%" in page.get_by_test_id("cell-allow-3").inner_text()  # 2 of 6
    assert page.get_by_test_id("flip-matrix").locator("strong").count() == len(cells)
    [cats] = [ks.id for ks in version_bundle(v2).keyword_sets if ks.name == "Cats"]
    rules = page.get_by_test_id("flip-rules").locator("tbody tr").all_inner_texts()
    assert [r.split() for r in rules] == [[cats, "2", "100%"]]  # it alone flipped them
    assert page.get_by_test_id("flips-chart").count() == 1
    rows = page.get_by_test_id("flipped").locator("tbody tr")
    assert rows.count() == len(flips)
    assert {r.split("\t")[-1] for r in rows.all_inner_texts()} == {p for p, _, _ in flips}

    rows.filter(has_text="a cat in the rain").get_by_role("link").click()
    page.get_by_test_id("side-by-side").wait_for()
    assert page.get_by_role("heading", name="Request req-1").is_visible()
    enforced = page.get_by_test_id("enforced").inner_text()
    shadow = page.get_by_test_id("shadow").inner_text()
    assert f"Enforced v{v1.number}: allow" in enforced
    assert f"Shadow v{v2.number}: block" in shadow
    # The rule that flipped it fired in the shadow only.
    assert page.get_by_test_id("shadow").locator("tr.fired").count() == 1
    assert page.get_by_test_id("enforced").locator("tr.fired").count() == 0
