"""The Celery app: Redis broker, JSON only, three queues, bounded retries, heartbeats.

Delivery choices (read before changing any of them):

* ``task_acks_late=True``: a message is acknowledged after the task returns, so a worker that
  dies mid-task does not lose it. This is only safe because every task here is idempotent
  (signals carry unique keys, broker calls carry deterministic clOrdIds, writes are upserts).
* ``task_reject_on_worker_lost=True``: when a pool child is killed (OOM, SIGKILL) the message
  is re-queued at once instead of waiting for the visibility timeout. The risk of that choice
  is a "poison" message that kills its worker every time; ``BracketeerTask`` counts deliveries
  per task id in Redis and refuses the run after ``max_deliveries``.
* ``visibility_timeout`` (settings.CELERY_VISIBILITY_TIMEOUT, 1 h): if the whole worker host
  dies, Redis hands the unacknowledged message to another worker after this long. It is longer
  than the task time limit plus the longest retry countdown, so a healthy slow task is never
  delivered twice. Tasks whose work goes stale (signals) check their own age before acting.
* ``worker_prefetch_multiplier=1``: a worker reserves one message per process, so one slow
  account cannot hold back signals that another process could run now.
* Database connections: Celery's Django fix-up closes the psycopg pool after every task in a
  prefork child (then each task and each account thread opens a new PostgreSQL connection,
  ~7 ms each, measured). ``CELERY_DB_REUSE_MAX`` makes it do so only every 500 tasks; before each
  task Django's ``close_old_connections`` hands a connection back to the pool instead, so no
  task runs on a connection an earlier one left broken.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, Task, bootsteps
from celery.beat import Scheduler
from celery.signals import beat_init, task_prerun, worker_init, worker_shutdown
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 10.0
QUEUES = ("signals", "copytrade", "default")


class BracketeerTask(Task):
    """Base task: bounded retries with jittered backoff, and a poison-message guard."""

    max_retries = 3
    retry_backoff = True
    retry_backoff_max = 300
    retry_jitter = True
    max_deliveries = 5

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = self.request.id
        if task_id is not None and not self.request.called_directly:
            from config.redis import redis_client, redis_key

            key = redis_key("deliveries", task_id)
            client = redis_client()
            deliveries = int(client.incr(key))
            client.expire(key, 86400)
            if deliveries > self.max_deliveries:
                logger.error(
                    "task %s[%s] refused: delivered %d times (max %d); it likely kills its worker",
                    self.name,
                    task_id,
                    deliveries,
                    self.max_deliveries,
                )
                return None
        return super().__call__(*args, **kwargs)


app = Celery("bracketeer", task_cls=BracketeerTask)
app.config_from_object("django.conf:settings", namespace="CELERY")


def _configure() -> None:
    from django.conf import settings

    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue="default",
        task_routes={
            "trading.execute_signal": {"queue": "signals"},
            "trading.execute_signal_chunk": {"queue": "signals"},
            "trading.settle_in_doubt": {"queue": "signals"},
            "copytrade.copy_fill": {"queue": "copytrade"},
            "copytrade.sync_exits": {"queue": "copytrade"},
        },
        # One direct exchange and routing key per queue: a message lands in exactly one queue.
        task_queues=[
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES
        ],
        task_default_exchange="default",
        task_default_routing_key="default",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_time_limit=settings.CELERY_TASK_TIME_LIMIT,
        task_soft_time_limit=max(1, settings.CELERY_TASK_TIME_LIMIT - 30),
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT,
            "socket_timeout": 5,
            "socket_connect_timeout": 5,
            "global_keyprefix": f"{settings.REDIS_KEY_PREFIX}:celery:",
        },
        CELERY_DB_REUSE_MAX=500,  # read by Celery's Django fix-up (see the module docstring)
        beat_scheduler="config.celery:HeartbeatScheduler",
        beat_max_loop_interval=HEARTBEAT_INTERVAL_SECONDS,
        beat_schedule=settings.CELERY_BEAT_SCHEDULE,
    )


_configure()
app.autodiscover_tasks()


@task_prerun.connect
def _fresh_connection(task: Task | None = None, **kwargs: Any) -> None:
    """Each task starts on a connection from the pool, never on one an earlier task left.
    (Not for a task applied in-process, ``apply()``: that runs on its caller's connection.)"""
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Beats from the worker's own timer, so a wedged event loop stops the heartbeat too."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None

    def start(self, worker: Any) -> None:
        self._beat()
        self.tref = worker.timer.call_repeatedly(HEARTBEAT_INTERVAL_SECONDS, self._beat)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    @staticmethod
    def _beat() -> None:
        from config.heartbeat import heartbeat_beat

        try:
            heartbeat_beat(component="worker")
        except Exception:  # Redis down: health will report it; the worker keeps working.
            logger.exception("worker heartbeat could not be written")


app.steps["worker"].add(WorkerHeartbeat)


@worker_init.connect
@beat_init.connect
def _refuse_bad_configuration(**_: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from config.startup import run_startup_checks

    try:
        run_startup_checks()
    except ImproperlyConfigured as exc:
        # Celery logs and swallows exceptions from signal receivers; a bad secret must stop us.
        logger.critical("%s", exc)
        raise SystemExit(f"celery: {exc}") from exc


@worker_shutdown.connect
def _worker_gone(**_: Any) -> None:
    from config.heartbeat import heartbeat_clear

    try:
        heartbeat_clear(component="worker")
    except Exception:
        logger.exception("worker heartbeat could not be cleared")


class HeartbeatScheduler(Scheduler):
    """The in-memory beat scheduler, plus a heartbeat on every tick (at most every 10 s)."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        from config.heartbeat import heartbeat_beat

        try:
            heartbeat_beat(component="beat")
        except Exception:
            logger.exception("beat heartbeat could not be written")
        return float(super().tick(*args, **kwargs))


@app.task(name="bracketeer.ping", acks_late=False)
def ping(value: str = "pong") -> str:
    """Round-trip probe: the worker writes ``value`` to Redis under ``ping:<value>`` (one minute)
    for whoever sent it to read back (there is no result backend)."""
    from config.redis import redis_client, redis_key

    redis_client().set(redis_key("ping", value), value, ex=60)
    return value
