"""Benchmark: import 200,000 terms into one keyword set through the service.

Run from the repository root (PostgreSQL from DATABASE_URL, else SQLite):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench $(scripts/ensure-venv)/bin/python \
        bench/bench_term_import.py

It creates a throwaway test database (Django's test utilities), times
keyword_terms_import, and prints the ratio against a baseline measured in the
same run: joining the same terms and writing them with one UPDATE.
"""

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.test.utils import get_runner  # noqa: E402

TERMS = 200_000
SYLLABLES = [c + v for c in "bdgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ar", "en")]


def generated_terms(count: int) -> list[str]:
    """Deterministic words and two-word phrases, with some duplicates as real lists have."""
    rng = random.Random(20260)
    words = []
    for n in range(count):
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 5)))
        if n % 5 == 0:
            word += " " + "".join(rng.choice(SYLLABLES) for _ in range(2))
        words.append(word.capitalize() if n % 7 == 0 else word)
    return words


def timed(label: str, function) -> float:
    start = time.perf_counter()
    function()
    seconds = time.perf_counter() - start
    print(f"{label:<48} {seconds:8.3f} s")
    return seconds


def run() -> None:
    from django.contrib.auth import get_user_model

    from policy_admin.models import KeywordRuleSet
    from policy_admin.services import policies, rules
    from tenants.models import Tenant

    tenant = Tenant.objects.create(name="Bench", slug="bench-term-import")
    user = get_user_model().objects.create(username="bench-term-import")
    policy = policies.policy_create(tenant=tenant, actor=user, name="Bench", slug="bench")
    keyword_set, _ = rules.keyword_set_save(policy=policy, actor=user, revision=1, name="Big")
    terms = generated_terms(TERMS)
    lines = list(enumerate(terms, start=1))

    def baseline():
        text = "\n".join(terms)
        KeywordRuleSet.objects.filter(pk=keyword_set.pk).update(terms=text, term_count=len(terms))

    def service():
        rules.keyword_terms_import(
            keyword_set=keyword_set, actor=user, revision=policy.revision, lines=lines, replace=True
        )

    print(f"{TERMS:,} terms, {len({t.casefold() for t in terms}):,} distinct after folding")
    base = timed("baseline: join + one UPDATE", baseline)
    spent = timed("keyword_terms_import (clean, dedupe, save, audit)", service)
    keyword_set.refresh_from_db()
    print(f"stored {keyword_set.term_count:,} terms; service / baseline = {spent / base:.1f}x")
    tenant.delete()
    user.delete()


def main() -> None:
    runner = get_runner(django.conf.settings)(verbosity=0, interactive=False)
    old_config = runner.setup_databases()
    try:
        run()
    finally:
        runner.teardown_databases(old_config)


if __name__ == "__main__":
    main()
