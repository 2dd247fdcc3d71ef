from django.urls import path

from accounts.views import access, auth, households, members

app_name = "accounts"

urlpatterns = [
    path("", households.home, name="home"),
    path("signup/", auth.signup, name="signup"),
    path("login/", auth.SignInView.as_view(), name="login"),
    path("logout/", auth.SignOutView.as_view(), name="logout"),
    path("account/password/", auth.ChangePasswordView.as_view(), name="password-change"),
    path("verify-email/resend/", auth.verify_email_resend, name="verify-email-resend"),
    path("verify-email/<str:token>/", auth.verify_email, name="verify-email"),
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
