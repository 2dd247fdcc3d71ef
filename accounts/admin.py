"""Support admin registrations: metadata only, never media."""

from allauth.usersessions.models import UserSession
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin_site import support_action
from accounts.models import AccessEvent, Account, Invitation, Membership, User
from accounts.staff import (
    user_password_reset_send_by_support,
    user_second_factor_reset_by_support,
    user_sessions_end_by_support,
)


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    """Read-only. Nobody changes a person's address, password, staff flags, groups or
    permissions here (operators use ``manage.py staff``; people use their own pages, which
    confirm and announce every change); there is no add and no "set password" page."""

    ordering = ("email",)
    list_display = ("email", "full_name", "email_verified_at", "is_staff", "is_active", "date_joined")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "full_name")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("email_verified_at", "last_login", "date_joined")}),
    )
    actions = ("end_sessions", "reset_second_factor", "send_password_reset")

    @support_action(description=_("Sign the selected people out of every session"))
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            try:
                user_sessions_end_by_support(staff=_staff(request), user=user)
            except ValidationError as error:
                messages.warning(request, " ".join(error.messages))
        messages.success(request, _("Signed out; the people and their households' owners were emailed."))

    @support_action(description=_("Reset the selected people's second factor"))
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            try:
                user_second_factor_reset_by_support(staff=_staff(request), user=user)
            except ValidationError as error:
                messages.warning(request, " ".join(error.messages))
        messages.success(request, _("Second factors removed; the people and their households' owners were emailed."))

    @support_action(description=_("Send the selected people a password-reset email"))
    def send_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            try:
                user_password_reset_send_by_support(staff=_staff(request), user=user, request=request)
            except ValidationError as error:
                messages.warning(request, " ".join(error.messages))
        messages.success(request, _("Password-reset emails sent; the households' owners were told."))


def _staff(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin[UserSession]):
    """Replaces allauth's: never the session key (a credential) or the session's data."""

    replaces_third_party = True
    list_display = ("user", "created_at", "last_seen_at", "ip", "user_agent")
    list_select_related = ("user",)
    search_fields = ("user__email", "ip")
    fields = ("user", "created_at", "last_seen_at", "ip", "user_agent")


class MembershipInline(admin.TabularInline[Membership, Account]):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("user", "created_at")


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin[Account]):
    list_display = ("name", "id", "created_at")
    search_fields = ("name", "id")
    readonly_fields = ("id", "created_at")
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "account", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "account__name")
    list_select_related = ("user", "account")
    readonly_fields = ("account", "user", "created_at")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ("email", "household_name", "role", "inviter_label", "expires_at")
    search_fields = ("email", "household_name")
    readonly_fields = ("account", "email", "role", "invited_by", "household_name", "inviter_label", "created_at")


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin[AccessEvent]):
    """Read-only: the access history is the household's record, not support's to edit."""

    list_display = ("created_at", "account", "actor_label", "via", "kind", "object_type", "object_id")
    list_filter = ("via", "kind")
    list_select_related = ("account",)
