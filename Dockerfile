FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ticketflow ./ticketflow
COPY api ./api
COPY workflows ./workflows
COPY activities ./activities
COPY flows ./flows
COPY models ./models
COPY worker.py ./
RUN pip install --no-cache-dir .
ENV FLOWS_DIR=/app/flows INTENT_MODEL=/app/models/intents.skops
EXPOSE 8000
CMD ["uvicorn", "api.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
