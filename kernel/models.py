"""Tables every app may use: the vector cache below bundle building and scoring."""

from django.db import models


class VectorCacheEntry(models.Model):
    """The vector one model made of one input, so a draft rebuild re-encodes only what changed.

    Keyed by the model's weights (pin sha256) and the input's content hash: a
    changed phrase or a new model is a miss; nothing else ever is.
    """

    model_sha256 = models.CharField(max_length=64)
    content_sha256 = models.CharField(max_length=64)
    dim = models.PositiveIntegerField()
    vector = models.BinaryField()  # float32, little-endian
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_sha256", "content_sha256"], name="vector_cache_one_per_input"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.content_sha256[:12]} by {self.model_sha256[:12]}"
