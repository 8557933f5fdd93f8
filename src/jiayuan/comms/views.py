from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from jiayuan.comms.forms import MarkReadForm
from jiayuan.comms.selectors import notification_centre, unread_count
from jiayuan.comms.services import notifications_mark_read

PAGE_SIZE = 25
FILTERS = ("all", "unread")


@login_required
@require_GET
def notification_list(request):
    shown = request.GET.get("show")
    shown = shown if shown in FILTERS else "all"
    notifications = notification_centre(request.user, unread_only=shown == "unread")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "comms/list.html",
        {"page": page, "shown": shown, "unread": unread_count(request.user)},
    )


@login_required
@require_POST
def mark_read(request):
    form = MarkReadForm(request.POST, user=request.user)
    if form.is_valid():
        count = notifications_mark_read(actor=request.user, ids=form.chosen_ids())
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                count,
            )
            % {"count": count},
        )
    else:
        problems = " ".join(message for errors in form.errors.values() for message in errors)
        messages.error(
            request, _("Nothing was marked as read. %(problems)s") % {"problems": problems}
        )
    return redirect("comms:list")


@require_GET
def unread_badge(request):
    """The bell's count, polled by htmx. A poll after the session ended stops polling
    instead of pulling the sign-in page into the badge."""
    if not request.user.is_authenticated:
        if request.htmx:
            return HttpResponseStopPolling()
        return redirect_to_login(request.get_full_path())
    return render(request, "comms/unread_badge.html", {"count": unread_count(request.user)})
