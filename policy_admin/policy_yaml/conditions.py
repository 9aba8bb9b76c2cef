"""The `rules.conditions` section of a policy YAML: export, checks and import.

A condition names the keyword or embedding set it reads by its name in the same
file, so a document stays meaningful without database ids.
"""

from kernel.errors import ApplicationError
from policy_admin.models import ConditionalRule, EmbeddingRuleSet, KeywordRuleSet
from policy_admin.policy_yaml.fields import Field, check_mapping, choice, mappings, score, text
from policy_admin.policy_yaml.problems import Problem, join
from policy_admin.selectors import catalogue
from policy_admin.services.conditions import MAX_IMAGE_THRESHOLDS, image_thresholds_clean
from tenants.scoping import scoped

MAX_CONDITIONS = 100
IMAGE_THRESHOLD = {
    "category": Field("string", required=True),
    "review_at": score(),
    "block_at": score(),
}
CONDITION = {
    "name": text(120, required=True),
    "when": choice(ConditionalRule.When.values, None),
    "keyword_set": text(120),
    "embedding_set": text(120),
    "category": text(60),
    "at_least": Field("number", minimum=0.0, maximum=1.0),
    "image_thresholds": mappings(MAX_IMAGE_THRESHOLDS),
    "enabled": Field("boolean", default=True),
}
_SIGNAL = {"keyword_set": "keywords", "embedding_set": "embeddings"}


def condition_document(c: ConditionalRule) -> dict:
    """One conditional rule as its YAML mapping (only the fields of its kind of signal)."""
    out = {"name": c.name, "when": c.when}
    if c.when == ConditionalRule.When.CATEGORY:
        out.update(category=c.category, at_least=float(c.at_least))
    else:
        out[c.when] = str(getattr(c, c.when).name)
    out["image_thresholds"] = [
        {"category": t["category"], "review_at": t["review_at"], "block_at": t["block_at"]}
        for t in c.image_thresholds
    ]
    out["enabled"] = c.enabled
    return out


def check_conditions(items, rules: dict, path: str, problems: list[Problem], floors) -> list[dict]:
    """The document's conditions, each checked against the sets of the same file and the floor."""
    result, seen = [], {}
    for index, item in enumerate(items):
        if item is None:
            continue
        where = join(path, index)
        c = check_mapping(item, CONDITION, where, problems)
        if c is None or "name" not in c:
            continue
        if c["name"].casefold() in seen:
            first = join(path, seen[c["name"].casefold()])
            problems.append(
                Problem(join(where, "name"), f"“{c['name']}” is also the name of {first}")
            )
        seen.setdefault(c["name"].casefold(), index)
        if _signal_ok(c, rules, where, problems) & _thresholds_ok(c, where, problems, floors):
            result.append(c)
    return result


def _signal_ok(c: dict, rules: dict, where: str, problems: list[Problem]) -> bool:
    when = c.get("when")
    if when is None:
        known = ", ".join(ConditionalRule.When.values)
        problems.append(Problem(join(where, "when"), f"missing; say which signal: {known}"))
        return False
    if when == ConditionalRule.When.CATEGORY:
        entry = catalogue.category(c.get("category") or "")
        if entry is None or entry.applies_to == "image":
            problems.append(Problem(join(where, "category"), "name a category scored on prompts"))
            return False
        if c.get("at_least") is None:
            problems.append(Problem(join(where, "at_least"), "missing; the score to reach, 0 to 1"))
            return False
        return True
    name = c.get(when) or ""
    section = _SIGNAL[when]
    names = {r.get("name") for r in rules.get(section) or []}
    if name not in names:
        problems.append(
            Problem(
                join(where, when),
                f"“{name}” is not the name of an entry of rules.{section} in this file",
            )
        )
        return False
    return True


def _thresholds_ok(c: dict, where: str, problems: list[Problem], floors) -> bool:
    path = join(where, "image_thresholds")
    rows = []
    for index, item in enumerate(c.get("image_thresholds") or []):
        row = check_mapping(item, IMAGE_THRESHOLD, join(path, index), problems)
        if row is None or len(row) < len(IMAGE_THRESHOLD):
            return False
        rows.append(row)
    try:
        c["image_thresholds"] = image_thresholds_clean(rows, floors)
    except ApplicationError as error:
        problems.extend(Problem(path, p) for p in error.extra.get("problems", [error.message]))
        return False
    return True


def create_conditions(owned: dict, conditions: list[dict], saved) -> None:
    """Create the document's conditions, resolving set names to the rows just imported."""
    policy = owned["policy"]
    sets = {
        when: {r.name: r for r in scoped(model, policy.tenant).filter(policy=policy)}
        for when, model in (("keyword_set", KeywordRuleSet), ("embedding_set", EmbeddingRuleSet))
    }
    for c in conditions:
        fields = {k: v for k, v in c.items() if k not in ("keyword_set", "embedding_set")}
        fields["category"] = fields.get("category") or ""
        if c["when"] in sets:
            fields[c["when"]] = sets[c["when"]][c[c["when"]]]
            fields["category"], fields["at_least"] = "", None
        saved(ConditionalRule(**owned, **fields))
