"""Every shell example in the README runs, in order, as written, against the generated fixtures,
and prints what the README shows beneath it."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

from conftest import ROOT

TOOLS = {"preflight", "prep", "submit"}


def readme_examples() -> list[tuple[list[str], str]]:
    """(command, the output block that follows it) for each ``sh`` block, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```\n*(?:```\n(.*?)```)?", text, flags=re.S)
    found = []
    for code, output in blocks:
        for line in code.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] in TOOLS:
                found.append((words, output or ""))
    return found


def test_the_readme_has_one_example_per_tool():
    assert [words[0] for words, _ in readme_examples()] == ["preflight", "prep", "submit"]


def test_every_readme_example_runs_and_shows_what_the_readme_says(fx, tmp_path):
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "generated").symlink_to(fx)
    env = {**os.environ, "SUBMIT_JOURNAL": str(tmp_path / "journal.sqlite3"),
           "SUBMIT_CONFIG": str(tmp_path / "absent.toml"), "EVOLINK_API_KEY": ""}
    for words, shown in readme_examples():
        done = subprocess.run([sys.executable, "-m", "submit.cli" if words[0] == "submit" else words[0], *words[1:]],
                              cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
        assert "Traceback" not in done.stderr and done.returncode in (0, 1), (words, done.stderr[-2000:])
        printed = done.stdout + done.stderr
        # Every line the README shows is printed (the lines it leaves out are said to be left out);
        # task ids, ports and link expiries differ from run to run.
        for line in shown.splitlines():
            if not line.strip() or line.strip() == "..." or "task-unified-" in line:
                continue
            assert line in printed, (words[0], line)
