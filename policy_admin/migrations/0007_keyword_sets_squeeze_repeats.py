"""Keyword sets: squeezing repeated letters, a match option.

Off for existing and new keyword sets alike: it is the one later folding off
by default (it costs throughput; see docs/benchmarks.md).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policy_admin", "0006_keyword_sets_fold_accents"),
    ]

    operations = [
        migrations.AddField(
            model_name="floorkeywordset",
            name="squeeze_repeats",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="keywordruleset",
            name="squeeze_repeats",
            field=models.BooleanField(default=False),
        ),
    ]
