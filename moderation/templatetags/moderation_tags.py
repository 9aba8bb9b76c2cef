"""Small template helpers for the console."""

from django import template

from moderation.analysis import metrics

register = template.Library()


@register.filter
def get_item(mapping, key):
    """mapping[key], or an empty list when the key is absent."""
    return mapping.get(key, []) if mapping else []


@register.filter
def outcome_label(name):
    """What a final-action outcome stored in a suite's metrics asks: "block vs not"."""
    return metrics.outcome_label(name) if name in metrics.OUTCOMES else name
