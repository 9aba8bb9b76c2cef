"""Serializers of the authoring API: explicit fields for output, one input serializer per verb."""
