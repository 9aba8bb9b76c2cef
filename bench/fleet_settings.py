"""Settings for bench_fleet.py: the product's settings plus a constant view to compare with."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.fleet_urls"
DEBUG = False
