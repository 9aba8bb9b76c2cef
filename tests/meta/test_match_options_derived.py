"""Forms, API serializers, YAML schema, floors and models derive their options from MatchOptions.

Adding an option to the engine's MatchOptions (and its model column) must be
all it takes: these tests fail if any interface keeps a hand-written list.
"""

import dataclasses

import pytest

from moderation.engine.match_options import FOLDINGS, OPTION_NAMES, OPTION_SPECS, MatchOptions
from policy_admin.api.serializers.keywords import (
    KeywordSetInputSerializer,
    KeywordSetSerializer,
    MatchOptionsSerializer,
)
from policy_admin.bundles.builder import _keyword_set
from policy_admin.forms.policies import (
    FloorKeywordSetForm,
    KeywordOptionsForm,
    KeywordSetCreateForm,
    MatchOptionsForm,
)
from policy_admin.models import FloorKeywordSet, KeywordRuleSet
from policy_admin.policy_yaml import document
from policy_admin.policy_yaml.fields import KEYWORD_OPTIONS
from policy_admin.policy_yaml.schema import KEYWORD_SET, validate
from policy_admin.services.rules import KEYWORD_FIELDS
from tests.policy_admin.factories import KeywordRuleSetFactory

SPECS = {spec.name: spec for spec in OPTION_SPECS}
CHANGED = MatchOptions(mode="substring", casefold=False, homoglyphs=False)


def test_the_options_form_and_serializer_hold_exactly_the_engine_options():
    assert tuple(MatchOptionsForm.base_fields) == OPTION_NAMES
    assert tuple(MatchOptionsSerializer().fields) == OPTION_NAMES


@pytest.mark.parametrize(
    "form_class", [KeywordOptionsForm, KeywordSetCreateForm, FloorKeywordSetForm]
)
def test_keyword_forms_show_every_option_with_its_label_and_default(form_class):
    form = form_class()
    assert list(form.fields)[: 2 + len(OPTION_NAMES)] == ["name", "action", *OPTION_NAMES]
    for name, spec in SPECS.items():
        assert (form.fields[name].label, form.fields[name].initial) == (spec.label, spec.default)
    assert form.fields["mode"].choices == list(SPECS["mode"].choices.items())
    assert [f.name for f in form.choice_option_fields()] == ["mode"]
    assert [f.name for f in form.folding_fields()] == list(FOLDINGS)


@pytest.mark.parametrize("form_class", [KeywordOptionsForm, FloorKeywordSetForm])
def test_keyword_forms_hand_every_option_to_their_service(form_class):
    posted = {"name": "Slurs", "action": "flag", "mode": CHANGED.mode, "terms": "x"}
    posted |= {name: "on" for name in FOLDINGS if getattr(CHANGED, name)}
    form = form_class(posted)
    assert form.is_valid(), form.errors
    fields = form.service_fields()
    assert MatchOptions(**{name: fields[name] for name in OPTION_NAMES}) == CHANGED


def test_the_api_defaults_and_describes_every_option_as_the_engine_does():
    fields = KeywordSetInputSerializer().fields
    for name, spec in SPECS.items():
        assert (fields[name].default, fields[name].help_text) == (spec.default, spec.help)
    assert list(fields["mode"].choices) == list(SPECS["mode"].choices)
    assert set(OPTION_NAMES) <= set(KeywordSetSerializer.Meta.fields)
    given = KeywordSetInputSerializer(data={"name": "Slurs"})
    assert given.is_valid(), given.errors
    assert {name: given.validated_data[name] for name in OPTION_NAMES} == dataclasses.asdict(
        MatchOptions()
    )


def test_the_yaml_schema_holds_exactly_the_engine_options():
    assert KEYWORD_SET["options"].fields is KEYWORD_OPTIONS
    assert tuple(KEYWORD_OPTIONS) == OPTION_NAMES
    for name, spec in SPECS.items():
        expected = "string" if spec.choices else "boolean"
        assert (KEYWORD_OPTIONS[name].kind, KEYWORD_OPTIONS[name].default) == (
            expected,
            spec.default,
        )
    assert KEYWORD_OPTIONS["mode"].choices == tuple(SPECS["mode"].choices)


@pytest.mark.django_db
def test_a_yaml_document_without_options_gets_the_engine_defaults():
    data = {"version": 1, "policy": {"name": "P"}, "rules": {"keywords": [{"name": "k"}]}}
    clean, problems = validate(data)
    assert problems == []
    assert clean["rules"]["keywords"][0]["options"] == dataclasses.asdict(MatchOptions())


@pytest.mark.parametrize("model", [KeywordRuleSet, FloorKeywordSet])
def test_every_option_is_a_column_defaulting_as_the_engine_does(model):
    for name, spec in SPECS.items():
        column = model._meta.get_field(name)
        assert column.default == spec.default
        if spec.choices:
            assert column.choices == list(spec.choices.items())
    assert model().match_options() == MatchOptions()


def test_every_option_is_audited():
    assert set(OPTION_NAMES) <= set(KEYWORD_FIELDS)


@pytest.mark.django_db
def test_a_stored_set_reaches_the_yaml_export_and_the_bundle_with_its_options(policy):
    row = KeywordRuleSetFactory(policy=policy, **dataclasses.asdict(CHANGED))
    assert row.match_options() == CHANGED
    (exported,) = document.policy_document(policy)["rules"]["keywords"]
    assert exported["options"] == dataclasses.asdict(CHANGED)
    assert _keyword_set(row, "keywords:1").options == CHANGED
