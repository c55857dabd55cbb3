"""Capacity under parallel load, on both stores: 200 people in 4 processes try to book 20 places of one slot
at the same moment; cancellations interleaved with bookings never overfill and honour the waiting list;
a retried request books once."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor

from office.bookings import BookingDesk, slot_id
from tests.bookings.helpers import CAPACITY, COURT, burst_worker, set_up_court, store_spec, tomorrow_at

PROCESSES, THREADS = 4, 50


def test_two_hundred_at_once_book_exactly_twenty(store, demo_city):
    set_up_court(store, demo_city)
    start = tomorrow_at(18).isoformat()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        go = manager.Event()
        ready = [manager.Event() for _ in range(PROCESSES)]
        with ctx.Pool(PROCESSES) as pool:
            jobs = [pool.apply_async(burst_worker, (store_spec(store), p * THREADS, THREADS, start, go, ready[p]))
                    for p in range(PROCESSES)]
            for r in ready:
                assert r.wait(180)
            go.set()
            outcomes = [o for j in jobs for o in j.get(300)]
    assert len(outcomes) == PROCESSES * THREADS
    errors = [o for o in outcomes if o.startswith("error")]
    assert not errors, errors[:3]
    assert outcomes.count("booked") == CAPACITY and outcomes.count("full") == PROCESSES * THREADS - CAPACITY
    sid = f"{COURT}@{start[:16]}"
    slots = store.bookings.slots(resource_ids=[COURT])
    assert slots.set_index("slot_id").loc[sid, "booked"] == CAPACITY
    rows = store.bookings.list(resource_ids=[COURT])
    assert len(rows) == CAPACITY and set(rows["status"]) == {"booked"}


def test_cancellations_interleaved_never_overfill_and_the_waiting_list_moves_up(store, demo_city):
    set_up_court(store, demo_city)
    desk = BookingDesk(store)
    start = tomorrow_at(19)
    first = [desk.book(COURT, start, f"137{k:08d}") for k in range(CAPACITY)]
    assert {b.outcome for b in first} == {"booked"}
    sid = first[0].row["slot_id"]
    seen_over = []
    stop = threading.Event()

    def watch() -> None:  # the places taken, read over and over while the burst runs
        while not stop.is_set():
            taken = store.bookings.slots(resource_ids=[COURT]).set_index("slot_id").loc[sid, "booked"]
            holding = store.bookings.list(resource_ids=[COURT], statuses=("booked",))
            if taken > CAPACITY or len(holding) > CAPACITY:
                seen_over.append((taken, len(holding)))

    def act(k: int) -> str:
        if k % 3 == 0 and k // 3 < CAPACITY:  # every third request cancels one of the first bookings
            b = first[k // 3]
            return "cancel:" + desk.cancel(b.row["booking_id"], b.cancel_code).outcome
        got = desk.book(COURT, start, f"136{k:08d}", waitlist=True)
        return got.outcome

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(act, range(60)))
    stop.set()
    watcher.join()
    assert not seen_over
    assert outcomes.count("cancel:cancelled") == CAPACITY
    rows = store.bookings.list(resource_ids=[COURT])
    holding = rows[rows["status"] == "booked"]
    waiting = rows[rows["status"] == "waitlisted"]
    taken = store.bookings.slots(resource_ids=[COURT]).set_index("slot_id").loc[sid, "booked"]
    assert taken == len(holding) <= CAPACITY
    if len(waiting):  # nobody waits while a place is free
        assert len(holding) == CAPACITY
    new = rows[rows["booking_id"].isin([]) | ~rows["booking_id"].isin([b.row["booking_id"] for b in first])]
    assert len(new) == 40 and set(new["status"]) <= {"booked", "waitlisted"}
    # First come, first served: every new booking holding a place came before every one still waiting.
    if len(waiting):
        assert new.loc[new["status"] == "booked", "created_at"].max() < waiting["created_at"].min()
    assert store.bookings.waiting(sid) == waiting.sort_values(["created_at", "booking_id"])["booking_id"].tolist()


def test_the_waiting_list_moves_up_in_order_on_cancellation(store, demo_city):
    set_up_court(store, demo_city, capacity=2)
    desk = BookingDesk(store)
    start = tomorrow_at(20)
    a, b = (desk.book(COURT, start, f"1350000000{k}") for k in range(2))
    w1 = desk.book(COURT, start, "13500000010", waitlist=True)
    w2 = desk.book(COURT, start, "13500000011", waitlist=True)
    assert (w1.outcome, w2.outcome) == ("waitlisted", "waitlisted")
    assert desk.book(COURT, start, "13500000012").outcome == "full"
    got = desk.cancel(a.row["booking_id"], a.cancel_code)
    assert got.outcome == "cancelled" and got.promoted == w1.row["booking_id"]
    assert store.bookings.get(w1.row["booking_id"])["status"] == "booked"
    assert store.bookings.waiting(slot_id(COURT, _slot(desk, start))) == [w2.row["booking_id"]]
    # cancelling a waiting booking frees nothing and moves nobody up
    got = desk.cancel(w2.row["booking_id"], w2.cancel_code)
    assert got.outcome == "cancelled" and got.promoted is None
    assert store.bookings.slots(resource_ids=[COURT])["booked"].tolist() == [2]
    assert desk.cancel(b.row["booking_id"], "WRONGCOD").outcome == "wrong_code"
    assert desk.cancel(b.row["booking_id"], b.cancel_code.lower()).outcome == "cancelled"
    assert desk.cancel(b.row["booking_id"], b.cancel_code).outcome == "not_active"
    assert store.bookings.slots(resource_ids=[COURT])["booked"].tolist() == [1]


def _slot(desk, start):
    return next(s for s in desk.slots(COURT, first=start.date(), days=1) if s.starts_at == start)


def test_the_same_idempotency_key_books_once_even_at_the_same_moment(store, demo_city):
    set_up_court(store, demo_city)
    desk = BookingDesk(store)
    start = tomorrow_at(9)
    first = desk.book(COURT, start, "13812345678", idempotency_key="mini-app-req-0001")
    again = desk.book(COURT, start, "13812345678", idempotency_key="mini-app-req-0001")
    assert first.outcome == "booked" and again.outcome == "repeat"
    assert again.row["booking_id"] == first.row["booking_id"] and again.cancel_code is None
    barrier = threading.Barrier(10)

    def retry(_k: int):
        barrier.wait()
        return desk.book(COURT, tomorrow_at(10), "13912345678", idempotency_key="mini-app-req-0002")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(retry, range(10)))
    assert sorted(r.outcome for r in results) == ["booked"] + ["repeat"] * 9
    assert len({r.row["booking_id"] for r in results}) == 1
    assert len(store.bookings.list(resource_ids=[COURT])) == 2


def test_one_person_cannot_hold_a_slot_twice_or_more_than_the_limit(store, demo_city):
    set_up_court(store, demo_city)
    desk = BookingDesk(store)
    phone = "13700001111"
    assert desk.book(COURT, tomorrow_at(7), phone).outcome == "booked"
    assert desk.book(COURT, tomorrow_at(7), "+86 137-0000-1111").outcome == "already"
    assert desk.book(COURT, tomorrow_at(8), phone).outcome == "booked"
    assert desk.book(COURT, tomorrow_at(9), phone).outcome == "limit"  # max_active = 2
