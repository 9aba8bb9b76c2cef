"""Request parsing shared by pages and the API: values that name objects."""

from django.http import Http404


def int_or_404(value) -> int:
    """A form or query value as an id; anything else names nothing, so it is a 404."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("No such object.") from None
