"""The one entry point: `python run.py [--demo]` serves Éclair; `create-organiser` adds a login;
`purge [--dry-run]` deletes the raw data whose retention period is over."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import sys
import zoneinfo
from pathlib import Path

import uvicorn

from facilitation import plans, purge, qr, security
from facilitation.app import create_app
from facilitation.settings import Settings
from facilitation.store import Database
from facilitation.store import queries as q

DEMO_PLAN = "demo.toml"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="run.py", description="Éclair: participatory workshops")
    parser.add_argument("command", nargs="?", default="serve",
                        choices=["serve", "create-organiser", "purge"])
    parser.add_argument("--host", help="address to listen on (ECLAIR_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (ECLAIR_PORT, default 8000)")
    parser.add_argument("--db", type=Path, help="SQLite file (ECLAIR_DB, default data/eclair.db)")
    parser.add_argument("--demo", action="store_true", default=None,
                        help="load the demo démarche and print its links (ECLAIR_DEMO=1)")
    parser.add_argument("--base-url", help="public address for links and QR codes "
                        "(ECLAIR_BASE_URL, default http://HOST:PORT)")
    parser.add_argument("--username", help="create-organiser: the login name")
    parser.add_argument("--dry-run", action="store_true",
                        help="purge: say what would be deleted, change nothing")
    return parser.parse_args(argv)


async def create_organiser(settings: Settings, username: str, password: str) -> None:
    db = Database(settings.db_path)
    await db.open()
    try:
        await q.upsert_organiser(db, username, security.hash_password(password))
    finally:
        await db.close()


async def purge_now(settings: Settings, dry_run: bool) -> str:
    """The raw data of every démarche past its retention period, deleted (or counted)."""
    zone = zoneinfo.ZoneInfo(settings.timezone)
    db = Database(settings.db_path)
    await db.open()
    try:
        outcomes = await purge.purge_due(db, purge.today(zone), zone, dry_run=dry_run)
        return purge.describe(outcomes, dry_run)
    finally:
        await db.close()


async def load_demo(settings: Settings) -> tuple[int, dict[str, str], str, str | None]:
    """Import the demo plan once; return its first séance, links, code and a new password."""
    db = Database(settings.db_path)
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


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = Settings.from_env(host=args.host, port=args.port, db_path=args.db, demo=args.demo,
                                 base_url=args.base_url)
    if args.command == "create-organiser":
        username = args.username or input("Nom d'utilisateur / username: ").strip()
        password = os.environ.get("ECLAIR_ORGANISER_PASSWORD") or getpass.getpass(
            "Mot de passe / password: ")
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
    if settings.demo:
        _session_id, links, code, new_password = asyncio.run(load_demo(settings))
        print_demo(settings, links, code, new_password)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                ws="websockets-sansio",
                log_level="info", proxy_headers=False, server_header=False,
                access_log=False)  # no IP addresses in logs
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
