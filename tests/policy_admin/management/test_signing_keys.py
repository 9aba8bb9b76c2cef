"""The signing-key commands: rotate retires the active key, --retire drops the retiring one."""

import io

from django.core.management import call_command


def test_signing_key_commands_rotate_list_and_retire(settings):
    out = io.StringIO()
    call_command("signing_key_list", stdout=out)
    first = out.getvalue().split()[0]
    call_command("signing_key_rotate", stdout=io.StringIO())
    out = io.StringIO()
    call_command("signing_key_list", stdout=out)
    statuses = dict(line.split()[:2] for line in out.getvalue().splitlines())
    assert statuses[first] == "retiring"
    assert sorted(statuses.values()) == ["active", "retiring"]
    call_command("signing_key_rotate", "--retire", stdout=io.StringIO())
    out = io.StringIO()
    call_command("signing_key_list", stdout=out)
    assert first not in out.getvalue()
