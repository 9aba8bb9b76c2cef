"""Saving and deleting category thresholds, keyword sets and embedding sets of a draft."""

import dataclasses
import unicodedata

from django.db import transaction

from kernel.errors import ApplicationError
from moderation.engine.match_options import OPTION_NAMES
from policy_admin.models import CategoryThreshold, EmbeddingRuleSet, KeywordRuleSet, Policy
from policy_admin.selectors import catalogue
from policy_admin.services.floors import Threshold, floor_check
from policy_admin.services.policies import rule_delete, rule_save
from policy_admin.services.terms import TermsReport, terms_clean

THRESHOLD_FIELDS = ("category", "applies_to", "review_at", "block_at", "enabled")
KEYWORD_FIELDS = ("name", "action", *OPTION_NAMES, "allow_list", "languages", "notes", "term_count")
# A tenant's sets also say which text they read (the floor's read prompts).
TENANT_KEYWORD_FIELDS = (*KEYWORD_FIELDS, "applies_to")
EMBEDDING_FIELDS = ("name", "action", "threshold", "applies_to", "examples", "counter_examples")
MAX_PHRASES = 2_000
MAX_PHRASE_LENGTH = 500


@transaction.atomic
def threshold_save(
    *,
    policy: Policy,
    actor,
    revision: int | None,
    threshold: CategoryThreshold | None = None,
    **fields,
) -> CategoryThreshold:
    """Create or change a category threshold; refused when it would loosen the platform floor."""
    threshold = threshold or CategoryThreshold(tenant=policy.tenant, policy=policy)
    merged = {name: fields.get(name, getattr(threshold, name)) for name in THRESHOLD_FIELDS}
    _check_category(merged["category"], merged["applies_to"])
    floor_check([Threshold(**merged)])
    return rule_save(
        policy=policy,
        rule=threshold,
        actor=actor,
        revision=revision,
        fields=fields,
        audit_fields=THRESHOLD_FIELDS,
    )


def _check_category(category_id: str, applies_to: str) -> None:
    entry = catalogue.category(category_id)
    if entry is None:
        known = ", ".join(c.id for c in catalogue.categories())
        raise ApplicationError(f"Unknown category “{category_id}”. Known categories: {known}.")
    if applies_to != "both" and entry.applies_to not in ("both", applies_to):
        raise ApplicationError(
            f"{entry.name} is scored on {entry.applies_to}s only; it cannot apply to {applies_to}s."
        )


@transaction.atomic
def threshold_delete(*, threshold: CategoryThreshold, actor, revision: int | None) -> None:
    """Delete a threshold (a floored category keeps the floor's setting)."""
    rule_delete(
        policy=threshold.policy,
        rule=threshold,
        actor=actor,
        revision=revision,
        fields=THRESHOLD_FIELDS,
    )


@transaction.atomic
def keyword_set_save(
    *,
    policy: Policy,
    actor,
    revision: int | None,
    keyword_set: KeywordRuleSet | None = None,
    terms: list[tuple[int, str]] | None = None,
    allow_list: list[str] | None = None,
    **fields,
) -> tuple[KeywordRuleSet, TermsReport | None]:
    """Create or change a keyword set; `terms`, when given, replace the set's terms.

    Returns the set and the report of the terms (kept, duplicates, refused lines).
    """
    keyword_set = keyword_set or KeywordRuleSet(tenant=policy.tenant, policy=policy)
    casefold = fields.get("casefold", keyword_set.casefold)
    report = None
    if terms is not None:
        options = dataclasses.replace(
            keyword_set.match_options(), **{k: v for k, v in fields.items() if k in OPTION_NAMES}
        )
        report = terms_clean(terms, casefold=casefold, options=options)
        fields.update(terms="\n".join(report.terms), term_count=len(report.terms))
    if allow_list is not None:
        fields["allow_list"] = "\n".join(_clean_phrases(allow_list, "allow-list entry"))
    saved = rule_save(
        policy=policy,
        rule=keyword_set,
        actor=actor,
        revision=revision,
        fields=fields,
        audit_fields=TENANT_KEYWORD_FIELDS,
    )
    return saved, report


@transaction.atomic
def keyword_terms_import(
    *,
    keyword_set: KeywordRuleSet,
    actor,
    revision: int | None,
    lines: list[tuple[int, str]],
    replace: bool = False,
    source: str = "pasted text",
) -> TermsReport:
    """Add terms to a set (or replace them), deduplicated; one audit entry for the import."""
    existing = () if replace else keyword_set.term_list()
    report = terms_clean(
        lines,
        existing=existing,
        casefold=keyword_set.casefold,
        options=keyword_set.match_options(),
    )
    added = len(report.terms) - len(existing)
    verb = "replaced terms of" if replace else "imported"
    rule_save(
        policy=keyword_set.policy,
        rule=keyword_set,
        actor=actor,
        revision=revision,
        fields={"terms": "\n".join(report.terms), "term_count": len(report.terms)},
        audit_fields=("term_count",),
        verb="import",
        summary=f"{verb} {added:,} terms into {keyword_set.name} from {source} "
        f"({report.duplicates:,} duplicates removed, {report.problem_count:,} lines refused)",
    )
    return report


@transaction.atomic
def keyword_set_delete(*, keyword_set: KeywordRuleSet, actor, revision: int | None) -> None:
    """Delete a keyword set with all its terms."""
    rule_delete(
        policy=keyword_set.policy,
        rule=keyword_set,
        actor=actor,
        revision=revision,
        fields=TENANT_KEYWORD_FIELDS,
    )


@transaction.atomic
def embedding_set_save(
    *,
    policy: Policy,
    actor,
    revision: int | None,
    embedding_set: EmbeddingRuleSet | None = None,
    **fields,
) -> EmbeddingRuleSet:
    """Create or change an embedding set; phrases are cleaned and at least one example kept."""
    embedding_set = embedding_set or EmbeddingRuleSet(tenant=policy.tenant, policy=policy)
    for key, label in (("examples", "example"), ("counter_examples", "counter-example")):
        if key in fields:
            fields[key] = _clean_phrases(fields[key], label)
    if not fields.get("examples", embedding_set.examples):
        raise ApplicationError("An embedding set needs at least one example phrase.")
    return rule_save(
        policy=policy,
        rule=embedding_set,
        actor=actor,
        revision=revision,
        fields=fields,
        audit_fields=EMBEDDING_FIELDS,
    )


@transaction.atomic
def embedding_set_delete(*, embedding_set: EmbeddingRuleSet, actor, revision: int | None) -> None:
    """Delete an embedding set."""
    rule_delete(
        policy=embedding_set.policy,
        rule=embedding_set,
        actor=actor,
        revision=revision,
        fields=EMBEDDING_FIELDS,
    )


def _clean_phrases(phrases: list[str], label: str) -> list[str]:
    """Phrases stripped and deduplicated; a control character or an over-long one is refused."""
    cleaned, seen, problems = [], set(), []
    for number, raw in enumerate(phrases, start=1):
        phrase = " ".join(str(raw).split())
        if not phrase:
            continue
        if any(unicodedata.category(c) in ("Cc", "Cf") for c in phrase):
            problems.append(f"{label} {number} contains a control or invisible character")
        elif len(phrase) > MAX_PHRASE_LENGTH:
            problems.append(f"{label} {number} is longer than {MAX_PHRASE_LENGTH} characters")
        elif phrase.casefold() not in seen:
            seen.add(phrase.casefold())
            cleaned.append(phrase)
    if len(cleaned) > MAX_PHRASES:
        problems.append(f"at most {MAX_PHRASES:,} {label}s; there are {len(cleaned):,}")
    if problems:
        raise ApplicationError("; ".join(problems).capitalize() + ".", extra={"problems": problems})
    return cleaned
