"""The web server of the request-creation load benchmark (bench/request_create_load.py):
the product as `jiayuan start` serves it (waitress, with its threads per process), plus
reference endpoints measured beside it in the same process:

- POST /bench/minimal-insert: inserts the same rows as an owner's request creation (the
  request, its three SLA clocks, its triage classification and its audit event) in one
  transaction, with no sign-in, checks, numbering or model;
- POST /bench/bare: a Django Ninja endpoint that reads the JSON body and answers it,
  without touching the database;
- GET /bench/created: how many portal requests the product stored, and how many distinct
  numbers they carry (the driver compares them with the 201 answers it counted).

    python bench/create_load_server.py PORT OWNERS SETUP_FILE [PROCESSES]   (DATABASE_URL set)

Before serving it migrates the database, trains the triage model if the data directory has
none, creates an estate with OWNERS owners, each with a flat and an API token, and writes
them to SETUP_FILE as JSON.
"""

import json
import os
import signal
import socket
import sys
import uuid

from django.urls import include, path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")


def _reference_api():
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone
    from ninja import NinjaAPI, Schema

    from jiayuan.core.db import prepared_statements
    from jiayuan.core.models import AuditEvent
    from jiayuan.org.models import Unit
    from jiayuan.servicedesk.models import ServiceRequest
    from jiayuan.sla.models import RequestTarget
    from jiayuan.triage.models import Classification

    api = NinjaAPI(urls_namespace="bench", auth=None, docs_url=None, openapi_url=None)

    class Body(Schema):
        estate: int
        kind: str
        category: str
        description: str
        unit: int | None = None

    @api.post("/bare")
    def bare(request, payload: Body):
        return {"estate": payload.estate, "description": payload.description}

    @api.post("/minimal-insert", response={201: dict})
    def minimal_insert(request, payload: Body):
        # Prepared as the product's intake is, so both run on the same terms.
        with prepared_statements():
            return _minimal_insert(payload)

    def _minimal_insert(payload):
        unit = Unit.objects.select_related("estate").get(pk=payload.unit)
        with transaction.atomic():
            row = ServiceRequest.objects.create(
                company_id=unit.estate.company_id,
                estate_id=payload.estate,
                number=uuid.uuid4().hex[:20],
                kind=payload.kind,
                category=payload.category,
                urgency="normal",
                channel="staff",
                # Closed, so the product's new reports never take them for open faults of
                # the same flat (the duplicate check reads open requests only).
                status="closed",
                unit_id=payload.unit,
                building_id=unit.building_id,
                description=payload.description,
                created_at=timezone.now(),
            )
            RequestTarget.objects.bulk_create(
                RequestTarget(
                    request=row,
                    target=target,
                    policy_name="bench",
                    minutes=60,
                    clock="calendar",
                    state="running",
                    started_at=row.created_at,
                )
                for target in ("response", "arrival", "resolution")
            )
            Classification.objects.create(
                request=row,
                predicted_kind=row.kind,
                predicted_category=row.category,
                predicted_urgency=row.urgency,
                kind=row.kind,
                category=row.category,
                urgency=row.urgency,
            )
            AuditEvent.objects.create(
                code="servicedesk.created",
                company_id=row.company_id,
                estate_id=payload.estate,
                target_type=ContentType.objects.get_for_model(ServiceRequest),
                target_id=str(row.pk),
                after={"number": row.number},
            )
        return 201, {"id": row.pk, "number": row.number}

    @api.get("/created")
    def created(request):
        portal = ServiceRequest.objects.filter(channel="portal")
        return portal.aggregate(rows=Count("id"), numbers=Count("number", distinct=True))

    return api


def prepare(owners: int) -> dict:
    """An estate with `owners` owners, each with a flat and an API token."""
    from decimal import Decimal

    from django.core.management import call_command

    from jiayuan.accounts.models import User
    from jiayuan.accounts.services import token_create
    from jiayuan.org.models import Building, Company, Estate, Residency, Resident, Unit
    from jiayuan.triage import model as triage_model

    call_command("migrate", verbosity=0)
    # As a running product has it: the triage model (trained on first use) classifies each
    # new request at intake.
    triage_model.current()
    company = Company.objects.create(name="负载测试物业", code=f"load-{uuid.uuid4().hex[:6]}")
    estate = Estate.objects.create(company=company, name="负载花园", code="L")
    building = Building.objects.create(estate=estate, name="1号楼", floors_above=30)
    people = []
    for n in range(owners):
        unit = Unit.objects.create(
            estate=estate,
            building=building,
            number=f"{n // 4 + 1}0{n % 4 + 1}",
            floor=n // 4 + 1,
            gross_area=Decimal("90"),
        )
        mobile = f"139{n:08d}"
        user = User.objects.create_user(username=f"load_owner_{n}", name=f"业主{n}", mobile=mobile)
        resident = Resident.objects.create(
            company=company, user=user, name=user.name, mobile=mobile
        )
        Residency.objects.create(resident=resident, unit=unit, relation=Residency.Relation.OWNER)
        _token, secret = token_create(actor=user, name="load")
        people.append({"unit": unit.pk, "token": secret})
    return {"estate": estate.pk, "owners": people}


urlpatterns: list = []


def serve(port: int, owners: int, setup_file: str, processes: int = 1) -> None:
    import django

    django.setup()
    from django.conf import settings
    from waitress import serve as waitress_serve

    from jiayuan.core.management.commands.start import WEB_THREADS

    # Pages name their static files; the hashed manifest is a deployment step, not needed here.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    setup = prepare(owners)
    urlpatterns.extend([path("bench/", _reference_api().urls), path("", include("jiayuan.urls"))])
    settings.ROOT_URLCONF = __name__
    # Imported after the preparation, as `jiayuan start` starts its web processes after its
    # own: the module freezes what is alive then out of the collector's sight. Training the
    # triage model imports scikit-learn (65,000 objects), which `jiayuan start` does in
    # another process; left in sight here, it made every full collection 4 times as long.
    from jiayuan.wsgi import application

    # The same server settings as `jiayuan start`, in `processes` processes, each on a port
    # of its own (`port`, then free ones) so the clients can be shared out evenly, as a load
    # balancer in front of them would share them. On one shared socket, which process took
    # a keep-alive connection was left to chance: one could serve 10 clients, the other 6.
    listeners = [socket.create_server(("127.0.0.1", port), backlog=1024)]
    listeners += [
        socket.create_server(("127.0.0.1", 0), backlog=1024) for _ in range(processes - 1)
    ]
    setup["ports"] = [listener.getsockname()[1] for listener in listeners]
    with open(setup_file + ".part", "w") as handle:
        json.dump(setup, handle)
    os.replace(setup_file + ".part", setup_file)
    from django.db import connections

    connections.close_all()  # each child opens its own database connections
    children = []
    mine = listeners[0]
    for listener in listeners[1:]:
        pid = os.fork()
        if pid == 0:
            children.clear()
            mine = listener
            break
        children.append(pid)
    for listener in listeners:
        if listener is not mine:
            listener.close()

    def stop(signum, frame):
        for child in children:
            os.kill(child, signal.SIGTERM)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    waitress_serve(application, sockets=[mine], threads=WEB_THREADS, ident="jiayuan")


if __name__ == "__main__":
    sys.modules.setdefault("create_load_server", sys.modules[__name__])
    processes = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], processes)
