"""Small template helpers for the console."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """mapping[key], or an empty list when the key is absent."""
    return mapping.get(key, []) if mapping else []
