"""The API documentation: ``/openapi.json``, and ``/docs`` and ``/redoc``, pages for people.

``Settings.api_docs`` says who may read them: ``public`` (anyone), ``admin`` (the schema needs
an admin key; the page stays a public shell) or ``off`` (neither exists). The page asks for a
credential, keeps it in the browser tab only (``sessionStorage``), and sends it as a Bearer
header with every request it makes, the schema's included. Swagger UI is served from the
``swagger-ui-py`` package, so the page works with no network; the credential form is the one
every page for people shares (:mod:`api.pages`).
"""

from __future__ import annotations

import json
from pathlib import Path

import swagger_ui
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api import pages
from api.auth import allow
from ticketflow.identity.principals import Role
from ticketflow.infra.settings import DocsAccess

ASSETS = Path(swagger_ui.__file__).parent / "static"
ASSETS_PATH = "/docs/assets"


def install(app: FastAPI, access: DocsAccess) -> None:
    if access == DocsAccess.OFF:
        return
    router = APIRouter(include_in_schema=False)
    guard = [allow(Role.ADMIN)] if access == DocsAccess.ADMIN else []

    @router.get("/openapi.json", dependencies=guard)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return HTMLResponse(_page(app.title, needs_key=access == DocsAccess.ADMIN))

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return HTMLResponse(_redoc_page(app.title, needs_key=access == DocsAccess.ADMIN))

    app.include_router(router)
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")


def _page(title: str, *, needs_key: bool) -> str:
    options: dict[str, str | bool] = {"url": "/openapi.json", "dom_id": "#ui",
                                      "persistAuthorization": False, "deepLinking": True}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} API</title>{pages.NO_ICON}
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<style>{pages.CREDENTIAL_STYLE}</style></head>
<body>
{pages.CREDENTIAL_FORM}
<div id="ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{pages.ASSETS_PATH}/credential.js"></script>
<script>
const NEEDS_KEY = {json.dumps(needs_key)};
function show() {{
  document.getElementById("ui").replaceChildren();
  if (NEEDS_KEY && !ticketflowCredential.get()) return;
  SwaggerUIBundle(Object.assign({json.dumps(options)}, {{
    requestInterceptor: (req) => {{
      Object.assign(req.headers, ticketflowCredential.headers());
      return req;
    }},
  }}));
}}
ticketflowCredential.attach(document.getElementById("key"), show);
show();
</script></body></html>"""


def _redoc_page(title: str, *, needs_key: bool) -> str:
    """Redoc (vendored, ``static/redoc``) over the schema, fetched with the tab's credential."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} API reference</title>{pages.NO_ICON}
<style>body{{margin:0}}{pages.CREDENTIAL_STYLE}</style></head>
<body>
{pages.CREDENTIAL_FORM}
<div id="ui"></div>
<script src="{pages.ASSETS_PATH}/redoc/redoc.standalone.js"></script>
<script src="{pages.ASSETS_PATH}/credential.js"></script>
<script>
const NEEDS_KEY = {json.dumps(needs_key)};
async function show() {{
  const ui = document.getElementById("ui");
  ui.replaceChildren();
  if (NEEDS_KEY && !ticketflowCredential.get()) return;
  const answer = await fetch("/openapi.json", {{headers: ticketflowCredential.headers()}});
  if (!answer.ok) {{
    ui.textContent = `The API schema could not be read (${{answer.status}}): use an admin key.`;
    return;
  }}
  Redoc.init(await answer.json(), {{}}, ui);
}}
ticketflowCredential.attach(document.getElementById("key"), show);
show();
</script></body></html>"""
