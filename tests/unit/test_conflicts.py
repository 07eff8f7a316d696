import itertools
import random
from datetime import UTC, date, datetime, timedelta

from domain.calendar.model import Kind, Platform
from domain.conflicts import ConflictClass, Span, find_conflicts, overlapping_pairs, self_overlaps, severity

TODAY = date(2026, 8, 1)
T0 = datetime(2026, 7, 1, tzinfo=UTC)
R, B, W, T = Kind.RESERVATION, Kind.BLOCK, Kind.WINDOW, Kind.TENTATIVE


def span(id_, ci, co, kind=R, source="feed:1", platform=Platform.AIRBNB, seen=0, echo_feed=False, echo=()):
    return Span(
        id_,
        source,
        platform,
        kind,
        date.fromisoformat(ci),
        date.fromisoformat(co),
        T0 + timedelta(hours=seen),
        echo_feed,
        echo,
    )


def classes(spans):
    return [(o.a.id, o.b.id, o.klass) for o in find_conflicts(spans, today=TODAY)]


def test_back_to_back_stays_never_conflict():
    assert classes([span(1, "2026-08-10", "2026-08-12"), span(2, "2026-08-12", "2026-08-15", source="feed:2")]) == []


def test_one_night_stays():
    a = span(1, "2026-08-10", "2026-08-11")
    b = span(2, "2026-08-10", "2026-08-11", source="feed:2", platform=Platform.VRBO)
    assert classes([a, b]) == [(1, 2, ConflictClass.DOUBLE_BOOKING)]
    assert classes([a, span(3, "2026-08-11", "2026-08-12", source="feed:2")]) == []


def test_double_booking_between_two_feeds_and_with_a_direct_booking():
    airbnb = span(1, "2026-08-10", "2026-08-15")
    vrbo = span(2, "2026-08-14", "2026-08-16", source="feed:2", platform=Platform.VRBO)
    direct = span(3, "2026-08-12", "2026-08-13", source="direct", platform=Platform.DIRECT)
    assert sorted(classes([airbnb, vrbo, direct])) == [
        (1, 2, ConflictClass.DOUBLE_BOOKING),
        (1, 3, ConflictClass.DOUBLE_BOOKING),
    ]


def test_two_direct_bookings_overlapping_are_a_double_booking():
    a = span(1, "2026-08-10", "2026-08-15", source="direct", platform=Platform.DIRECT)
    b = span(2, "2026-08-11", "2026-08-12", source="direct", platform=Platform.DIRECT)
    assert classes([a, b]) == [(1, 2, ConflictClass.DOUBLE_BOOKING)]


def test_nested_and_identical_ranges():
    outer = span(1, "2026-08-01", "2026-08-20")
    inner = span(2, "2026-08-05", "2026-08-07", source="feed:2", platform=Platform.VRBO)
    same = span(3, "2026-08-05", "2026-08-07", source="feed:3", platform=Platform.VRBO)
    found = find_conflicts([outer, inner, same], today=TODAY)
    assert sorted((o.a.id, o.b.id, o.start.day, o.end.day) for o in found) == [(1, 2, 5, 7), (1, 3, 5, 7), (2, 3, 5, 7)]


def test_a_block_mirroring_a_reservation_is_an_echo():
    booking_stay = span(1, "2026-08-10", "2026-08-15", source="feed:2", platform=Platform.BOOKING)
    airbnb_block = span(2, "2026-08-10", "2026-08-15", kind=B)
    assert classes([booking_stay, airbnb_block]) == [(1, 2, ConflictClass.ECHO)]


def test_lumina_export_coming_back_through_booking_is_an_echo():
    airbnb = span(1, "2026-08-10", "2026-08-15", seen=0)
    booking_closure = span(2, "2026-08-10", "2026-08-15", source="feed:2", platform=Platform.BOOKING, seen=3)
    assert classes([airbnb, booking_closure]) == [(1, 2, ConflictClass.ECHO)]
    # the same nights on Booking.com seen BEFORE the Airbnb stay cannot be an echo of it
    early = span(2, "2026-08-10", "2026-08-15", source="feed:2", platform=Platform.BOOKING, seen=-3)
    assert classes([airbnb, early]) == [(1, 2, ConflictClass.DOUBLE_BOOKING)]
    # different nights on Booking.com: a real guest
    other = span(2, "2026-08-12", "2026-08-17", source="feed:2", platform=Platform.BOOKING, seen=3)
    assert classes([airbnb, other]) == [(1, 2, ConflictClass.DOUBLE_BOOKING)]


def test_a_feed_marked_as_echo():
    airbnb = span(1, "2026-08-10", "2026-08-15")
    marked = span(2, "2026-08-11", "2026-08-17", source="feed:2", platform=Platform.BOOKING, echo_feed=True)
    assert classes([airbnb, marked]) == [(1, 2, ConflictClass.ECHO)]


def test_long_window_block_overlaps_everything_and_is_ignored():
    window = span(1, "2026-08-01", "2027-08-01", kind=W)
    stays = [span(i, f"2026-09-{i:02d}", f"2026-09-{i + 1:02d}", source=f"feed:{i}") for i in range(2, 6)]
    found = classes([window, *stays])
    assert len(found) == 4 and {k for *_ids, k in found} == {ConflictClass.WINDOW}


def test_tentative_hold():
    hold = span(1, "2026-08-10", "2026-08-12", kind=T, source="feed:2", platform=Platform.VRBO)
    assert classes([hold, span(2, "2026-08-11", "2026-08-13")]) == [(1, 2, ConflictClass.TENTATIVE)]


def test_one_feed_overlapping_itself_is_one_finding_and_never_a_pair():
    """Booking.com merges and splits runs inside one download (ICAL_FACTS §2.3): never a double booking, and a
    feed of 800 events on the same nights stays linear (one finding, no pairs)."""
    same = [span(i, "2026-08-10", "2026-08-13") for i in range(1, 801)]
    assert classes(same) == []
    assert [(a.id, b.id) for a, b in self_overlaps(same, today=TODAY)] == [(1, 2)]
    apart = [span(1, "2026-08-10", "2026-08-12"), span(2, "2026-08-12", "2026-08-13", source="feed:1")]
    assert self_overlaps(apart, today=TODAY) == []


def test_nights_held_only_as_an_echo_are_not_contested():
    airbnb = span(1, "2026-08-10", "2026-08-15")
    run = span(
        2,
        "2026-08-05",
        "2026-08-15",
        source="feed:2",
        platform=Platform.BOOKING,
        echo=((date(2026, 8, 10), date(2026, 8, 15)),),
    )
    assert classes([airbnb, run]) == [(1, 2, ConflictClass.ECHO)]
    partly = span(
        2,
        "2026-08-05",
        "2026-08-15",
        source="feed:2",
        platform=Platform.BOOKING,
        echo=((date(2026, 8, 12), date(2026, 8, 15)),),
    )
    (overlap,) = find_conflicts([airbnb, partly], today=TODAY)
    assert (overlap.klass, overlap.start, overlap.end) == (
        ConflictClass.DOUBLE_BOOKING,
        date(2026, 8, 10),
        date(2026, 8, 12),
    )


def test_past_nights_are_ignored():
    assert classes([span(1, "2026-07-10", "2026-07-20"), span(2, "2026-07-12", "2026-08-01", source="feed:2")]) == []


def test_severity_prefers_double_bookings_then_sooner_then_longer():
    soon = severity(ConflictClass.DOUBLE_BOOKING, TODAY, TODAY + timedelta(days=2), TODAY)
    later = severity(ConflictClass.DOUBLE_BOOKING, TODAY + timedelta(days=60), TODAY + timedelta(days=62), TODAY)
    longer = severity(ConflictClass.DOUBLE_BOOKING, TODAY + timedelta(days=60), TODAY + timedelta(days=70), TODAY)
    tentative = severity(ConflictClass.TENTATIVE, TODAY, TODAY + timedelta(days=10), TODAY)
    assert soon > longer > later > tentative


def test_sweep_finds_exactly_the_pairs_all_pairs_finds():
    rng = random.Random(7)
    spans = []
    for i in range(400):
        start = TODAY + timedelta(days=rng.randrange(0, 200))
        spans.append(Span(i, f"feed:{i % 5}", Platform.AIRBNB, R, start, start + timedelta(days=rng.randrange(1, 9))))
    naive = {
        (a.id, b.id)
        for a, b in itertools.combinations(spans, 2)
        if a.check_in < b.check_out and b.check_in < a.check_out and a.source != b.source
    }
    swept = {(a.id, b.id) for a, b in overlapping_pairs(spans)}
    assert swept == naive and len(naive) > 100
