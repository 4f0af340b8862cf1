"""Loaded profiles hold each repeated term once, parsed or cached: the same profiles, fewer strings."""

from pathlib import Path

from digest.config.profiles import load_profiles


def test_profiles_share_their_repeated_terms_and_stay_the_same(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    for name in ("ada", "bob"):
        (folder / f"{name}.yaml").write_text(
            f"email: {name}@example.org\nkeywords: [graph neural network, {name} only]\nexclude: [survey]\n"
        )
    cache = tmp_path / "profile-cache.json"
    for _ in range(2):  # parsed from the files, then read from the cache (JSON: new strings again)
        profiles, errors = load_profiles(folder, cache)
        assert not errors
        ada, bob = sorted(profiles, key=lambda p: p.emails)
        assert ada.keywords == ("graph neural network", "ada only")
        assert bob.keywords == ("graph neural network", "bob only")
        assert ada.keywords[0] is bob.keywords[0]
        assert ada.exclude[0] is bob.exclude[0]
