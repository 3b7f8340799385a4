"""Takes are chosen by measured behaviour."""

from policy.takes import classify


def _block(turns, landed):
    episodes = [{"pitch_deg": -t, "landed": l} for t, l in zip(turns, landed)]
    return {"episodes": episodes, "success_rate": sum(landed) / len(landed)}


def test_classify_by_landing_rate_and_turn():
    assert classify(_block([86, 90, 80, 88], [False] * 4)) == "fall"
    assert classify(_block([275, 290, 300, 280], [False] * 4)) == "fall"  # short of 330: face down
    assert classify(_block([440, 435, 338, 445], [False] * 4)) == "bad_landing"  # round, or too far round
    assert classify(_block([355, 360, 300, 362], [True, True, False, False])) == "almost"
    assert classify(_block([358, 361, 359, 360], [True] * 4)) is None


def test_remeasure_relabels_an_old_take_for_the_current_physics(tmp_path):
    """A take made for another floor is refused as it is; re-measured, it loads and carries its new figures."""
    import json
    import shutil
    from pathlib import Path

    import numpy as np
    import pytest

    from blender_backflip.core.errors import BackflipError
    from blender_backflip.core.policy_file import core_metadata, load_policy
    from policy.takes import remeasure

    source = Path(__file__).parents[2] / "blender_backflip" / "assets" / "backflip_fall.npz"
    path = tmp_path / "backflip_fall.npz"
    shutil.copyfile(source, path)
    data = dict(np.load(path))
    meta = json.loads(str(data["metadata"]))
    meta["contact_timeconst"] = 0.02  # made for a softer floor than this core's
    meta["measured_success"] = {"canonical": 0.5}
    data["metadata"] = np.array(json.dumps(meta))
    np.savez(path, **data)
    with pytest.raises(BackflipError, match="contact timeconst"):
        load_policy(path)

    rows = remeasure(tmp_path, episodes=2)
    assert [r["take"] for r in rows] == ["fall"]
    policy = load_policy(path)
    assert policy.metadata["measured_episodes"] == 2
    assert policy.metadata["measured_success"]["canonical"] == rows[0]["success_rate"]
    assert policy.metadata["remeasured_from"] == {"contact_timeconst": 0.02}
    assert policy.metadata["contact_timeconst"] == core_metadata()["contact_timeconst"]
    np.testing.assert_array_equal(policy.weights[0], data["w0"].astype(np.float64))  # the weights are the take's own


def test_almost_is_the_snapshot_nearest_a_coin_flip_and_other_takes_the_latest():
    from policy.takes import pick

    fits = [{"snapshot": s, "samples": n, "success_rate": r}
            for s, n, r in (("a", 1, 0.3), ("b", 2, 0.55), ("c", 3, 0.85))]
    assert pick("almost", fits)["snapshot"] == "b"
    assert pick("fall", fits)["snapshot"] == "c"
