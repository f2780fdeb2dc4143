"""The command line, `eclair` once installed (`python run.py` in a checkout): `eclair [--demo]`
serves Éclair; `create-organiser` adds a login; `purge [--dry-run]` deletes the raw data whose
retention period is over."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import sys
import zoneinfo
from pathlib import Path
from typing import Any

import uvicorn

from facilitation import plans, purge, qr, security, store
from facilitation.app import create_app
from facilitation.settings import Settings
from facilitation.store import queries as q

DEMO_PLAN = "demo.toml"


def parse_args(argv: list[str] | None, prog: str | None = None) -> argparse.Namespace:
    # prog: "run.py" or "eclair", as it was called (argparse reads sys.argv[0]).
    parser = argparse.ArgumentParser(prog=prog, description="Éclair: participatory workshops")
    parser.add_argument("command", nargs="?", default="serve",
                        choices=["serve", "create-organiser", "purge"])
    parser.add_argument("--host", help="address to listen on (ECLAIR_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (ECLAIR_PORT, default 8000)")
    parser.add_argument("--db", type=Path, help="SQLite file (ECLAIR_DB, default data/eclair.db "
                        "in the checkout, else under the current directory)")
    parser.add_argument("--demo", action="store_true", default=None,
                        help="load the demo démarche and print its links (ECLAIR_DEMO=1)")
    parser.add_argument("--base-url", help="public address for links and QR codes "
                        "(ECLAIR_BASE_URL, default http://HOST:PORT)")
    parser.add_argument("--workers", type=int, help="server processes on one port "
                        "(ECLAIR_WORKERS, default 1); more than one needs REDIS_URL")
    parser.add_argument("--username", help="create-organiser: the login name")
    parser.add_argument("--dry-run", action="store_true",
                        help="purge: say what would be deleted, change nothing")
    return parser.parse_args(argv)


async def create_organiser(settings: Settings, username: str, password: str) -> None:
    db = store.connect(settings)
    await db.open()
    try:
        await q.upsert_organiser(db, username, security.hash_password(password))
    finally:
        await db.close()


async def purge_now(settings: Settings, dry_run: bool) -> str:
    """The raw data of every démarche past its retention period, deleted (or counted)."""
    zone = zoneinfo.ZoneInfo(settings.timezone)
    db = store.connect(settings)
    await db.open()
    try:
        outcomes = await purge.purge_due(db, purge.today(zone), zone, dry_run=dry_run)
        return purge.describe(outcomes, dry_run)
    finally:
        await db.close()


async def load_demo(settings: Settings) -> tuple[int, dict[str, str], str, str | None]:
    """Import the demo plan once; return its first séance, links, code and a new password."""
    db = store.connect(settings)
    await db.open()
    try:
        existing = await q.get_meta(db, "demo_workshop_id")
        if existing is None:
            plan = plans.parse_plan((settings.sessions_dir / DEMO_PLAN).read_bytes())
            workshop_id = await q.create_workshop(db, plan)
            await q.set_meta_if_missing(db, "demo_workshop_id", str(workshop_id))
        else:
            workshop_id = int(existing)
        password = None
        if await q.get_organiser_hash(db, "demo") is None:
            password = secrets.token_urlsafe(9)
            await q.upsert_organiser(db, "demo", security.hash_password(password))
        seance = (await q.list_sessions(db, workshop_id))[0]
        return seance.id, await q.active_links(db, seance.id), seance.code, password
    finally:
        await db.close()


def print_demo(settings: Settings, links: dict[str, str], code: str, password: str | None) -> None:
    base = settings.public_url
    join = f"{base}/j/{code}"
    print(qr.terminal(join))
    print("Éclair — démarche de démonstration / demo démarche\n")
    print(f"  Organisateur·rice / organiser : {base}/organiser/login  (demo"
          + (f" / {password})" if password else ")"))
    print(f"  Animation / facilitator      : {base}/f/{links['facilitator']}")
    print(f"  Projecteur / projector       : {base}/screen/{links['screen']}")
    print(f"  Aidant·e / helper            : {base}/h/{links['helper']}")
    print(f"  Participer / join            : {join}   (code {code})\n", flush=True)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run one command; argv defaults to the process's own arguments."""
    args = parse_args(argv, prog)
    settings = Settings.from_env(host=args.host, port=args.port, db_path=args.db, demo=args.demo,
                                 base_url=args.base_url, workers=args.workers)
    if args.command == "create-organiser":
        try:
            username = args.username or os.environ.get("ECLAIR_ORGANISER_USERNAME") or input(
                "Nom d'utilisateur / username: ").strip()
            password = os.environ.get("ECLAIR_ORGANISER_PASSWORD") or getpass.getpass(
                "Mot de passe / password: ")
        except EOFError:  # no terminal (a script, `docker compose exec -T`)
            print("Sans terminal, donnez --username (ou ECLAIR_ORGANISER_USERNAME) et "
                  "ECLAIR_ORGANISER_PASSWORD / without a terminal, give --username (or "
                  "ECLAIR_ORGANISER_USERNAME) and ECLAIR_ORGANISER_PASSWORD", file=sys.stderr)
            return 2
        if not username or len(password) < 8:
            print("Un nom et un mot de passe de 8 caractères au moins / "
                  "a name and a password of at least 8 characters", file=sys.stderr)
            return 2
        asyncio.run(create_organiser(settings, username, password))
        print(f"OK: {username}")
        return 0
    if args.command == "purge":
        print(asyncio.run(purge_now(settings, args.dry_run)))
        return 0
    if settings.workers > 1 and not settings.redis_url:
        print(f"--workers {settings.workers}: live views need REDIS_URL to reach every "
              "process (a phone's answer on one, the projector on another)", file=sys.stderr)
        return 2
    if settings.demo:
        _session_id, links, code, new_password = asyncio.run(load_demo(settings))
        print_demo(settings, links, code, new_password)
    serve(settings)
    return 0


async def migrate(settings: Settings) -> None:
    db = store.connect(settings)
    await db.open()
    await db.close()


def serve(settings: Settings) -> None:
    options: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "ws": "websockets-sansio",
        "log_level": "info", "proxy_headers": False, "server_header": False,
        "access_log": False}  # no IP addresses in logs
    if settings.workers <= 1:
        uvicorn.run(create_app(settings), **options)
        return
    if not settings.database_url:
        print(f"{settings.workers} processes share the SQLite file {settings.db_path}: it "
              "works on one host, but each commits on its own and waits on the others' "
              "locks; PostgreSQL (DATABASE_URL) is the store for several", file=sys.stderr)
    # Once, before the workers start together and race on it.
    asyncio.run(migrate(settings))
    # Each worker builds its app from the environment: the command line goes there.
    os.environ.update({"ECLAIR_HOST": settings.host, "ECLAIR_PORT": str(settings.port),
                       "ECLAIR_DB": str(settings.db_path), "ECLAIR_BASE_URL": settings.base_url})
    uvicorn.run("facilitation.app:from_env", factory=True, workers=settings.workers, **options)
