"""Before anything starts: are PostgreSQL and Redis answering, and are our ports free? (Z1, Z5)

Exits non-zero with one line per problem saying exactly what is wrong and what to do.
"""

from __future__ import annotations

import errno
import socket
from typing import Any
from urllib.parse import urlsplit

import psycopg
import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'


def port_problem(*, host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, or None if it is free.

    Binds the way our servers do (uvicorn, the simulator: ``SO_REUSEADDR``), so connections of
    a stopped server still in TIME-WAIT (a demo restarted within a minute) do not count as
    "taken"; a program listening on the port still does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} on {host} is already in use by another program. Stop that "
                    f"program (`ss -ltnp 'sport = :{port}'` shows which one) or pick another "
                    f"port, e.g. `make demo WEB_PORT={port + 1}`."
                )
            return f"Port {port} on {host} cannot be opened: {exc.strerror}."
    return None


def database_problem() -> str | None:
    db = settings.DATABASES["default"]
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    try:
        # Directly, not through the pool: the pool turns every cause into "couldn't get a
        # connection after 10 s", and a missing database must be named as such.
        psycopg.connect(
            dbname=db["NAME"],
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            connect_timeout=5,
        ).close()
    except psycopg.OperationalError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "does not exist" in detail:
            return (
                f"PostgreSQL at {where} answers, but database {db['NAME']!r} does not exist. "
                f"Create it: createdb -h {db.get('HOST') or 'localhost'} -U {db.get('USER')} "
                f"{db['NAME']}  (make demo does this for you)."
            )
        return (
            f"PostgreSQL at {where} is not answering ({detail}). Start it: {START_POSTGRES}  "
            "or point DATABASE_URL at a running server."
        )
    return None


def redis_problem() -> str | None:
    parts = urlsplit(settings.REDIS_URL)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return (
            f"Redis at {where} is not answering ({type(exc).__name__}: {exc}). "
            f"Start it: {START_REDIS}  or point REDIS_URL at a running server."
        )
    return None


class Command(BaseCommand):
    help = "Check that PostgreSQL and Redis answer and that the given ports are free."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, action="append", default=[], help="a port that must be free"
        )
        parser.add_argument("--host", default="127.0.0.1", help="the address the ports bind on")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = [p for p in (database_problem(), redis_problem()) if p is not None]
        for port in options["port"]:
            problem = port_problem(host=options["host"], port=port)
            if problem is not None:
                problems.append(problem)
        if problems:
            raise CommandError("cannot start:\n  - " + "\n  - ".join(problems))
        self.stdout.write(self.style.SUCCESS("preflight: PostgreSQL, Redis and ports are ready"))
