"""Keyword sets of a policy's draft, their bulk term upload and their paged, searchable terms."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from policy_admin.api.common import IF_MATCH_PARAMETER, request_revision
from policy_admin.api.serializers.keywords import (
    KeywordSetInputSerializer,
    KeywordSetSerializer,
    KeywordSetWriteSerializer,
    TermPageSerializer,
    TermsReportSerializer,
    TermsSearchSerializer,
    TermsUploadSerializer,
)
from policy_admin.api.views.base import RuleViewSet, rule_schema
from policy_admin.models import KeywordRuleSet
from policy_admin.selectors import policies as selectors
from policy_admin.services import rules
from policy_admin.services.terms import MAX_TERMS_PER_SET, terms_from_file


class TermPagination(PageNumberPagination):
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000


@rule_schema(KeywordSetInputSerializer, KeywordSetWriteSerializer)
class KeywordSetViewSet(RuleViewSet):
    """A policy's keyword sets; terms are uploaded and read through `terms/`."""

    model = KeywordRuleSet
    serializer_class = KeywordSetSerializer
    input_serializer_class = KeywordSetInputSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_tenant_queryset(self):
        # Lists never carry the terms (up to 200k per set); `terms/` pages them.
        return KeywordRuleSet.objects.defer("terms")

    def save_rule(self, rule, fields, revision):
        terms = fields.pop("terms", None)
        keyword_set, report = rules.keyword_set_save(
            policy=self.policy,
            actor=self.request.user,
            revision=revision,
            keyword_set=rule,
            terms=list(enumerate(terms, start=1)) if terms is not None else None,
            **fields,
        )
        keyword_set.terms_report = report and self.report_data(report, added=len(report.terms))
        return keyword_set

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return KeywordSetWriteSerializer
        return super().get_serializer_class()

    def delete_rule(self, rule, revision):
        rules.keyword_set_delete(keyword_set=rule, actor=self.request.user, revision=revision)

    def report_data(self, report, *, added: int) -> dict:
        return {
            "added": added,
            "duplicates": report.duplicates,
            "duplicate_terms": report.duplicate_terms,
            "refused": report.problem_count,
            "problems": report.problems,
            "term_count": len(report.terms),
        }

    @extend_schema(
        methods=["GET"],
        parameters=[
            TermsSearchSerializer,
            OpenApiParameter("page", int, description="Page number, from 1."),
            OpenApiParameter("page_size", int, description="Terms a page, at most 1000."),
        ],
        responses=TermPageSerializer,
        description="The set's terms in their stored order, 200 a page; `search` keeps the "
        "terms containing it (case-insensitive).",
    )
    @extend_schema(
        methods=["POST"],
        request={
            "application/json": TermsUploadSerializer,
            "multipart/form-data": TermsUploadSerializer,
        },
        responses=TermsReportSerializer,
        parameters=[IF_MATCH_PARAMETER],
        description="Add terms (or replace them with `replace`), from a JSON list or a TXT/CSV "
        "file. Duplicates are removed and counted; empty, over-long and control-character "
        "lines are refused and reported by line.",
    )
    @action(detail=True, methods=["get", "post"])
    def terms(self, request, *args, **kwargs):
        keyword_set = self.get_keyword_set_with_terms()
        if request.method == "GET":
            return self.terms_page(keyword_set)
        upload = TermsUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        before = 0 if data["replace"] else keyword_set.term_count
        report = rules.keyword_terms_import(
            keyword_set=keyword_set,
            actor=request.user,
            revision=request_revision(request, data),
            lines=self.upload_lines(data),
            replace=data["replace"],
            source=data["file"].name if "file" in data else "the API",
        )
        payload = self.report_data(report, added=len(report.terms) - before)
        return Response(TermsReportSerializer(payload, context=self.get_serializer_context()).data)

    def get_keyword_set_with_terms(self) -> KeywordRuleSet:
        keyword_set = self.get_object()
        keyword_set.refresh_from_db(fields=["terms"])
        return keyword_set

    def upload_lines(self, data) -> list[tuple[int, str]]:
        if "file" in data:
            upload = data["file"]
            return terms_from_file(upload.read(), filename=upload.name, column=data["column"])
        return list(enumerate(data["terms"], start=1))

    def terms_page(self, keyword_set):
        query = TermsSearchSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        found, _count = selectors.keyword_terms_search(
            keyword_set=keyword_set, query=query.validated_data["search"], limit=MAX_TERMS_PER_SET
        )
        paginator = TermPagination()
        page = paginator.paginate_queryset(found, self.request, view=self)
        return paginator.get_paginated_response(page)
