"""Fixtures for publishing and the fleet: a private signing-key folder per test."""

import pytest


@pytest.fixture(autouse=True)
def signing_key_dir(fleet_isolated):
    return fleet_isolated
