"""The installation's secrets under var/ (common/instance.py): made once, the same for every process."""

import subprocess
import sys
from pathlib import Path

from common.instance import instance_secret

BASE_DIR = Path(__file__).resolve().parent.parent


def test_processes_starting_together_all_get_the_one_secret_the_first_wrote(tmp_path):
    path = tmp_path / "var" / "secret_key"
    code = f"from pathlib import Path; from common.instance import instance_secret; print(instance_secret(Path({str(path)!r})))"
    starting = [
        subprocess.Popen([sys.executable, "-c", code], cwd=BASE_DIR, stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    secrets_seen = {process.communicate(timeout=60)[0].strip() for process in starting}

    assert secrets_seen == {path.read_text().strip()}
    assert len(secrets_seen.pop()) >= 50
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"], "no draft left behind"


def test_a_secret_once_written_is_read_back_not_generated_again(tmp_path):
    path = tmp_path / "demo-logins.json"
    first = instance_secret(path, generate=lambda: "the first")

    assert instance_secret(path, generate=lambda: "another") == first == "the first"
