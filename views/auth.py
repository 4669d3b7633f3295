"""Signing in and out: ``/auth/…``.

``/auth/login`` sends the browser to the identity provider (authorization code with PKCE S256;
state and nonce are kept server-side, tied to the browser by the sign-in cookie, and used once);
``/auth/callback`` checks the answer, provisions the person with the role their groups give them,
starts a new session and returns to the page they asked for. ``/auth/logout`` shows a sign-out
button (GET) and signs out (POST with the CSRF token), then at the provider too when it offers
RP-initiated logout (naming Muster's client, never putting the ID token in a URL; the ID token is
not kept). ``/auth/sign-in`` is the page with the provider's button and, only with
``MUSTER_DEV_LOGIN``, the demo personas that ``/auth/dev`` signs in without a password. Every
failure is a page that says what happened and what to do, and a warning in the log with why.
"""

from __future__ import annotations

import logging
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.config import Settings
from app.db import Database
from app.errors import MusterError
from app.models import User
from app.oidc import Provider, ProviderUnavailable, SignInFailed
from app.services import sessions, users
from views.browser import (
    SIGN_IN_MAX_AGE,
    clear_cookie,
    csrf_token,
    csrf_token_for,
    principal,
    session_cookie,
    set_cookie,
    sign_in_cookie,
)
from views.pages import Link, message, render
from views.services import services

log = logging.getLogger(__name__)
PERSONAS_SHOWN = 50


def routes() -> list[Route]:
    return [
        Route("/auth/sign-in", sign_in_page, name="sign-in"),
        Route("/auth/login", login, name="login"),
        Route("/auth/callback", callback, name="auth-callback"),
        Route("/auth/dev", dev_sign_in, methods=["POST"], name="dev-sign-in"),
        Route("/auth/logout", logout, methods=["GET", "POST"], name="logout"),
        Route("/auth/signed-out", signed_out, name="signed-out"),
    ]


def return_to(value: str | None) -> str:
    """A page on this site to go back to after signing in (never another site)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value


async def sign_in_page(request: Request) -> Response:
    settings = _settings(request)
    personas = []
    if settings.dev_login:
        async with _db(request).read() as session:
            personas = list(await users.list_users(session, limit=PERSONAS_SHOWN))
    fresh = None
    token = csrf_token_for(request)
    if personas and token is None:
        # The persona form needs a CSRF token, which comes from a cookie set with this page.
        fresh = secrets.token_urlsafe(32)
        token = csrf_token(settings, fresh)
    response = await render(
        request,
        "auth/sign_in.html",
        oidc=settings.oidc is not None,
        personas=personas,
        next=return_to(request.query_params.get("next")),
        csrf_token=token,
    )
    if fresh is not None:
        set_cookie(response, settings, sign_in_cookie(settings), fresh, SIGN_IN_MAX_AGE)
    return response


async def login(request: Request) -> Response:
    settings = _settings(request)
    provider = _provider(request)
    if provider is None:
        return RedirectResponse("/auth/sign-in", status_code=303)
    browser = secrets.token_urlsafe(32)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    try:
        url, verifier = await provider.authorization_url(
            redirect_uri=_redirect_uri(settings), state=state, nonce=nonce
        )
    except ProviderUnavailable as error:
        log.warning("sign-in failed at /auth/login: identity provider unavailable: %s", error)
        return await _provider_down(request)
    except SignInFailed as error:
        log.warning("sign-in failed at /auth/login: %s", error)
        return await _failed(request, str(error))
    await sessions.begin_sign_in(
        _db(request),
        state=state,
        browser=browser,
        nonce=nonce,
        code_verifier=verifier,
        return_to=return_to(request.query_params.get("next")),
    )
    response = RedirectResponse(url, status_code=303)
    set_cookie(response, settings, sign_in_cookie(settings), browser, SIGN_IN_MAX_AGE)
    return response


async def callback(request: Request) -> Response:
    settings = _settings(request)
    provider = _provider(request)
    if provider is None:
        return RedirectResponse("/auth/sign-in", status_code=303)
    query = request.query_params
    if "error" in query:
        reason = query.get("error_description") or query["error"]
        log.warning("sign-in failed at /auth/callback: the provider answered %r", reason)
        return await _failed(request, f"The identity provider did not sign you in: {reason}.")
    pending = await sessions.take_sign_in(
        _db(request),
        state=query.get("state", ""),
        browser=request.cookies.get(sign_in_cookie(settings), ""),
    )
    if pending is None:
        log.warning(
            "sign-in failed at /auth/callback: the state is unknown, used, expired "
            "or from another browser"
        )
        return await message(
            request,
            400,
            "This sign-in has expired",
            "This sign-in link was already used, has expired, or was started in another "
            "browser. Start again.",
            Link("/auth/login", "Sign in again"),
        )
    try:
        identity = await provider.sign_in(
            code=query.get("code", ""),
            redirect_uri=_redirect_uri(settings),
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
        )
        user = await users.sign_in(_db(request), identity)
    except ProviderUnavailable as error:
        log.warning("sign-in failed at /auth/callback: identity provider unavailable: %s", error)
        return await _provider_down(request)
    except SignInFailed as error:
        log.warning("sign-in failed at /auth/callback: %s", error)
        return await _failed(request, str(error))
    except MusterError as error:
        log.warning("sign-in failed at /auth/callback: %s", error.message)
        return await _failed(request, error.message, status=403)
    return await _start_session(request, user, pending.return_to, via_provider=True)


async def dev_sign_in(request: Request) -> Response:
    settings = _settings(request)
    if not settings.dev_login:
        return await message(request, 404, "Not found", "There is no page at this address.")
    form = await request.form()
    email = str(form.get("email", ""))
    async with _db(request).read() as session:
        user = await users.find_user_by_email(session, email)
    if user is None or not user.active:
        return await _failed(request, f"There is no active user {email!r} to sign in as.")
    return await _start_session(
        request, user, return_to(str(form.get("next", "/"))), via_provider=False
    )


async def logout(request: Request) -> Response:
    settings = _settings(request)
    if request.method == "GET":
        return await render(request, "auth/sign_out.html")
    ended = await sessions.end_session(
        _db(request), request.cookies.get(session_cookie(settings), "")
    )
    after = settings.base_url + "/auth/signed-out"
    provider = _provider(request)
    elsewhere = None
    if provider is not None and ended is not None and ended.via_provider:
        elsewhere = await provider.end_session_url(after=after)
    response = RedirectResponse(elsewhere or "/auth/signed-out", status_code=303)
    clear_cookie(response, settings, session_cookie(settings))
    return response


async def signed_out(request: Request) -> Response:
    if await principal(request) is not None:
        return RedirectResponse("/", status_code=303)
    return await message(
        request,
        200,
        "You have signed out",
        "Your Muster session has ended on this browser.",
        Link("/auth/sign-in", "Sign in again"),
    )


async def _start_session(
    request: Request, user: User, destination: str, *, via_provider: bool
) -> Response:
    """A new session (never the one the browser had before) and the page asked for."""
    settings = _settings(request)
    db = _db(request)
    previous = request.cookies.get(session_cookie(settings))
    if previous:
        await sessions.end_session(db, previous)
    authenticator = services(request).authenticator
    _, secret = await sessions.start_session(
        db, user=user, timeouts=authenticator.timeouts, via_provider=via_provider
    )
    response = RedirectResponse(destination, status_code=303)
    max_age = int(settings.session_max.total_seconds())
    set_cookie(response, settings, session_cookie(settings), secret, max_age)
    clear_cookie(response, settings, sign_in_cookie(settings))
    return response


async def _provider_down(request: Request) -> Response:
    return await message(
        request,
        503,
        "Sign-in is unavailable",
        "Muster could not reach your organisation's sign-in service. Try again in a minute; "
        "if it keeps happening, tell whoever runs Muster.",
        Link("/auth/login", "Try again"),
    )


async def _failed(request: Request, reason: str, status: int = 400) -> Response:
    return await message(
        request, status, "Sign-in did not work", reason, Link("/auth/sign-in", "Start again")
    )


def _redirect_uri(settings: Settings) -> str:
    return settings.base_url + "/auth/callback"


def _settings(request: Request) -> Settings:
    return services(request).settings


def _db(request: Request) -> Database:
    return services(request).db


def _provider(request: Request) -> Provider | None:
    return services(request).provider
