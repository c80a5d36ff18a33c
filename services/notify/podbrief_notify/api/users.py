"""/v1/users (sign-up, email confirmation) and /v1/me."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Row

from podbrief_notify import interest_vectors, keys, users
from podbrief_notify.api.deps import AUTH_ERRORS, Ctx, CurrentUser, errors, too_many
from podbrief_notify.briefs import discover_mode
from podbrief_notify.context import Context
from podbrief_notify.exceptions import Conflict
from podbrief_notify.schemas import ConfirmationSent, EmailConfirmed, MePublic, MeUpdate, UserCreate, UserCreated

router = APIRouter(prefix="/v1", tags=["users"])


def _me(row: Row[Any], ctx: Context) -> MePublic:
    feed = f"{ctx.settings.base_url()}/v1/me/briefs.atom?token={row.feed_token}" if row.feed_token else None
    problem = {"message": row.brief_error, "at": row.brief_error_at} if row.brief_error else None
    return MePublic.model_validate(
        {**row._asdict(), "discover": discover_mode(row), "briefs_feed_url": feed, "brief_problem": problem}
    )


def _confirm_link(ctx: Context, token: str) -> str:
    return f"{ctx.settings.base_url()}/v1/users/confirm?token={token}"


def _sign_up(ctx: Context, body: UserCreate) -> tuple[UserCreated, str | None]:
    now = ctx.clock.now()
    with ctx.store.transaction() as session:
        row, key = users.create_user(session, body.email, body.timezone, body.brief_hour, now)
        key_id = keys.active_keys(session, row.id)[0].id
        token = users.start_confirmation(session, row.id, now) if ctx.confirms_email else None
    return UserCreated(id=row.id, email=row.email, api_key=key, api_key_id=key_id), token


@router.post("/users", status_code=201, response_model=UserCreated, responses=errors(409, 422, 429))
async def create_user(body: UserCreate, ctx: Ctx, request: Request) -> UserCreated:
    """Sign up; the response holds the API key, shown this once only.

    Sign-ups are limited per client address and in all (429 with Retry-After). Where the service sends
    email, a confirmation link goes to the address: until it is opened no brief is emailed there and at
    most `PODBRIEF_UNCONFIRMED_MAX_SUBSCRIPTIONS` (3) feeds can be followed.
    """
    limited = ctx.signups.check(request.client.host if request.client else "")
    if limited is not None:
        raise too_many(*limited)
    created, token = await run_in_threadpool(_sign_up, ctx, body)
    if token is not None and ctx.mailer is not None:
        ctx.mailer.submit_confirmation(created.email, _confirm_link(ctx, token))
    return created


@router.get("/users/confirm", response_model=EmailConfirmed, responses=errors(404, 410, 422))
def confirm_email(
    ctx: Ctx,
    token: Annotated[str, Query(min_length=1, max_length=64, description="The token from the confirmation email's link.")],
) -> EmailConfirmed:
    """Confirm an email address: the link in the email sent at sign-up (it works once, for 7 days)."""
    with ctx.store.transaction() as session:
        row = users.confirm_email(session, token, ctx.clock.now())
    return EmailConfirmed(email=row.email, email_confirmed_at=row.email_confirmed_at)


@router.post("/me/confirmation", status_code=202, response_model=ConfirmationSent, responses={**AUTH_ERRORS, **errors(409)})
async def resend_confirmation(ctx: Ctx, user_id: CurrentUser) -> ConfirmationSent:
    """Email a new confirmation link to the caller's address (the earlier links stop working); one per 10 minutes."""
    mailer = ctx.mailer
    if mailer is None:
        raise Conflict("this service sends no email (no SMTP server is configured), so there is nothing to confirm")

    def start() -> tuple[str, str]:
        now = ctx.clock.now()
        with ctx.store.transaction() as session:
            user = users.get_user(session, user_id)
            if user.email_confirmed_at is not None:
                raise Conflict(f"{user.email} is confirmed already")
            wait = users.resend_wait(user, now)
            if wait is not None:
                raise too_many(wait, "a confirmation link was sent a moment ago; check your mailbox or try again later")
            return user.email, users.start_confirmation(session, user_id, now)

    email, token = await run_in_threadpool(start)
    mailer.submit_confirmation(email, _confirm_link(ctx, token))
    return ConfirmationSent(email=email)


@router.get("/me", response_model=MePublic, responses=AUTH_ERRORS)
def get_me(ctx: Ctx, user_id: CurrentUser) -> MePublic:
    """The caller's settings."""
    with ctx.store.reading() as session:
        return _me(users.get_user(session, user_id), ctx)


@router.patch("/me", response_model=MePublic, responses=AUTH_ERRORS)
def update_me(body: MeUpdate, ctx: Ctx, user_id: CurrentUser) -> MePublic:
    """Change timezone, brief hour, brief size, cadence or interests (only the fields sent)."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if "interests" in changes:
        # Stored with their vectors, embedded before the transaction (the model may be the worker's, over HTTP).
        changes.update(interest_vectors.embedded(ctx.text_embedder, changes["interests"]))
    with ctx.store.transaction() as session:
        return _me(users.update_user(session, user_id, changes), ctx)


@router.post("/me/briefs-feed", response_model=MePublic, responses=AUTH_ERRORS)
def new_briefs_feed(ctx: Ctx, user_id: CurrentUser) -> MePublic:
    """A new `briefs_feed_url` for your Atom feed of briefs (turns it on; the old URL stops working)."""
    with ctx.store.transaction() as session:
        return _me(users.set_feed_token(session, user_id, users.new_feed_token()), ctx)


@router.delete("/me/briefs-feed", response_model=MePublic, responses=AUTH_ERRORS)
def stop_briefs_feed(ctx: Ctx, user_id: CurrentUser) -> MePublic:
    """Turn your Atom feed of briefs off: its URL stops working and `briefs_feed_url` is null until you ask for a new one."""
    with ctx.store.transaction() as session:
        return _me(users.set_feed_token(session, user_id, None), ctx)
