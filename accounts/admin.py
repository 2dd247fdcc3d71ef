"""Support admin registrations: metadata only, never media."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.http import HttpRequest
from django.urls import URLPattern

from accounts.models import AccessEvent, Account, Invitation, Membership, User


class UserCreationForm(BaseUserCreationForm[User]):
    class Meta:
        model = User
        fields = ("email", "full_name")


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):  # type: ignore[type-var]  # stubs want AbstractUser
    ordering = ("email",)
    list_display = ("email", "full_name", "email_verified_at", "is_staff", "is_active", "date_joined")
    search_fields = ("email", "full_name")
    # A person's address and password change only through their own pages, which confirm
    # the new address, tell the old one, and email every change (README, "Signing in").
    readonly_fields = ("email", "date_joined", "last_login")
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "full_name")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("email_verified_at", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    def get_urls(self) -> list[URLPattern]:
        # Without Django's "change password" page for another person.
        return [url for url in super().get_urls() if getattr(url, "name", "") != "auth_user_password_change"]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        return self.readonly_fields if obj is not None else ("date_joined", "last_login")


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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
