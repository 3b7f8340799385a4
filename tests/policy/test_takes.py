"""Takes are chosen by measured behaviour."""

from policy.takes import classify


def _block(turns, landed):
    episodes = [{"pitch_deg": -t, "landed": l} for t, l in zip(turns, landed)]
    return {"episodes": episodes, "success_rate": sum(landed) / len(landed)}


def test_classify_by_landing_rate_and_turn():
    assert classify(_block([86, 90, 80, 88], [False] * 4)) == "fall"
    assert classify(_block([275, 290, 300, 280], [False] * 4)) == "bad_landing"
    assert classify(_block([355, 360, 300, 362], [True, True, False, False])) == "almost"
    assert classify(_block([358, 361, 359, 360], [True] * 4)) is None
