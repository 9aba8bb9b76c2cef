"""applies_to on keyword and embedding sets: API field, YAML round trip, builder and OCR pin."""

import pytest
import yaml
from django.urls import reverse

from kernel.errors import ApplicationError
from moderation.engine.models.base import ModelPin
from policy_admin.bundles.builder import bundle_build
from policy_admin.bundles.diff import bundle_diff
from policy_admin.models import EmbeddingRuleSet, KeywordRuleSet
from policy_admin.services import policy_yaml, rules
from tests.policy_admin.factories import (
    ConditionalRuleFactory,
    EmbeddingRuleSetFactory,
    KeywordRuleSetFactory,
    PolicyFactory,
)

pytestmark = pytest.mark.django_db

OCR = ModelPin("ocr", "PP-OCRv4 (test)", "a" * 64)


class PinsOnly:
    """A model provider for keyword-only builds: pins, and no model is ever loaded."""

    def __init__(self, pins):
        self._pins = pins

    def pins(self):
        return dict(self._pins)


def url(kind, pk=None, tenant="acme"):
    kwargs = {"tenant": tenant, "policy": "default"}
    if pk is None:
        return reverse(f"policy-{kind}-list", kwargs=kwargs)
    return reverse(f"policy-{kind}-detail", kwargs={**kwargs, "pk": pk})


def test_api_creates_reads_and_keeps_applies_to(api_client, policy, editor):
    api_client.force_authenticate(editor)
    body = {"name": "Gambling", "terms": ["casino"], "applies_to": "image_text", "revision": 1}
    created = api_client.post(url("keyword-set"), body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["applies_to"] == "image_text"
    detail = url("keyword-set", created.json()["id"])
    # An update that leaves the field out keeps it.
    api_client.patch(detail, {"action": "review"}, format="json", HTTP_IF_MATCH='"2"')
    assert api_client.get(detail).json()["applies_to"] == "image_text"


def test_api_refuses_an_unknown_target_naming_the_field(api_client, policy, editor):
    api_client.force_authenticate(editor)
    body = {"name": "Pills", "examples": ["buy pills"], "applies_to": "image", "revision": 1}
    response = api_client.post(url("embedding-set"), body, format="json")
    assert response.status_code == 400
    assert "applies_to" in str(response.json())
    assert not EmbeddingRuleSet.objects.exists()


def test_embedding_set_of_another_tenant_is_404(api_client, policy, editor, other_tenant):
    theirs = EmbeddingRuleSetFactory(
        policy=PolicyFactory(tenant=other_tenant, slug="default"), applies_to="both"
    )
    api_client.force_authenticate(editor)
    assert api_client.get(url("embedding-set", theirs.pk)).status_code == 404


def test_yaml_round_trip_keeps_applies_to_and_omits_the_default(tenant, policy, editor):
    save = {"policy": policy, "actor": editor}
    rules.keyword_set_save(**save, revision=1, name="Gambling", applies_to="both",
                           terms=[(1, "casino")])  # fmt: skip
    rules.keyword_set_save(**save, revision=2, name="Plain", terms=[(1, "plain")])
    rules.embedding_set_save(**save, revision=3, name="Pills", applies_to="image_text",
                             examples=["buy cheap pills"])  # fmt: skip
    text = policy_yaml.policy_export(policy)
    parsed = yaml.safe_load(text)["rules"]
    assert [k.get("applies_to") for k in parsed["keywords"]] == ["both", None]
    assert parsed["embeddings"][0]["applies_to"] == "image_text"
    copy = PolicyFactory(tenant=tenant, slug="copy", created_by=editor)
    policy_yaml.policy_import(policy=copy, actor=editor, revision=1, text=text)
    assert policy_yaml.policy_export(copy) == text
    assert KeywordRuleSet.objects.get(policy=copy, name="Gambling").applies_to == "both"


def test_builder_pins_ocr_for_image_text_sets(policy):
    KeywordRuleSetFactory(policy=policy, name="Gambling", terms="casino", term_count=1,
                          applies_to="image_text")  # fmt: skip
    bundle = bundle_build(policy=policy, models=PinsOnly({"ocr": OCR})).bundle
    assert bundle.pins["ocr"] == OCR
    assert bundle.keyword_sets[0].applies_to == "image_text"


def test_prompt_only_policy_keeps_its_digest_and_pins_no_ocr(policy):
    KeywordRuleSetFactory(policy=policy, name="Plain", terms="plain", term_count=1)
    bundle = bundle_build(policy=policy, models=PinsOnly({"ocr": OCR})).bundle
    assert "ocr" not in bundle.pins
    assert b"applies_to" not in bundle.to_bytes()


def test_without_ocr_a_draft_test_warns_and_publishing_refuses(policy):
    KeywordRuleSetFactory(policy=policy, name="Gambling", terms="casino", term_count=1,
                          applies_to="both")  # fmt: skip
    KeywordRuleSetFactory(policy=policy, name="Signs", terms="exit", term_count=1,
                          applies_to="image_text")  # fmt: skip
    result = bundle_build(policy=policy, models=PinsOnly({}))
    assert [(k.name, k.applies_to) for k in result.bundle.keyword_sets] == [("Gambling", "prompt")]
    assert "no OCR model (pin 'ocr')" in result.warnings[0]
    with pytest.raises(ApplicationError, match="“Gambling”, “Signs” read text in images"):
        bundle_build(policy=policy, models=PinsOnly({}), strict=True)


def test_editor_form_saves_applies_to(client, policy, editor):
    EmbeddingRuleSetFactory(policy=policy, name="Pills")
    client.force_login(editor)
    page = reverse("embedding-set-create", kwargs={"tenant": "acme", "slug": "default"})
    body = {"name": "Signs", "action": "flag", "threshold": "0.7", "applies_to": "both",
            "examples": "buy cheap pills", "revision": policy.revision}  # fmt: skip
    response = client.post(page, body)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert EmbeddingRuleSet.objects.get(name="Signs").applies_to == "both"


def test_policy_editor_says_which_sets_read_image_text(client, policy, viewer):
    KeywordRuleSetFactory(policy=policy, name="Signs", applies_to="image_text")
    KeywordRuleSetFactory(policy=policy, name="Plain")
    client.force_login(viewer)
    page = client.get(reverse("policy-editor", kwargs={"tenant": "acme", "slug": "default"}))
    assert page.content.decode().count('data-testid="reads-image-text"') == 1
    assert "Text in images (OCR)" in page.content.decode()


def test_version_diff_names_a_changed_target(policy):
    row = KeywordRuleSetFactory(policy=policy, name="Gambling", terms="casino", term_count=1)
    models = PinsOnly({"ocr": OCR})
    before = bundle_build(policy=policy, models=models).bundle
    row.applies_to = "both"
    row.save()
    after = bundle_build(policy=policy, models=models).bundle
    (change,) = bundle_diff(before, after).changed
    assert change.fields["applies_to"] == ("prompt", "both")


def test_a_condition_on_a_set_that_reads_only_image_text_is_refused(policy):
    casino = KeywordRuleSetFactory(policy=policy, name="Gambling", terms="casino", term_count=1,
                                   applies_to="image_text")  # fmt: skip
    ConditionalRuleFactory(policy=policy, name="Gambling signal", when="keyword_set",
                           keyword_set=casino, category="", at_least=None)  # fmt: skip
    with pytest.raises(ApplicationError, match="judges only text in images; a condition reads"):
        bundle_build(policy=policy, models=PinsOnly({"ocr": OCR}), strict=True)
    draft = bundle_build(policy=policy, models=PinsOnly({"ocr": OCR}))
    assert draft.bundle.conditions == ()
    assert any("Gambling signal" in w for w in draft.warnings)
