"""PostgreSQL statistics on how a request's building determines its estate.

Without them the planner takes "estate = E and building = B" as two independent filters,
expects a fiftieth of the building's requests and picks a plan that reads them all; with
them it walks the (building, created_at) index and stops after the page. SQLite has no
such statistics and does not need them at a laptop's size.
"""

from django.db import migrations

CREATE = (
    "CREATE STATISTICS IF NOT EXISTS servicedesk_request_place_stats (dependencies) "
    "ON estate_id, building_id FROM servicedesk_servicerequest"
)
DROP = "DROP STATISTICS IF EXISTS servicedesk_request_place_stats"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("servicedesk", "0002_request_building_index")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
