"""The README's generated operations table equals what the providers implement."""

from __future__ import annotations

from pathlib import Path

from trailgate.operations import markdown_table, supported_operations

README = Path(__file__).resolve().parents[2] / "README.md"
START = "<!-- operations:start -->\n"
END = "<!-- operations:end -->"


def readme_block() -> str:
    text = README.read_text()
    assert text.count(START) == 1 and text.count(END) == 1
    return text.split(START, 1)[1].split(END, 1)[0]


def test_readme_table_is_generated() -> None:
    assert readme_block() == markdown_table(), (
        "README operations table is stale: paste trailgate.operations.markdown_table()"
    )


def test_key_operations_present() -> None:
    ops = supported_operations()
    assert set(ops) == {"iam", "sts", "s3", "cloudtrail", "organizations"}
    expected = {
        "sts": ["AssumeRole", "GetCallerIdentity"],
        "iam": ["CreateRole", "PutRolePolicy"],
        "s3": ["PutObject", "GetObject"],
        "cloudtrail": ["CreateTrail", "LookupEvents", "ListPublicKeys"],
        "organizations": ["CreateAccount"],
    }
    for service, names in expected.items():
        for name in names:
            assert name in ops[service], (service, name)
    for names in ops.values():
        assert names == sorted(set(names))


def test_table_shape() -> None:
    lines = markdown_table().splitlines()
    assert lines[0] == "| Service | Count | Operations |"
    assert len(lines) == 2 + 5
    assert "`ListPublicKeys`" in markdown_table()
