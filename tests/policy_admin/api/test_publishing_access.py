"""Every publishing endpoint: another tenant's member gets 404, viewers cannot write."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def api(name, **kwargs):
    return reverse(name, kwargs={"tenant": "acme", "policy": "default", **kwargs})


WRITES = [
    ("post", api("policy-version-publish"), {"revision": 1}),
    ("post", api("policy-version-approve"), {"revision": 1}),
    ("post", api("policy-channel-promote", channel="production"), {"version": 1}),
    ("post", api("policy-channel-rollback", channel="production"), {"version": 1}),
]
READS = [
    api("policy-version-list"),
    api("policy-version-detail", number=1),
    f"{api('policy-version-diff', number=1)}?against=1",
    api("policy-channel-list"),
    api("policy-channel-history", channel="production"),
]


@pytest.mark.parametrize("path", READS)
def test_outsider_gets_404_on_every_read(api_client, v1, outsider, path):
    api_client.force_authenticate(outsider)
    assert api_client.get(path).status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_outsider_gets_404_on_every_write(api_client, v1, outsider, method, path, body):
    api_client.force_authenticate(outsider)
    assert getattr(api_client, method)(path, body).status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_viewer_gets_403_on_every_write(api_client, v1, viewer, method, path, body):
    api_client.force_authenticate(viewer)
    assert getattr(api_client, method)(path, body).status_code == 403


@pytest.mark.parametrize("path", READS)
def test_viewer_reads_everything(api_client, v1, viewer, path):
    api_client.force_authenticate(viewer)
    assert api_client.get(path).status_code == 200
