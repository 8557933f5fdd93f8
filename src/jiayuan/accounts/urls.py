from django.contrib.auth import views as auth_views
from django.http import Http404
from django.urls import path


def pending(request, **kwargs):  # replaced by the pages-shell work
    raise Http404


app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", pending, name="password_change"),
    path("users/<int:pk>/password/", pending, name="password_reset"),
    path("tokens/", pending, name="tokens"),
    path("tokens/<int:pk>/revoke/", pending, name="token_revoke"),
]
