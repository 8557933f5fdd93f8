from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
def home(request):
    return render(request, "core/home.html", {})


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    return render(request, "core/error.html", {"status": 404}, status=404)


def forbidden(request, exception=None):
    return render(request, "core/error.html", {"status": 403}, status=403)
