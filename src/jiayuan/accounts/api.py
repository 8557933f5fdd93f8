"""The caller's own account over the API: personal tokens and the password."""

from datetime import datetime
from typing import Annotated

from django.contrib.auth import SESSION_KEY, update_session_auth_hash
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from jiayuan.accounts import services
from jiayuan.accounts.models import TOKEN_PREFIX, ApiToken
from jiayuan.core.access import CHANGE, get_visible
from jiayuan.core.api_schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    Number,
    ObjectId,
    PageNumberPagination,
    Text,
)

router = Router(tags=["accounts"])


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The start of the token, to recognise it by.")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    is_active: bool

    @staticmethod
    def resolve_prefix(obj):
        return f"{TOKEN_PREFIX}_{obj.key_id}"


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret. It is shown this once and never again.")


class TokenIn(InputSchema):
    name: Text
    expires_in_days: Number | None = Field(None, description="1 to 3650; empty never expires.")


# Hashing is deliberately slow and grows with the input: nobody types more than this.
PasswordText = Annotated[Text, Field(max_length=256)]


class PasswordChangeIn(InputSchema):
    old_password: PasswordText
    new_password: PasswordText


@router.get("/tokens", response={200: list[TokenOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_tokens(request):
    return ApiToken.objects.restrict(request.auth)


@router.post("/tokens", response={201: NewTokenOut, **WRITE_ERRORS})
def create_token(request, payload: TokenIn):
    token, secret = services.token_create(
        actor=request.auth, name=payload.name, expires_in_days=payload.expires_in_days
    )
    token.token = secret
    return Status(201, token)


@router.post("/tokens/{token_id}/revoke", response={200: TokenOut, **WRITE_ERRORS})
def revoke_token(request, token_id: ObjectId):
    token = get_visible(ApiToken, request.auth, CHANGE, pk=token_id)
    return services.token_revoke(actor=request.auth, token=token)


@router.post("/password", response={204: None, **WRITE_ERRORS})
def change_password(request, payload: PasswordChangeIn):
    user = request.auth
    services.password_change(
        actor=user, old_password=payload.old_password, new_password=payload.new_password
    )
    # A browser session that made the change stays signed in; other sessions end.
    if str(request.session.get(SESSION_KEY)) == str(user.pk):
        update_session_auth_hash(request, user)
    return Status(204, None)
