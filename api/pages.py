"""What the API's pages for people share (``/docs``, ``/ui/flows``): their static assets,
served from the package, and the form that asks for a credential.

The pages are public shells. The credential is kept in the browser tab only
(``sessionStorage``, ``static/credential.js``) and sent as a Bearer header with every call
a page makes, so the security model stays the API's own.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static"
ASSETS_PATH = "/ui/assets"

# The form that credential.js wires; its style is in CREDENTIAL_STYLE.
CREDENTIAL_FORM = """<form id="key" class="key">API key or customer token:
<input name="credential" type="password" autocomplete="off" placeholder="tfk_...">
<button>Use</button> <button type="button" class="key-forget">Forget</button>
<span class="key-state"></span></form>"""
CREDENTIAL_STYLE = """.key{font:14px sans-serif;padding:8px 16px;background:#f4f4f4}
.key input{width:28em}.key-state{color:#555}"""
# No request for /favicon.ico: its 404 would be an error in the browser's console.
NO_ICON = '<link rel="icon" href="data:,">'


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="page-assets")
