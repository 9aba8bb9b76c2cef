import pytest

from moderation.models import ReviewQueue
from moderation.selectors.review_order import review_order_text


@pytest.mark.parametrize(
    ("order", "says"),
    [
        (ReviewQueue.Order.OLDEST, "oldest first"),
        (ReviewQueue.Order.INFORMATIVE, "near-duplicate of one already waiting"),
    ],
)
def test_each_order_is_explained_in_one_sentence(order, says):
    assert says in review_order_text(ReviewQueue(order=order))
