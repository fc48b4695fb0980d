"""Create the database named in DATABASE_URL if it is missing (development tooling, not app code)."""

from __future__ import annotations

import os
import sys

import environ
import psycopg
from psycopg import sql


def main() -> int:
    env = environ.Env()
    environ.Env.read_env(os.path.join(os.path.dirname(__file__), "..", ".env"), overwrite=False)
    db = env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/bracketeer")
    host, port = db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)
    try:
        conn = psycopg.connect(
            host=host,
            port=port,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL at {host}:{port} is not answering: {exc}".strip(), file=sys.stderr)
        print(
            "Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            file=sys.stderr,
        )
        return 1
    with conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (db["NAME"],)
        ).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            print(f"created database {db['NAME']!r} on {host}:{port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
