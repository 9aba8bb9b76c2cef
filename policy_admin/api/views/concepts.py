"""CLIP concepts of a policy's draft and their example images."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from kernel.uploads import ImageUpload
from policy_admin.api.common import IF_MATCH_PARAMETER, RevisionInputSerializer, request_revision
from policy_admin.api.serializers.concepts import (
    ConceptImageSerializer,
    ConceptInputSerializer,
    ConceptSerializer,
    ImagesAddedSerializer,
    ImagesUploadSerializer,
    ImageUpdateSerializer,
)
from policy_admin.api.views.base import RuleViewSet, rule_schema
from policy_admin.models import ClipConcept, ConceptImage
from policy_admin.services import concepts
from tenants.scoping import scoped

IMAGE_ID_PARAMETER = OpenApiParameter(
    "image_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The image's id."
)


@rule_schema(ConceptInputSerializer, ConceptSerializer)
class ConceptViewSet(RuleViewSet):
    """A policy's CLIP concepts; example images are added through `images/`."""

    model = ClipConcept
    serializer_class = ConceptSerializer
    input_serializer_class = ConceptInputSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_tenant_queryset(self):
        return ClipConcept.objects.prefetch_related("images")

    def save_rule(self, rule, fields, revision):
        return concepts.concept_save(
            policy=self.policy, actor=self.request.user, revision=revision, concept=rule, **fields
        )

    def delete_rule(self, rule, revision):
        concepts.concept_delete(concept=rule, actor=self.request.user, revision=revision)

    @extend_schema(
        request={"multipart/form-data": ImagesUploadSerializer},
        responses={201: ImagesAddedSerializer},
        parameters=[IF_MATCH_PARAMETER],
        description="Add example images (repeat the `images` field). Every file is checked "
        "first: one that is not an image, truncated, too large or a duplicate saves none.",
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def images(self, request, *args, **kwargs):
        concept = self.get_object()
        upload = ImagesUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        images = concepts.concept_images_add(
            concept=concept,
            actor=request.user,
            revision=request_revision(request, data),
            uploads=[ImageUpload.from_file(f) for f in data["images"]],
            positive=data["positive"],
        )
        payload = ImagesAddedSerializer({"images": images}, context=self.get_serializer_context())
        return Response(payload.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        request=ImageUpdateSerializer,
        responses=ConceptImageSerializer,
        parameters=[IMAGE_ID_PARAMETER, IF_MATCH_PARAMETER],
        description="Mark an example image as positive or negative.",
    )
    @extend_schema(
        methods=["DELETE"],
        request=RevisionInputSerializer,
        responses={204: None},
        parameters=[IMAGE_ID_PARAMETER, IF_MATCH_PARAMETER],
        description="Remove an example image from the concept.",
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"images/(?P<image_id>\d+)")
    def image(self, request, *args, image_id: str, **kwargs):
        concept = self.get_object()
        image = self.get_image(concept, image_id)
        if request.method == "DELETE":
            _, revision = self.read_input(RevisionInputSerializer)
            concepts.concept_image_remove(image=image, actor=request.user, revision=revision)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data, revision = self.read_input(ImageUpdateSerializer)
        image = concepts.concept_image_set_positive(
            image=image, positive=data["positive"], actor=request.user, revision=revision
        )
        return Response(ConceptImageSerializer(image, context=self.get_serializer_context()).data)

    def get_image(self, concept: ClipConcept, image_id: str) -> ConceptImage:
        image = scoped(ConceptImage, self.tenant).filter(concept=concept, pk=image_id).first()
        if image is None:
            raise Http404("No such image.")
        image.concept = concept
        return image
