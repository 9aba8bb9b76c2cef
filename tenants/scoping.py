"""The one way to reach tenant-owned data: resolve the tenant from the URL, then filter.

HTML views use TenantViewMixin, API viewsets use TenantAPIMixin. Both resolve
the tenant from the URL among the user's memberships only, so another tenant's
slug is a 404 that does not confirm it exists, and both filter querysets here,
once: subclasses narrow them through `get_tenant_queryset()` and cannot forget
the tenant filter.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from tenants.models import Membership, Tenant
from tenants.roles import Right, member_has_right, refusal_message


def scoped(queryset: QuerySet | type[Model], tenant: Tenant) -> QuerySet:
    """`queryset` restricted to rows owned by `tenant`; the helper every tenant query uses."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    return queryset.filter(tenant=tenant)


def membership_for(user, tenant_slug: str) -> Membership:
    """The user's membership in the tenant with this slug, or Http404 when there is none."""
    if not user.is_authenticated:
        raise Http404("No such tenant.")
    membership = (
        Membership.objects.select_related("tenant", "user")
        .filter(user=user, tenant__slug=tenant_slug)
        .first()
    )
    if membership is None:
        raise Http404("No such tenant.")
    return membership


def require_right(membership: Membership, right: Right) -> None:
    """Raise PermissionDenied, with a sentence saying why, unless the role grants `right`."""
    if not member_has_right(membership, right):
        raise PermissionDenied(refusal_message(membership.role, right))


class TenantScopeMixin:
    """Shared by the HTML and API mixins: tenant, membership, rights and scoped querysets."""

    tenant_url_kwarg = "tenant"
    # Rights by HTTP method; a view or viewset overrides entries it needs.
    required_rights: dict[str, Right] = {
        "GET": Right.READ,
        "HEAD": Right.READ,
        "OPTIONS": Right.READ,
        "POST": Right.EDIT,
        "PUT": Right.EDIT,
        "PATCH": Right.EDIT,
        "DELETE": Right.EDIT,
    }
    model: type[Model] | None = None

    tenant: Tenant
    membership: Membership

    def resolve_tenant(self, request, tenant_slug: str) -> None:
        self.membership = membership_for(request.user, tenant_slug)
        self.tenant = self.membership.tenant
        request.tenant = self.tenant
        request.membership = self.membership

    def check_right(self, method: str) -> None:
        require_right(self.membership, self.required_rights.get(method, Right.EDIT))

    def has_right(self, right: Right) -> bool:
        return member_has_right(self.membership, right)

    def get_tenant_queryset(self) -> QuerySet:
        """Hook: the unfiltered queryset a subclass narrows (select_related, filters)."""
        return self.model._default_manager.all()

    def get_queryset(self) -> QuerySet:
        return scoped(self.get_tenant_queryset(), self.tenant)


class TenantViewMixin(TenantScopeMixin):
    """For HTML views under /t/<tenant>/: login required, tenant checked, rights enforced."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        self.resolve_tenant(request, kwargs[self.tenant_url_kwarg])
        self.check_right(request.method)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            tenant=self.tenant,
            membership=self.membership,
            can_edit=self.has_right(Right.EDIT),
            can_manage_members=self.has_right(Right.MANAGE_MEMBERS),
            can_manage_tokens=self.has_right(Right.MANAGE_TOKENS),
            can_review=self.has_right(Right.REVIEW),
        )
        return context


class TenantAPIMixin(TenantScopeMixin):
    """For DRF views under /api/v1/tenants/<tenant>/: the same checks as the HTML mixin."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication happens here
        self.resolve_tenant(request, kwargs[self.tenant_url_kwarg])
        self.check_right(request.method)

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # OpenAPI generation: no request tenant
            return self.get_tenant_queryset().none()
        return super().get_queryset()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["tenant"] = getattr(self, "tenant", None)
        return context
