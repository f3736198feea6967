# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""A stand-in for the LiveKit server's agent dispatch, so a real, unmodified worker receives jobs
offline.

The Go server cannot run here; this speaks the worker protocol of `livekit-protocol`
(`/agent` WebSocket, protobuf `ServerMessage` / `WorkerMessage`): it answers the worker's
registration, offers each job with an `AvailabilityRequest`, assigns it when the worker accepts,
and counts a job as finished when the worker reports `JS_SUCCESS` or `JS_FAILED` (or when told,
see `finish`). It never offers more than `concurrency` jobs at a time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web
from livekit import api
from livekit.protocol import agent, models

logger = logging.getLogger('dispatch_server')

FINISHED = (agent.JobStatus.JS_SUCCESS, agent.JobStatus.JS_FAILED)
RETRY_UNAVAILABLE_S = 0.5


class DispatchServer:
    def __init__(self, jobs: list[dict[str, Any]], *, concurrency: int, api_key: str, api_secret: str) -> None:
        """`jobs`: dicts with id, dispatch_id, room, room_id, metadata (offered in this order)."""
        self._jobs = jobs
        self._concurrency = max(1, concurrency)
        self._api_key = api_key
        self._api_secret = api_secret
        self._offered: dict[str, agent.Job] = {}
        self._finished: set[str] = set()
        self.all_finished = asyncio.Event()
        self.worker_registered = asyncio.Event()
        self._slots = asyncio.Semaphore(self._concurrency)
        self._runner: web.AppRunner | None = None
        self.url = ''

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get('/agent', self._handle_worker)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, '127.0.0.1', 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f'ws://127.0.0.1:{port}'
        if not self._jobs:
            self.all_finished.set()

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle_worker(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        register = agent.WorkerMessage()
        register.ParseFromString(await ws.receive_bytes())
        agent_name = register.register.agent_name
        await ws.send_bytes(
            agent.ServerMessage(
                register=agent.RegisterWorkerResponse(
                    worker_id='AW_generator', server_info=models.ServerInfo(region='local', protocol=16)
                )
            ).SerializeToString()
        )
        self.worker_registered.set()
        offers = asyncio.create_task(self._offer_jobs(ws, agent_name))
        try:
            async for message in ws:
                if message.type != WSMsgType.BINARY:
                    continue
                worker_message = agent.WorkerMessage()
                worker_message.ParseFromString(message.data)
                await self._on_worker_message(ws, worker_message)
        finally:
            offers.cancel()
        return ws

    async def _offer_jobs(self, ws: web.WebSocketResponse, agent_name: str) -> None:
        for spec in self._jobs:
            await self._slots.acquire()
            job = agent.Job(
                id=spec['id'],
                dispatch_id=spec['dispatch_id'],
                type=agent.JobType.JT_ROOM,
                room=models.Room(sid=spec['room_id'], name=spec['room']),
                agent_name=agent_name,
                metadata=spec['metadata'],
            )
            self._offered[job.id] = job
            await self._send_availability(ws, job)

    def finish(self, job_id: str) -> None:
        """A job is over: the Python worker says so with `JS_SUCCESS`/`JS_FAILED`; the Node
        worker (1.9) sends no job status, so the generator also calls this when the job's
        totals appear."""
        if job_id in self._finished or job_id not in self._offered:
            return
        self._finished.add(job_id)
        self._slots.release()
        if len(self._finished) == len(self._jobs):
            self.all_finished.set()

    async def _send_availability(self, ws: web.WebSocketResponse, job: agent.Job) -> None:
        request = agent.AvailabilityRequest(job=job)
        await ws.send_bytes(agent.ServerMessage(availability=request).SerializeToString())

    async def _on_worker_message(self, ws: web.WebSocketResponse, message: agent.WorkerMessage) -> None:
        which = message.WhichOneof('message')
        if which == 'availability':
            answer = message.availability
            job = self._offered[answer.job_id]
            if not answer.available:
                # a busy worker: offer the job again shortly, as the server would
                asyncio.get_running_loop().call_later(
                    RETRY_UNAVAILABLE_S, lambda: asyncio.ensure_future(self._send_availability(ws, job))
                )
                return
            token = (
                api.AccessToken(self._api_key, self._api_secret)
                .with_identity(answer.participant_identity or f'agent-{job.id}')
                .with_kind('agent')
                .with_grants(api.VideoGrants(room_join=True, room=job.room.name, agent=True))
                .to_jwt()
            )
            assignment = agent.JobAssignment(job=job, url=self.url, token=token)
            await ws.send_bytes(agent.ServerMessage(assignment=assignment).SerializeToString())
        elif which == 'update_job':
            if message.update_job.status in FINISHED:
                self.finish(message.update_job.job_id)
        elif which == 'ping':
            pong = agent.WorkerPong(last_timestamp=message.ping.timestamp)
            await ws.send_bytes(agent.ServerMessage(pong=pong).SerializeToString())
