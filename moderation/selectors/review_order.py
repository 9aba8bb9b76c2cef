"""How a review queue orders its items, in one sentence a reviewer or admin can read."""

from moderation.models import ReviewQueue

# Prompts at least this close (cosine of MiniLM vectors) are near-duplicates; the review
# service damps them under the informative order (moderation.services.review).
DUPLICATE_COSINE = 0.95

ORDER_TEXT = {
    ReviewQueue.Order.OLDEST: "Items are asked oldest first.",
    ReviewQueue.Order.INFORMATIVE: (
        "Items are asked most informative first: those whose deciding score was closest to its "
        "threshold lead, and an item that is a near-duplicate of one already waiting (the same "
        f"image, or a prompt with cosine similarity {DUPLICATE_COSINE} or more) is "
        "moved back, its priority divided by one plus the number of such items ahead of it."
    ),
}


def review_order_text(queue: ReviewQueue) -> str:
    """The sentence the queue page shows under the queue's name."""
    return ORDER_TEXT[ReviewQueue.Order(queue.order)]
