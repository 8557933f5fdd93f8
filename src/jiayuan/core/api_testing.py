"""A small JSON client for API tests: signed in as a persona by session or by token, paths
relative to /api/v1, English messages unless told otherwise."""

import json

from django.test import Client

API_ROOT = "/api/v1"


class ApiClient:
    def __init__(self, user=None, *, token: str | None = None, language: str = "en", **client):
        self.client = Client(**client)
        if user is not None:
            self.client.force_login(user)
        self.headers = {"Accept-Language": language}
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(
        self,
        method: str,
        path: str,
        body=None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        params=None,
    ):
        send = getattr(self.client, method.lower())
        url = path if path.startswith(API_ROOT) else f"{API_ROOT}{path}"
        if method.upper() == "GET":
            return send(url, params or {}, headers=self.headers)
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return send(url, data, content_type=content_type, headers=self.headers)

    def get(self, path: str, **params):
        return self.request("GET", path, params=params)

    def post(self, path: str, body=None, **options):
        return self.request("POST", path, body, **options)

    def post_files(self, path: str, data: dict):
        """A multipart form, as a phone uploads photos."""
        url = path if path.startswith(API_ROOT) else f"{API_ROOT}{path}"
        return self.client.post(url, data, headers=self.headers)

    def patch(self, path: str, body=None, **options):
        return self.request("PATCH", path, body, **options)

    def delete(self, path: str):
        return self.request("DELETE", path)


def field_errors(response) -> dict[str, str]:
    """{field: message} of a 422 answer."""
    return {error["field"]: error["message"] for error in response.json()["errors"]}
