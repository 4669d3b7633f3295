"""GraphiQL, when the settings enable it: Muster's own page for it, served under the CSP.

Strawberry's GraphiQL page loads its scripts from a CDN and runs an inline script, which a strict
Content-Security-Policy (and an offline server) refuses. ``page`` serves ``graphiql.html``
instead: the same packages and versions, vendored under ``static/vendor/graphiql/`` (see its
README), and the page's own script in ``static/graphiql.js``. A signed-in browser's queries carry
its CSRF token (from the page); API clients paste ``Authorization: Bearer <token>`` into the
headers editor.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from views.browser import csrf_token_for
from views.pages import template_text


def page(request: Request) -> Response:
    html = template_text("graphiql.html", csrf_token=csrf_token_for(request))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
