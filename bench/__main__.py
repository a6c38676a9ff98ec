"""Run golive's benchmarks: `python -m bench [--smoke] [--only ofrep,probes]` (or `make bench`).

Starts from an empty bench database, runs each benchmark module, prints one table and, unless in
smoke mode, writes it into docs/benchmarks.md between the results markers (the rest of that file,
the notes on profiles and fixes, is kept as written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from bench.harness import ROOT, Bench, Row, machine

MODULES = [
    "ofrep",
    "unleash",
    "control_room",
    "rollback",
    "probes",
    "ingest",
    "browser",
    "canary",
    "scaleout",
]
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:results -->", "<!-- /bench:results -->"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the harness, not speed")
    parser.add_argument("--only", default="", help="comma-separated modules: " + ",".join(MODULES))
    parser.add_argument("--output", type=Path, help="markdown file to write (default: docs/benchmarks.md)")
    args = parser.parse_args()
    modules = [name for name in args.only.split(",") if name] or MODULES
    unknown = sorted(set(modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}")

    bench = Bench(
        smoke=args.smoke,
        database_url=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/golive_bench"
        ),
        redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
    )
    os.environ.update(bench.env())
    _fresh_database(bench.database_url)
    _empty_redis(bench.redis_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    rows: list[Row] = []
    crashed = []
    for name in modules:
        started = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            new_rows = module.run(bench)
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            crashed.append(name)
            new_rows = [Row(item=name, target="", measured="crashed", met=False, note=repr(exc)[:200])]
        finally:
            bench.stop_all()
        for row in new_rows:
            print("   " + _plain(row), flush=True)
        print(f"   ({time.monotonic() - started:.0f} s; logs in {bench.workdir})", flush=True)
        rows.extend(new_rows)

    table = render(rows, smoke=bench.smoke)
    print()
    print(table)
    output = args.output or (None if bench.smoke else DOCS)
    if output:
        write(output, table)
        print(f"\nwritten to {output}")
    if crashed:
        print(f"\ncrashed: {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0


def _fresh_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _empty_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _plain(row: Row) -> str:
    verdict = {True: "met", False: "MISSED", None: "-"}[row.met]
    parts = [row.item, f"target {row.target}", f"measured {row.measured}"]
    if row.baseline:
        parts.append(f"baseline {row.baseline}")
    if row.ratio:
        parts.append(f"ratio {row.ratio}")
    parts.append(verdict)
    if row.note:
        parts.append(row.note)
    return " | ".join(parts)


def render(rows: list[Row], *, smoke: bool) -> str:
    info = machine()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC at commit {commit or 'unknown'}"
        f"{' (SMOKE MODE: sizes too small to mean anything)' if smoke else ''}; "
        f"{info['cores']} cores ({info['cpu']}), {info['memory']} memory, Python {info['python']}.",
        "",
        "| item | target | measured | baseline | ratio | verdict | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = {True: "met", False: "**missed**", None: "-"}[row.met]
        cells = [row.item, row.target, row.measured, row.baseline, row.ratio, verdict, row.note]
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines)


def write(path: Path, table: str) -> None:
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head}{START}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    sys.exit(main())
