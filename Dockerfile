# ticketflow's image. Its default command runs the API; the same image runs the worker
# (`python worker.py`), the migrations (`ticketflow migrate`) and the CLI. docker-compose.yml
# runs them all; docs/deploy.md says how.
# Build: the dependencies and the `ticketflow` command into a venv, without the dev and local
# extras (no test tools, no dev servers).
FROM python:3.11-slim-bookworm AS build
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY ticketflow ./ticketflow
COPY api ./api
COPY workflows ./workflows
COPY activities ./activities
COPY worker.py ./
# Editable: the code is used where it is, /app, beside flows/ and models/ as in a checkout
# (it finds its JSON schemas there); the runtime stage copies it to the same place.
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --editable .

# Runtime: the venv and the code, run by an unprivileged user.
FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin ticketflow \
    && install -d -o ticketflow -g ticketflow /var/lib/ticketflow
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY ticketflow ./ticketflow
COPY api ./api
COPY workflows ./workflows
COPY activities ./activities
COPY worker.py ./
COPY flows ./flows
COPY models ./models
RUN /opt/venv/bin/python -m compileall -q /app
# flows/ and models/ are defaults: docker-compose.yml mounts the host's folders over them.
# STATE_DIR keeps the last flows folder that loaded whole.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FLOWS_DIR=/app/flows \
    INTENT_MODEL=/app/models/intents.skops \
    STATE_DIR=/var/lib/ticketflow
USER ticketflow
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["uvicorn", "api.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
