"""Keyword sets: squeezing repeated letters, a match option.

Existing keyword sets get the folding off, so they keep matching as they did
(as a published bundle without the option does); new sets get it on.
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
        migrations.AlterField(
            model_name="floorkeywordset",
            name="squeeze_repeats",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="keywordruleset",
            name="squeeze_repeats",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="keywordruleset",
            name="squeeze_repeats",
            field=models.BooleanField(default=True),
        ),
    ]
