"""The dbt benchmark's snapshot cache is keyed by the simulator's sources, not only by its config."""

from pathlib import Path

from lakehouse.bench.dbt import source_fingerprint


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_fingerprint_changes_with_any_source_file(tmp_path: Path) -> None:
    package = _package(tmp_path / "generator", {"a.py": "x = 1\n", "writers/b.py": "y = 2\n"})
    before = source_fingerprint(package)

    assert source_fingerprint(package) == before
    (package / "writers" / "b.py").write_text("y = 3\n")
    assert source_fingerprint(package) != before


def test_fingerprint_ignores_non_python_files(tmp_path: Path) -> None:
    package = _package(tmp_path / "generator", {"a.py": "x = 1\n"})
    before = source_fingerprint(package)

    (package / "notes.txt").write_text("scratch")
    assert source_fingerprint(package) == before


def test_fingerprint_tells_moved_code_apart(tmp_path: Path) -> None:
    first = _package(tmp_path / "one", {"a.py": "x = 1\n"})
    second = _package(tmp_path / "two", {"b.py": "x = 1\n"})

    assert source_fingerprint(first) != source_fingerprint(second)
