"""Shapes only: no business rules here (they live in accounts/services.py)."""

from rest_framework import serializers

from accounts.models import AccessEvent, Account, Invitation, Membership, Role, User


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("id", "email", "full_name")


class HouseholdSerializer(serializers.ModelSerializer[Account]):
    class Meta:
        model = Account
        fields: tuple[str, ...] = ("id", "name", "created_at")


class ActiveHouseholdSerializer(HouseholdSerializer):
    role = serializers.ChoiceField(choices=Role.choices, help_text="The caller's role in it.")

    class Meta(HouseholdSerializer.Meta):
        fields = (*HouseholdSerializer.Meta.fields, "role")


class MembershipSerializer(serializers.ModelSerializer[Membership]):
    user = UserSerializer(read_only=True)

    class Meta:
        model = Membership
        # Which cameras a limited member sees: GET|PUT /api/v1/camera-access/<id>/ (devices).
        fields = ("id", "user", "role", "camera_access_limited", "created_at")
        read_only_fields = ("camera_access_limited",)


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    class Meta:
        model = Invitation
        fields = ("id", "email", "role", "inviter_label", "created_at", "expires_at")


class InviteSerializer(serializers.Serializer[None]):
    # The column's length: a longer address was stored on SQLite and a database error on PostgreSQL.
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class MemberRoleSerializer(serializers.Serializer[None]):
    role = serializers.ChoiceField(choices=Role.choices)


class AccessEventSerializer(serializers.ModelSerializer[AccessEvent]):
    class Meta:
        model = AccessEvent
        fields = (
            "id",
            "created_at",
            "actor_label",
            "via",
            "kind",
            "object_type",
            "object_id",
            "object_label",
            "ip_address",
            "user_agent",
        )
