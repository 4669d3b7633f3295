"""The background worker every server process runs (and ``muster worker`` runs alone).

Three loops: the ``Dispatcher`` turns committed events into notifications, workflow runs and
webhook deliveries; the job runner takes due jobs under a lease and runs their handlers (email,
webhook, workflow, the status page's maintenance and subscribers' mail), finishing or retrying
each; the sweeper sends the nudges time brings (an update overdue, no lead, a follow-up due). Each
loop is woken by a commit in this process (and by the event hub's wake-ups from other processes)
and otherwise polls, so a lost wake-up only delays work, never loses it. A failing round is logged
and tried again; nothing here ever stops the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import timedelta
from typing import Any

import httpx2

from app import jobs, mail, status_mail
from app.config import Settings
from app.db import Database
from app.dispatch import Dispatcher, Reaction
from app.models import Job
from app.services import (
    notifications,
    nudges,
    status_maintenance,
    status_page,
    status_subscriptions,
    webhooks,
    who_hears,
    workflow_runs,
)

log = logging.getLogger("muster.worker")

POLL = 1.0  # seconds between looks when nothing woke a loop
CONCURRENCY = 20  # jobs run at once by one process
POOL = 5  # the worker's own database connections (requests keep theirs)
STOP_TIMEOUT = 5

HANDLERS: dict[str, jobs.Handler] = {
    notifications.EMAIL_JOB: mail.send_email,
    "webhook": webhooks.deliver,
    "workflow": workflow_runs.run,
    status_maintenance.START_JOB: status_maintenance.start_maintenance,
    status_maintenance.END_JOB: status_maintenance.end_maintenance,
    status_page.NEWS_JOB: status_subscriptions.fan_out,
    status_subscriptions.MAIL_JOB: status_mail.send_news,
    status_subscriptions.CONFIRM_JOB: status_mail.send_confirmation,
    status_subscriptions.FORGET_JOB: status_subscriptions.forget,
}


class Worker:
    """The dispatcher, the job runner and the sweeper of one process."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db.sibling(pool_size=POOL)
        self.settings = settings
        email = settings.mail is not None
        self.dispatcher = Dispatcher(self.db, reactions(email=email))
        self.outside: jobs.Outside | None = None
        self._woken = {name: asyncio.Event() for name in ("dispatch", "jobs")}
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """Something committed: look for new events and due jobs now."""
        for woken in self._woken.values():
            woken.set()

    async def start(self) -> None:
        self.outside = jobs.Outside(
            base_url=self.settings.base_url,
            secret_key=self.settings.secret_key,
            mail=self.settings.mail,
            http=httpx2.AsyncClient(timeout=10, follow_redirects=False),
            webhook_allow_private=self.settings.webhook_allow_private,
        )
        self.db.on_commit.append(self.wake)
        loops: Mapping[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "dispatch": self._dispatch_forever,
            "jobs": self._run_jobs_forever,
            "sweep": self._sweep_forever,
        }
        for name, loop in loops.items():
            self._tasks.append(asyncio.create_task(loop(), name=f"worker-{name}"))

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.db.on_commit.remove(self.wake)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
        self._tasks.clear()
        if self.outside is not None:
            await self.outside.http.aclose()
        await self.db.dispose()

    async def _wait(self, name: str) -> None:
        woken = self._woken[name]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(POLL):
                await woken.wait()
        woken.clear()

    async def _dispatch_forever(self) -> None:
        while True:
            try:
                while await self.dispatcher.run():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be down: the next round retries
                log.exception("dispatching events failed; retrying")
            await self._wait("dispatch")

    async def _run_jobs_forever(self) -> None:
        while True:
            try:
                while await self.run_due_jobs():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("running jobs failed; retrying")
            await self._wait("jobs")

    async def run_due_jobs(self) -> bool:
        """Run one round of due jobs; whether a full round was taken (there may be more)."""
        taken = await jobs.claim(
            self.db, limit=CONCURRENCY, lease=self.settings.job_lease, kinds=list(HANDLERS)
        )
        if taken:
            done = await asyncio.gather(*(self._run(job) for job in taken))
            finished = [job for job, ok in zip(taken, done, strict=True) if ok]
            await jobs.finish(self.db, finished)
        return len(taken) == CONCURRENCY

    async def _run(self, job: Job) -> bool:
        """Run one job; whether it is done (else it was put back for later)."""
        assert self.outside is not None
        try:
            await HANDLERS[job.kind](self.db, job.payload, self.outside)
        except asyncio.CancelledError:
            raise  # stopping: the lease runs out and another process (or the next start) retries
        except jobs.RetryLater as later:
            await jobs.retry(self.db, job, error=str(later), delay=later.delay or _wait(job))
            return False
        except Exception as error:
            log.exception("job %s (%s) failed; it will be retried", job.id, job.kind)
            await jobs.retry(
                self.db, job, error=f"{type(error).__name__}: {error}", delay=_wait(job)
            )
            return False
        return True

    async def _sweep_forever(self) -> None:
        every = self.settings.nudges.check_every
        while True:
            await asyncio.sleep(every)
            try:
                await nudges.sweep(
                    self.db, self.settings.nudges, email=self.settings.mail is not None
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sending nudges failed; retrying")


def _wait(job: Job) -> timedelta:
    return jobs.backoff(job.attempts)


def reactions(*, email: bool) -> Sequence[Reaction]:
    """What happens, in order, for each batch of committed events: the default notifications,
    the workflows' runs, the webhooks' deliveries."""
    return (functools.partial(who_hears.react, email=email), workflow_runs.react, webhooks.react)
