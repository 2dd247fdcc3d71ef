from django.urls import path

from accounts.views import access, households, members, security, sessions

app_name = "accounts"

urlpatterns = [
    path("", households.home, name="home"),
    path("account/security/", security.security, name="security"),
    path("account/time-zone/", security.time_zone, name="time-zone"),
    path("account/language/", security.language, name="language"),
    path("account/sessions/", sessions.sessions, name="sessions"),
    path("account/sessions/others/end/", sessions.sessions_end_others, name="sessions-end-others"),
    path("account/sessions/<int:session_id>/end/", sessions.session_end, name="session-end"),
    path("households/", households.households, name="households"),
    path("households/<uuid:account_id>/switch/", households.household_switch, name="household-switch"),
    path("invitations/<uuid:invitation_id>/accept/", households.invitation_accept_view, name="invitation-accept"),
    path("invitations/<uuid:invitation_id>/decline/", households.invitation_decline_view, name="invitation-decline"),
    path("household/settings/", households.household_settings, name="household-settings"),
    path("members/", members.members, name="members"),
    path("members/<uuid:membership_id>/", members.member_edit, name="member-edit"),
    path("members/<uuid:membership_id>/remove/", members.member_remove_view, name="member-remove"),
    path("members/invitations/<uuid:invitation_id>/revoke/", members.invitation_revoke_view, name="invitation-revoke"),
    path("access/", access.access_history, name="access-history"),
]
