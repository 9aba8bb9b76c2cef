"""Keyword sets: any non-letters between single letters, a match option.

Existing keyword sets get the folding off, so they keep matching as they did
(as a published bundle without the option does); new sets get it on.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policy_admin", "0008_keyword_sets_leet_symbols"),
    ]

    operations = [
        migrations.AddField(
            model_name="floorkeywordset",
            name="any_separators",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="floorkeywordset",
            name="any_separators",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="keywordruleset",
            name="any_separators",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="keywordruleset",
            name="any_separators",
            field=models.BooleanField(default=True),
        ),
    ]
