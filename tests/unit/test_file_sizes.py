"""Rooms with one reason to change: no Python file in production/ is over 350 lines, unless it
is data (rule sets, lexicons), named below.

A file that grows past the limit is split at its seam (the house plan, issue 15), not added
here: this list is for files whose length is their content, not their logic.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ROOT / "production"
MAX_LINES = 350
# Data, not logic: each escalation reason's rule set with its examples, the sentiment lexicon and
# its multi-word phrases. Paths relative to production/; a folder covers every file below it.
DATA = ("domain/escalation/rules", "domain/sentiment/lexicon.py", "domain/sentiment/phrases.py")


def oversized(root: Path, *, data: tuple[str, ...] = DATA,
              limit: int = MAX_LINES) -> dict[str, int]:
    """Return each Python file below `root` longer than `limit` lines (by its path relative to
    `root`) that `data` does not name."""
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if any(name == entry or name.startswith(f"{entry}/") for entry in data):
            continue
        with path.open(encoding="utf-8") as lines:
            count = sum(1 for _ in lines)
        if count > limit:
            found[name] = count
    return found


def test_no_production_file_is_over_350_lines_unless_it_is_data() -> None:
    assert oversized(PRODUCTION) == {}, "split the file at its seam (see this test's docstring)"


def test_every_data_entry_names_something_that_exists() -> None:
    assert [entry for entry in DATA if not (PRODUCTION / entry).exists()] == []


def test_a_file_one_line_over_the_limit_is_found_and_a_data_file_is_not(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "logic.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "at_limit.py").write_text("x = 1\n" * MAX_LINES)
    (tmp_path / "rules" / "lexicon.py").write_text("x = 1\n" * (MAX_LINES * 3))
    assert oversized(tmp_path, data=("rules",)) == {"logic.py": MAX_LINES + 1}
    assert oversized(tmp_path, data=()) == {"logic.py": MAX_LINES + 1,
                                            "rules/lexicon.py": MAX_LINES * 3}
