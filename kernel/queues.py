"""The Celery queues, named once: the Celery app routes by them and the apps send to them."""

QUEUE_DEFAULT = "default"
QUEUE_GPU = "gpu"
# Tasks of this module run on GPU workers, which hold the models.
GPU_TASK_PREFIX = "moderation.tasks.gpu."
