"""Pages for onboarding from spreadsheets: upload, follow a job, download templates, error
reports and exports. Thin: the rules live in org/importing.py and org/exporting.py."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from jiayuan.core.access import ADD, ensure_can_in_estate, get_visible
from jiayuan.core.forms import add_service_errors
from jiayuan.org import exporting, importing
from jiayuan.org.models import ImportJob

# The job page shows this many errors; the downloadable report has all of them.
ERRORS_SHOWN = 500
RECENT_JOBS = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file holds"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_(
            "An .xlsx workbook or a .csv file (UTF-8 or GB18030), with the template's columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    dry_run = forms.BooleanField(label=_("Only check the file, save nothing"), required=False)


def _estate(request):
    if request.estate is None:
        raise Http404
    return request.estate


def _xlsx(spool, filename: str) -> FileResponse:
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX)


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    estate = _estate(request)
    may_import = importing.can_import(request.user, estate)
    may_export = exporting.can_export(request.user, estate)
    if not may_import and not may_export:
        ensure_can_in_estate(request.user, ImportJob, ADD, estate)
    form = ImportForm()
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = importing.import_job_create(
                    actor=request.user,
                    estate=estate,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    dry_run=form.cleaned_data["dry_run"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("org:import_detail", pk=job.pk)
    jobs = importing.import_job_list(request.user, estate)[:RECENT_JOBS] if may_import else []
    return render(
        request,
        "org/import_start.html",
        {
            "estate": estate,
            "form": form,
            "may_import": may_import,
            "may_export": may_export,
            "jobs": jobs,
            "kinds": ImportJob.Kind.choices,
        },
    )


@login_required
@require_GET
def import_template(request, kind: str):
    if kind not in ImportJob.Kind.values:
        raise Http404
    ensure_can_in_estate(request.user, ImportJob, ADD, _estate(request))
    return _xlsx(exporting.template_workbook(kind), exporting.template_filename(kind))


@login_required
@require_GET
def import_detail(request, pk: int):
    job = get_visible(ImportJob.objects.select_related("estate", "created_by"), request.user, pk=pk)
    context = {"job": job, "errors": job.errors[:ERRORS_SHOWN], "errors_shown": ERRORS_SHOWN}
    template = "org/import_detail.html#progress" if request.htmx else "org/import_detail.html"
    return render(request, template, context)


@login_required
@require_GET
def import_errors(request, pk: int):
    job = get_visible(ImportJob.objects.all(), request.user, pk=pk)
    if not job.errors:
        raise Http404
    return _xlsx(exporting.error_report_workbook(job), f"import-{job.pk}-errors.xlsx")


@login_required
@require_GET
def export(request, kind: str):
    if kind not in ImportJob.Kind.values:
        raise Http404
    estate = _estate(request)
    spool = exporting.export_workbook(actor=request.user, estate=estate, kind=kind)
    return _xlsx(spool, exporting.export_filename(estate, kind))
