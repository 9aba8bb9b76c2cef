"""metric_below rules name the "flag or worse vs not" outcome as suite results store it.

Rules used to say `"outcome": "flag"` while every suite result, the quality API
and the pages said `flag_or_worse`; one name is left.
"""

from django.db import migrations

OLD, NEW = "flag", "flag_or_worse"


def _rename(apps, before: str, after: str) -> None:
    AlertRule = apps.get_model("moderation", "AlertRule")
    for rule in AlertRule.objects.filter(kind="metric_below", params__outcome=before):
        rule.params["outcome"] = after
        rule.save(update_fields=["params"])


def forwards(apps, schema_editor):
    _rename(apps, OLD, NEW)


def backwards(apps, schema_editor):
    _rename(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0006_vector_cache_moves_to_kernel"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
