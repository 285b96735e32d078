"""The worker's warm-up loads what the first ticket would, so that it is made before the heap
is settled (``ticketflow.infra.heap``) and the first ticket does not wait for it."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import asyncio
from activities.ticket import TicketActivities
from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.redis_client import make_redis
from ticketflow.infra.settings import Settings
from ticketflow.tagging import artefacts, features, words

settings = Settings()
flows = FlowRegistry(settings.flows_dir)
activities = TicketActivities(settings=settings, redis=make_redis(settings.redis_url),
                              sessions=make_session_factory(make_engine(settings.database_url)),
                              flows=flows)
asyncio.run(activities.warm())
assert words._ready.cache_info().currsize == 1, "jieba's dictionary"
model = artefacts.current(settings.intent_model)
if model is not None and model._scorer.embedding is not None:
    assert features._wordllama.cache_info().currsize == 1, "the word embedding"
assert flows.config().plans
print("ok")
"""


def test_warm_up_loads_the_dictionary_the_embedding_and_the_flows() -> None:
    # Addresses nothing listens on: warming up connects to neither.
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:9/0",
           "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok"), done.stdout
