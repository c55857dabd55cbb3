"""Booking commands: the purge of personal data, no-shows, usage from bookings, partner keys, the SMS outbox.

    onemap booking purge --days 90          # personal fields of bookings whose slot began 90+ days ago
    onemap booking no-shows                 # bookings not checked in after their slot ended
    onemap booking sync-usage --days 28     # venue usage (visits, bookings) measured by the booking system
    onemap booking key add 青溪健身小程序 --per-minute 600
    onemap booking key revoke k-1a2b3c4d
    onemap booking outbox --department health --out 短信.csv
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta

from cli.common import EXIT_OK, open_store_of


def cmd_booking(args: argparse.Namespace) -> int:
    """Run one booking action."""
    from office.bookings import BookingDesk, purge_personal_data

    with open_store_of(args) as store:
        if args.action == "purge":
            n = purge_personal_data(store, retention_days=args.days)
            print(f"personal fields removed from {n} booking(s) whose slot began more than {args.days} days ago; "
                  "the anonymous counts stay.")
        elif args.action == "no-shows":
            print(f"{BookingDesk(store).mark_no_shows()} booking(s) marked as no-shows.")
        elif args.action == "sync-usage":
            last = date.today() - timedelta(days=1)  # whole days only
            version = BookingDesk(store).sync_usage(first=last - timedelta(days=args.days), last=last, user=args.user)
            print(f"venue usage from bookings written (venue_usage version {version})." if version
                  else "no booking of a venue in that period.")
        elif args.action == "key":
            return _key(store, args)
        elif args.action == "outbox":
            return _outbox(store, args)
    return EXIT_OK


def _key(store, args: argparse.Namespace) -> int:
    from services.booking_api import issue_key

    if args.what == "add":
        if not args.name:
            raise SystemExit("give the partner's name: onemap booking key add <partner>")
        key_id, api_key = issue_key(store, args.name, per_minute=args.per_minute)
        print(f"key {key_id} for {args.name} ({args.per_minute}/min). Give the partner this key; it is not "
              f"stored and cannot be shown again:\n{api_key}")
    elif args.what == "revoke":
        print(f"{args.name} revoked." if store.bookings.revoke_key(args.name or "", now=_now())
              else f"no active key {args.name}.")
    else:
        print(store.bookings.keys().to_string(index=False))
    return EXIT_OK


def _outbox(store, args: argparse.Namespace) -> int:
    """Write the department's unsent messages as CSV for the city's SMS gateway (phone, text) and mark them."""
    from exports.sheets import outbox_csv

    data, ids = outbox_csv(store, department=args.department)
    with open(args.out, "wb") as fh:
        fh.write(data)
    store.bookings.mark_exported(ids, now=_now())
    print(f"{len(ids)} message(s) written to {args.out} for the SMS gateway (nothing is sent from here).")
    return EXIT_OK


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def add_parsers(sub) -> None:
    """The booking command's subparser."""
    p = sub.add_parser("booking", help="purge personal data, mark no-shows, usage from bookings, partner keys, "
                                       "the SMS outbox")
    p.add_argument("action", choices=("purge", "no-shows", "sync-usage", "key", "outbox"))
    p.add_argument("what", nargs="?", choices=("add", "revoke", "list"), help="for key: add, revoke or list")
    p.add_argument("name", nargs="?", help="for key add: the partner; for key revoke: the key id")
    p.add_argument("--days", type=int, default=None, help="purge: retention in days (default 90); "
                                                          "sync-usage: days back (default 28)")
    p.add_argument("--per-minute", type=int, default=600, help="key add: requests per minute allowed")
    p.add_argument("--department", help="outbox: whose messages")
    p.add_argument("--out", default="outbox.csv", help="outbox: the CSV to write")
    p.set_defaults(func=_with_defaults)


def _with_defaults(args: argparse.Namespace) -> int:
    from office.bookings import RETENTION_DAYS

    if args.days is None:
        args.days = RETENTION_DAYS if args.action == "purge" else 28
    return cmd_booking(args)
