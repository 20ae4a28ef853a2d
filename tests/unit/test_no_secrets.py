"""No secret in the tree: detect-secrets scans every file git tracks or would add, and finds
nothing that the committed baseline (.secrets.baseline, each entry audited as not a secret:
placeholders, a fake's credentials, the dev-only ticket key, model checksums) does not list.

A secret found is removed from the tree, not added to the baseline. A false positive is added
with `detect-secrets scan --baseline .secrets.baseline` and marked `"is_secret": false`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from detect_secrets import SecretsCollection
from detect_secrets.settings import transient_settings

from tests.conftest import ROOT

BASELINE = ROOT / ".secrets.baseline"


def _baseline() -> tuple[dict[str, object], SecretsCollection]:
    data = json.loads(BASELINE.read_text())
    return data, SecretsCollection.load_from_baseline(data)


def _tree() -> list[str]:
    """Every file git tracks or would add (not ignored), that still exists."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [name for name in listed.splitlines()
            if name != BASELINE.name and (ROOT / name).is_file()]


def _found(files: list[str], root: Path = ROOT) -> SecretsCollection:
    data, _ = _baseline()
    with transient_settings({"plugins_used": data["plugins_used"],
                             "filters_used": data["filters_used"]}):
        found = SecretsCollection(root=str(root))
        found.scan_files(*files, num_processors=1)
    return found


def _not_in(found: SecretsCollection, baseline: SecretsCollection) -> list[str]:
    """Return each secret found that the baseline does not list (by file, hash and type:
    line numbers move with every edit)."""
    known = {(name, secret.secret_hash, secret.type) for name, secret in baseline}
    return sorted(f"{name}:{secret.line_number} {secret.type}" for name, secret in found
                  if (name, secret.secret_hash, secret.type) not in known)


def test_the_tree_holds_no_secret_the_baseline_does_not_list() -> None:
    _, baseline = _baseline()
    assert _not_in(_found(_tree()), baseline) == []
    unaudited = [entry for entries in json.loads(BASELINE.read_text())["results"].values()
                 for entry in entries if entry.get("is_secret") is not False]
    assert unaudited == []


def test_the_scanner_finds_a_key_written_into_the_tree(tmp_path: Path) -> None:
    leaked = tmp_path / "settings.py"
    leaked.write_text('AWS_ACCESS_KEY_ID = "AKIA' + "ZXCVBNMASDFGHJKL" + '"\n'
                      'password = "' + "hunter2-but-longer-" + 'Zq8#pL"\n')
    found = _found([leaked.name], root=tmp_path)
    assert {secret.type for _, secret in found} >= {"AWS Access Key", "Secret Keyword"}
