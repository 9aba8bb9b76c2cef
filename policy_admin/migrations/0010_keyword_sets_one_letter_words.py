"""Keyword sets: both readings of split words next to one-letter words, a match option.

Existing keyword sets get the folding off, so they keep matching as they did
(as a published bundle without the option does); new sets get it on.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policy_admin", "0009_keyword_sets_any_separators"),
    ]

    operations = [
        migrations.AddField(
            model_name="floorkeywordset",
            name="one_letter_words",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="floorkeywordset",
            name="one_letter_words",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="keywordruleset",
            name="one_letter_words",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="keywordruleset",
            name="one_letter_words",
            field=models.BooleanField(default=True),
        ),
    ]
