from datetime import UTC, date, datetime, timedelta

from domain.calendar.model import FeedEvent, Kind
from domain.calendar.reconcile import Change, KnownStay, Policy, Status, reconcile

NOW = datetime(2026, 5, 7, 7, 30, tzinfo=UTC)
TODAY = date(2026, 5, 7)
R = Kind.RESERVATION


def ev(uid: str, ci: str, co: str, kind: Kind = R) -> FeedEvent:
    return FeedEvent(uid=uid, check_in=date.fromisoformat(ci), check_out=date.fromisoformat(co), kind=kind)


def known(id_: int, uid: str, ci: str, co: str, kind: Kind = R, status: Status = Status.ACTIVE, **kw) -> KnownStay:
    return KnownStay(id_, uid, kind, date.fromisoformat(ci), date.fromisoformat(co), status, **kw)


def changes(result):
    return [(op.change, op.known.id if op.known else None, op.alert) for op in result.changes()]


def test_same_snapshot_twice_changes_nothing():
    stays = [known(1, "a", "2026-06-01", "2026-06-05"), known(2, "b", "2026-06-10", "2026-06-12", Kind.BLOCK)]
    events = [ev("a", "2026-06-01", "2026-06-05"), ev("b", "2026-06-10", "2026-06-12", Kind.BLOCK)]
    result = reconcile(stays, events, now=NOW, today=TODAY)
    assert result.changes() == []
    assert not result.suspicious


def test_new_reservation_alerts_but_not_on_first_import_and_not_blocks():
    events = [ev("a", "2026-06-01", "2026-06-05"), ev("b", "2026-06-10", "2026-06-12", Kind.BLOCK)]
    assert [(op.change, op.alert) for op in reconcile([], events, now=NOW, today=TODAY).ops] == [
        (Change.NEW, True),
        (Change.NEW, False),
    ]
    initial = reconcile([], events, now=NOW, today=TODAY, initial=True)
    assert [op.alert for op in initial.ops] == [False, False]


def test_new_stay_already_over_is_not_news():
    result = reconcile([], [ev("a", "2026-05-01", "2026-05-07")], now=NOW, today=TODAY)
    assert [(op.change, op.alert) for op in result.ops] == [(Change.NEW, False)]


def test_dtend_change_keeps_uid_and_is_one_changed_alert():
    result = reconcile(
        [known(1, "a", "2026-06-01", "2026-06-05")], [ev("a", "2026-06-01", "2026-06-08")], now=NOW, today=TODAY
    )
    assert changes(result) == [(Change.CHANGED, 1, True)]


def test_booking_date_move_with_new_uid_is_a_change_not_cancel_plus_new():
    # ICAL_FACTS §2.2: 0530-0602 became 0531-0603 under a new UID
    result = reconcile(
        [known(1, "old", "2026-05-30", "2026-06-02")], [ev("new", "2026-05-31", "2026-06-03")], now=NOW, today=TODAY
    )
    assert changes(result) == [(Change.CHANGED, 1, True)]
    assert result.ops[0].event.uid == "new"


def test_nightly_reissue_of_a_stay_in_progress_is_silent():
    # Booking Feed B: the started stay comes back with DTSTART = today and a new UID
    result = reconcile(
        [known(1, "x", "2026-05-05", "2026-05-09")], [ev("y", "2026-05-07", "2026-05-09")], now=NOW, today=TODAY
    )
    assert changes(result) == [(Change.REISSUED, 1, False)]


def test_rolling_airbnb_block_is_silent():
    stays = [known(1, "b1", "2026-05-06", "2026-05-20", Kind.BLOCK)]
    result = reconcile(stays, [ev("b2", "2026-05-07", "2026-05-20", Kind.BLOCK)], now=NOW, today=TODAY)
    assert changes(result) == [(Change.REISSUED, 1, False)]


def test_cancellation_needs_two_absences_an_hour_apart():
    stay = known(1, "a", "2026-06-01", "2026-06-05")
    other = known(2, "b", "2026-07-01", "2026-07-05")
    keep = [ev("b", "2026-07-01", "2026-07-05"), ev("c", "2026-08-01", "2026-08-05")]
    first = reconcile([stay, other], keep, now=NOW, today=TODAY)
    op = next(op for op in first.ops if op.known is stay)
    assert (op.status, op.change, op.missing_count, op.missing_since) == (Status.MISSING, None, 1, NOW)

    missing = known(1, "a", "2026-06-01", "2026-06-05", status=Status.MISSING, missing_since=NOW, missing_count=1)
    too_soon = reconcile([missing], [], now=NOW + timedelta(minutes=10), today=TODAY)
    assert too_soon.ops[0].status is Status.MISSING and too_soon.ops[0].missing_count == 2

    later = known(1, "a", "2026-06-01", "2026-06-05", status=Status.MISSING, missing_since=NOW, missing_count=2)
    confirmed = reconcile([later, other], keep[:1], now=NOW + timedelta(hours=1), today=TODAY)
    assert changes(confirmed) == [(Change.CANCELLED, 1, True)]


def test_stay_back_before_confirmation_is_kept_silently_and_after_is_restored():
    missing = known(1, "a", "2026-06-01", "2026-06-05", status=Status.MISSING, missing_since=NOW, missing_count=1)
    back = reconcile([missing], [ev("a", "2026-06-01", "2026-06-05")], now=NOW, today=TODAY)
    assert back.changes() == [] and back.ops[0].status is Status.ACTIVE

    cancelled = known(1, "a", "2026-06-01", "2026-06-05", status=Status.CANCELLED)
    restored = reconcile([cancelled], [ev("a", "2026-06-01", "2026-06-05")], now=NOW, today=TODAY)
    assert changes(restored) == [(Change.RESTORED, 1, True)]


def test_vanished_on_or_after_checkout_day_ended():
    stay = known(1, "a", "2026-05-01", "2026-05-07")
    with_new = reconcile([stay], [ev("z", "2026-09-01", "2026-09-02")], now=NOW, today=TODAY)
    assert sorted(changes(with_new)) == sorted([(Change.ENDED, 1, False), (Change.NEW, None, True)])
    result = reconcile([stay], [], now=NOW, today=TODAY)
    assert changes(result) == [(Change.ENDED, 1, False)]
    assert not result.suspicious


def test_empty_download_where_stays_were_is_suspicious_and_cancels_nothing():
    stays = [
        known(
            i,
            f"u{i}",
            "2026-06-01",
            "2026-06-03",
            status=Status.MISSING,
            missing_since=NOW - timedelta(hours=5),
            missing_count=1,
        )
        for i in range(1, 2)
    ] + [known(2, "u2", "2026-07-01", "2026-07-03")]
    result = reconcile(stays, [], now=NOW, today=TODAY)
    assert result.suspicious
    assert all(op.change is None and op.status is Status.MISSING for op in result.ops)


def test_losing_more_than_half_of_future_stays_is_suspicious():
    stays = [known(i, f"u{i}", f"2026-0{5 + i}-10", f"2026-0{5 + i}-12") for i in range(1, 4)]
    result = reconcile(stays, [ev("u1", "2026-06-10", "2026-06-12")], now=NOW, today=TODAY)
    assert result.suspicious
    assert result.changes() == []
    half = reconcile(
        stays, [ev("u1", "2026-06-10", "2026-06-12"), ev("u2", "2026-07-10", "2026-07-12")], now=NOW, today=TODAY
    )
    assert not half.suspicious


def test_window_block_that_disappears_is_never_news():
    stay = known(1, "w", "2026-06-01", "2027-05-07", Kind.WINDOW)
    result = reconcile([stay], [ev("x", "2026-06-01", "2026-06-05")], now=NOW, today=TODAY)
    assert (Change.ENDED, 1, False) in changes(result)


def test_unchanged_download_confirms_pending_absences():
    missing = known(1, "a", "2026-06-01", "2026-06-05", status=Status.MISSING, missing_since=NOW, missing_count=1)
    active = known(2, "b", "2026-06-10", "2026-06-12")
    result = reconcile([missing, active], None, now=NOW + timedelta(hours=2), today=TODAY)
    assert changes(result) == [(Change.CANCELLED, 1, True)]


def test_policy_is_configurable():
    stay = known(1, "a", "2026-06-01", "2026-06-05")
    other = known(2, "b", "2026-07-01", "2026-07-05")
    now_only = Policy(absences_to_cancel=1, min_absence_span=timedelta(0))
    result = reconcile([stay, other], [ev("b", "2026-07-01", "2026-07-05")], now=NOW, today=TODAY, policy=now_only)
    assert changes(result) == [(Change.CANCELLED, 1, True)]


def test_cancelled_then_host_reblocks_the_same_dates_is_not_a_date_change():
    # ICAL_FACTS §1.4: the reservation vanished and a block with the same dates appeared a day later
    stays = [known(1, "r", "2026-06-01", "2026-06-05"), known(2, "keep", "2026-08-01", "2026-08-03")]
    events = [ev("blk", "2026-06-01", "2026-06-05", Kind.BLOCK), ev("keep", "2026-08-01", "2026-08-03")]
    result = reconcile(stays, events, now=NOW, today=TODAY)
    assert (Change.NEW, None, False) in changes(result)
    assert next(op for op in result.ops if op.known and op.known.id == 1).status is Status.MISSING


def test_tentative_becoming_a_reservation_is_a_change_that_alerts():
    stay = known(1, "t", "2026-06-01", "2026-06-05", Kind.TENTATIVE)
    result = reconcile([stay], [ev("t", "2026-06-01", "2026-06-05", R)], now=NOW, today=TODAY)
    assert changes(result) == [(Change.CHANGED, 1, True)]


# --- Booking.com: an event is a run of booked nights named by its first night (ICAL_FACTS §2.3) ------------------


def test_a_uid_coming_back_first_continues_the_stay_this_download_lost():
    """The nightly re-cut of a stay in progress lands on a night that once started a cancelled stay: same UID as
    that old stay, but it is the stay in progress, silently re-cut; the old guest is not "restored"."""
    cancelled = known(1, "first-night-08", "2026-05-08", "2026-05-10", status=Status.CANCELLED)
    in_house = known(2, "first-night-05", "2026-05-05", "2026-05-12")
    today = date(2026, 5, 8)
    result = reconcile([cancelled, in_house], [ev("first-night-08", "2026-05-08", "2026-05-12")], now=NOW, today=today,
                       uids_name_first_nights=True)  # fmt: skip
    assert changes(result) == [(Change.REISSUED, 2, False)]


def test_a_returning_booking_uid_that_nothing_continues_is_a_new_booking_not_the_old_guest():
    cancelled = known(1, "first-night-20", "2026-05-20", "2026-05-23", status=Status.CANCELLED)
    result = reconcile([cancelled], [ev("first-night-20", "2026-05-20", "2026-05-22")], now=NOW, today=TODAY,
                       uids_name_first_nights=True)  # fmt: skip
    assert changes(result) == [(Change.NEW, None, True)]
    # on Airbnb a UID belongs to one reservation for good: the same UID back is that reservation restored
    airbnb = reconcile([cancelled], [ev("first-night-20", "2026-05-20", "2026-05-22")], now=NOW, today=TODAY)
    assert changes(airbnb) == [(Change.RESTORED, 1, True)]


def test_only_the_recut_to_today_is_silent():
    stay = known(1, "d05", "2026-05-05", "2026-05-12")
    recut = reconcile([stay], [ev("d07", "2026-05-07", "2026-05-12")], now=NOW, today=TODAY)
    assert changes(recut) == [(Change.REISSUED, 1, False)]
    future = known(1, "d20", "2026-05-20", "2026-05-25")
    earlier = reconcile([future], [ev("d18", "2026-05-18", "2026-05-25")], now=NOW, today=TODAY)
    assert changes(earlier) == [(Change.CHANGED, 1, True)]  # nights booked before the stay
    later = reconcile([future], [ev("d22", "2026-05-22", "2026-05-25")], now=NOW, today=TODAY)
    assert changes(later) == [(Change.CHANGED, 1, True)]  # the front of the stay cancelled


def test_a_merge_is_not_a_cancellation():
    """A booking fills the gap between two runs: the first run's event grows over the second, whose UID vanishes
    while all its nights are still booked. It is absorbed: no alert, no countdown, still live."""
    first, second = known(1, "d20", "2026-05-20", "2026-05-22"), known(2, "d24", "2026-05-24", "2026-05-27")
    merged = [ev("d20", "2026-05-20", "2026-05-27")]
    result = reconcile([first, second], merged, now=NOW, today=TODAY, uids_name_first_nights=True)
    assert changes(result) == [(Change.CHANGED, 1, True), (Change.ABSORBED, 2, False)]
    absorbed = next(op for op in result.ops if op.known is second)
    assert absorbed.status is Status.ACTIVE and absorbed.absorbed and absorbed.missing_count == 0
    # later downloads of the merged run: nothing to say, and the absorbed stay keeps waiting
    again = reconcile([known(1, "d20", "2026-05-20", "2026-05-27"), known(2, "d24", "2026-05-24", "2026-05-27",
                       absorbed=True)], merged, now=NOW + timedelta(hours=5), today=TODAY)  # fmt: skip
    assert changes(again) == [] and not any(op.status is not Status.ACTIVE for op in again.ops)


def test_a_split_gives_the_absorbed_stay_back_and_its_freed_nights_cancel_it_quietly():
    run = known(1, "d20", "2026-05-20", "2026-05-27")
    absorbed = known(2, "d24", "2026-05-24", "2026-05-27", absorbed=True)
    split = reconcile([run, absorbed], [ev("d20", "2026-05-20", "2026-05-22"), ev("d24", "2026-05-24", "2026-05-27")],
                      now=NOW, today=TODAY, uids_name_first_nights=True)  # fmt: skip
    assert [(c, i) for c, i, _a in changes(split)] == [(Change.CHANGED, 1), (Change.RESTORED, 2)]
    # or the absorbed stay's own nights go free: the run's change names them; its cancellation is not a second alert
    freed = reconcile([run, absorbed], [ev("d20", "2026-05-20", "2026-05-24")], now=NOW, today=TODAY)
    gone = next(op for op in freed.ops if op.known is absorbed)
    assert gone.status is Status.MISSING
    waiting = known(2, "d24", "2026-05-24", "2026-05-27", Status.MISSING, missing_since=NOW, missing_count=1,
                    absorbed=True)  # fmt: skip
    run_now = known(1, "d20", "2026-05-20", "2026-05-24")
    confirmed = reconcile([run_now, waiting], [ev("d20", "2026-05-20", "2026-05-24")], now=NOW + timedelta(hours=2),
                          today=TODAY)  # fmt: skip
    assert changes(confirmed) == [(Change.CANCELLED, 2, False)]


def test_a_uid_that_a_merged_stay_had_is_first_offered_to_the_run_that_lost_its_uid():
    """The run in progress is re-cut at midnight onto the first night of the stay it absorbed: the run continues
    (silently) and the absorbed stay stays absorbed, not "restored"."""
    run = known(1, "d05", "2026-05-05", "2026-05-12")
    absorbed = known(2, "d08", "2026-05-08", "2026-05-12", absorbed=True)
    today = date(2026, 5, 8)
    result = reconcile([run, absorbed], [ev("d08", "2026-05-08", "2026-05-12")], now=NOW, today=today,
                       uids_name_first_nights=True)  # fmt: skip
    assert changes(result) == [(Change.REISSUED, 1, False)]


def test_an_empty_calendar_served_for_hours_cancels_nothing_until_the_hold_ends():
    stays = [known(i, f"s{i}", "2026-06-01", "2026-06-05") for i in (1, 2)]
    first = reconcile(stays, [], now=NOW, today=TODAY)
    assert first.suspicious and {op.status for op in first.ops} == {Status.MISSING}
    missing = [known(i, f"s{i}", "2026-06-01", "2026-06-05", status=Status.MISSING, missing_since=NOW,
                     missing_count=1) for i in (1, 2)]  # fmt: skip
    hour_later = reconcile(missing, None, now=NOW + timedelta(hours=1), today=TODAY, suspicious_since=NOW)
    assert hour_later.suspicious and not hour_later.changes()
    day_later = reconcile(missing, [], now=NOW + timedelta(hours=13), today=TODAY, suspicious_since=NOW)
    assert not day_later.suspicious and [c for c, _i, _a in changes(day_later)] == [Change.CANCELLED] * 2
