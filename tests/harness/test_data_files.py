"""The project's YAML is read with libyaml's safe loader, and reads the same as with PyYAML's own.

The suites read their data files (`schemas/`, the case files, `known-deviations.yaml`) through
`harness.data_files.read_yaml`. The C loader is about ten times faster; these tests hold that it
is the one in use with the pinned PyYAML and that it gives every file the same document.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.data_files import YAML_LOADER, read_yaml

REPO = Path(__file__).resolve().parents[2]
DATA_FILES = sorted(
    path.relative_to(REPO)
    for folder in ("schemas", "suites")
    for path in (REPO / folder).rglob("*.yaml")
) + [Path("known-deviations.yaml")]


def test_the_pinned_pyyaml_reads_with_libyaml() -> None:
    assert YAML_LOADER is yaml.CSafeLoader


@pytest.mark.parametrize("relative", DATA_FILES, ids=str)
def test_a_data_file_reads_as_the_pure_python_loader_reads_it(relative: Path) -> None:
    path = REPO / relative
    assert read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_only_safe_tags_are_read(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("!!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError):
        read_yaml(hostile)
