"""A PostgreSQL index for the desk's free-text search (decisions §30).

The queue's search box looks for a piece of the number, the contact's name or phone or the
description anywhere in the text. A b-tree cannot answer "contains", and pg_trgm's
trigrams cannot answer a two-character Chinese word, the commonest search there is. So the
text is cut into grams, kept as the lexemes of a tsvector under a GIN index:

- a run of Latin letters and digits (a phone, a number's parts) gives its three-character
  grams, so four digits of a phone meet a few hundred rows, not a tenth of the table;
- any other run of letters (Chinese) gives its two-character grams;
- each gram is kept with the request's estate in front (`26:水管`), so a search in one
  estate reads that estate's entries only, not those of every estate with the same word.

Runs end at spaces and punctuation, so a gram never holds a quote, a backslash or an
operator of the tsquery syntax. A search term cut the same way gives the grams every
matching row must hold (`request_search_query`, joined with &); the plain "contains"
filter still decides, so the index narrows and never answers alone. A term with no gram
(one character, two Latin letters), or a search across estates, is made without it.
SQLite has neither function nor index and searches the plain way, which a laptop's desk
can afford.

The functions name each other with their schema: a restore (pg_restore, psql of a dump)
builds the index with an empty search_path, where an unqualified name is not found.
"""

from django.db import migrations

GRAMS = r"""
CREATE OR REPLACE FUNCTION request_search_grams(prefix text, body text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(prefix || substr(run, i, size)), '{}')
    FROM (
        SELECT found[1] AS run, CASE WHEN found[1] ~ '^[a-z0-9]' THEN 3 ELSE 2 END AS size
        FROM regexp_matches(lower(body), '([a-z0-9]+|[^[:space:][:punct:]a-z0-9]+)', 'g')
            AS found
    ) AS runs, generate_series(1, length(run) - size + 1) AS i
$$
"""
TERMS = """
CREATE OR REPLACE FUNCTION request_search_terms(
    estate_id bigint, number text, contact_name text, contact_phone text, description text
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- || rather than concat_ws, which is only stable: PostgreSQL then inlines this function.
    SELECT array_to_tsvector(@schema.request_search_grams(
        estate_id::text || ':',
        coalesce(number, '') || ' ' || coalesce(contact_name, '') || ' '
        || coalesce(contact_phone, '') || ' ' || coalesce(description, '')
    ))
$$
"""
QUERY = """
CREATE OR REPLACE FUNCTION request_search_query(estate_id bigint, term text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT nullif(array_to_string(array(
        SELECT '''' || gram || ''''
        FROM unnest(@schema.request_search_grams(estate_id::text || ':', term))
            AS gram
    ), ' & '), '')
$$
"""
INDEX = """
CREATE INDEX IF NOT EXISTS request_search ON servicedesk_servicerequest USING gin (
    request_search_terms(estate_id, number, contact_name, contact_phone, description)
)
"""
DROP = """
DROP INDEX IF EXISTS request_search;
DROP FUNCTION IF EXISTS request_search_query(bigint, text);
DROP FUNCTION IF EXISTS request_search_terms(bigint, text, text, text, text);
DROP FUNCTION IF EXISTS request_search_grams(text, text);
"""


def _on_postgresql(*statements):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            schema = connection.ops.quote_name(cursor.fetchone()[0])
        for sql in statements:
            schema_editor.execute(sql.replace("@schema", schema))

    return run


class Migration(migrations.Migration):
    dependencies = [("servicedesk", "0011_leaner_request_indexes")]

    operations = [
        migrations.RunPython(_on_postgresql(GRAMS, TERMS, QUERY, INDEX), _on_postgresql(DROP))
    ]
