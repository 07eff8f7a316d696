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
