"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from api.deps import State

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 2.0


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    """Each dependency's check: ``ok``, or the error that failed it."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, str]


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={
    200: {"description": "Ready: every check is `ok`"},
    503: {"model": Readiness, "description": "Not ready: a check names its error"}})
async def readyz(state: State) -> JSONResponse:
    async def postgres() -> None:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        await state.redis.ping()

    async def temporal() -> None:
        await state.temporal.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=CHECK_TIMEOUT))

    checks = {"postgres": postgres, "redis": redis, "temporal": temporal}
    results = await asyncio.gather(
        *(asyncio.wait_for(check(), CHECK_TIMEOUT) for check in checks.values()),
        return_exceptions=True)
    report = {name: "ok" if r is None else f"error: {r!r}"[:200]
              for name, r in zip(checks, results, strict=True)}
    ok = all(r is None for r in results)
    return JSONResponse({"status": "ready" if ok else "unavailable", "checks": report},
                        status_code=200 if ok else 503)
