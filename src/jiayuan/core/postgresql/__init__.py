"""Django's PostgreSQL backend with one change: a batch of a few rows is inserted with
VALUES, not UNNEST (decisions §38). settings.DATABASES names it for any postgres:// URL."""
