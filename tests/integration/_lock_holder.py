"""A separate process that takes a row lock and holds it: the victim of SIGKILL and SIGSTOP.

Usage: ``python _lock_holder.py URL TABLE KEY STATUS [IDLE_TIMEOUT_S]``. It begins a
transaction, updates the row's status (uncommitted, so it holds the row lock), prints
``ready``, and waits for a line on stdin; then it tries to COMMIT and prints ``committed``
or ``commit failed: <error>``. IDLE_TIMEOUT_S sets the server's idle-in-transaction
timeout for this session, as a guard-configured session would have it.
"""

from __future__ import annotations

import sqlite3
import sys


def main(url: str, table: str, key: str, status: str, idle: float | None) -> None:
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        db.execute("BEGIN IMMEDIATE")
        db.execute(f"UPDATE {table} SET status = ? WHERE id = ?", (status, key))
        print("ready", flush=True)
        sys.stdin.readline()
        try:
            db.execute("COMMIT")
            print("committed", flush=True)
        except sqlite3.Error as exc:
            print(f"commit failed: {exc}", flush=True)
        return

    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    conn = engine.connect()
    if idle is not None:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"SET idle_in_transaction_session_timeout = {int(idle * 1000)}"))
        else:
            conn.execute(text(f"SET SESSION idle_transaction_timeout = {max(1, round(idle))}"))
        conn.commit()
    conn.execute(text(f"UPDATE {table} SET status = :s WHERE id = :k"), {"s": status, "k": key})
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        conn.commit()
        print("committed", flush=True)
    except Exception as exc:  # report whatever the server said
        print(f"commit failed: {type(exc).__name__}: {str(exc).splitlines()[0]}", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], args[1], args[2], args[3], float(args[4]) if len(args) > 4 else None)
