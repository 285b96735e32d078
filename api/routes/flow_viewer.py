"""The flow viewer, ``/ui/flows``: a page for flow authors.

A public shell, like ``/docs``: it asks for a credential (:mod:`api.pages`) and draws what
the flow routes answer it — each active flow as a graph (the route's Mermaid text, drawn by
the Mermaid script the API serves, ``api/static/mermaid``), the problems of the last refused
edit of the flows folder, and a simulation's path over its flow's graph. Every call it makes
carries the credential, so what it shows is what that credential may read.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api import pages

router = APIRouter(include_in_schema=False)

# Scripts only from the API; Mermaid writes inline styles into its SVG.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

SAMPLE_BODY = """{
  "ticket": {"subject": "Refund please", "content": "I was charged twice", "user_level": 5},
  "events": [{"event": "customer_reply", "after": "2h"}]
}"""

PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ticketflow flows</title>{pages.NO_ICON}
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{pages.ASSETS_PATH}/flow-viewer.css">
<style>{pages.CREDENTIAL_STYLE}</style></head>
<body>
{pages.CREDENTIAL_FORM}
<main>
<header><h1>Flows</h1> <button type="button" id="reload">Reload</button>
<span id="loaded"></span></header>
<p id="message" role="alert" hidden></p>
<section id="folder">
<p id="folder-state"></p>
<div id="refused" hidden>
<h2>Refused edit</h2>
<p>The flows folder on disk was refused as a whole; the last good set below keeps serving
until these are fixed.</p>
<table><thead><tr><th>where</th><th>step</th><th>problem</th></tr></thead>
<tbody id="problems"></tbody></table>
</div>
</section>
<section id="simulate-section">
<h2>Simulate</h2>
<form id="simulate">
<label>Flow <select name="flow"><option value="">chosen as the worker would</option></select></label>
<label>Request body: <code>ticket</code>, and optionally <code>events</code> and <code>nlp</code>
<textarea name="body" rows="6" spellcheck="false">{SAMPLE_BODY}</textarea></label>
<button>Simulate</button> <span class="needs">needs an admin key</span>
</form>
<p id="simulate-message" role="alert" hidden></p>
<div id="simulation" hidden>
<p><b>Flow</b> <span id="sim-flow"></span> · <b>outcome</b> <span id="sim-status"></span></p>
<p><b>Path</b> <span id="sim-path"></span></p>
<table><thead><tr><th>at</th><th>step</th><th>action</th><th>details</th></tr></thead>
<tbody id="sim-actions"></tbody></table>
<details><summary>Whole answer</summary><pre id="sim-json"></pre></details>
</div>
</section>
<section id="flows"></section>
</main>
<script src="{pages.ASSETS_PATH}/mermaid/mermaid.min.js"></script>
<script src="{pages.ASSETS_PATH}/credential.js"></script>
<script src="{pages.ASSETS_PATH}/flow-viewer.js"></script>
</body></html>"""


@router.get("/ui/flows")
async def flow_viewer() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": POLICY})
