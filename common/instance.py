"""Secrets that belong to one installation, generated on first use and kept under var/.

The settings read the SECRET_KEY from here and `load_demo` the demo accounts' passwords, so no
secret of a running site is ever one published in the repository. Imports nothing from Django:
the settings module uses it before Django is set up.
"""

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def instance_secret(path: Path, *, generate: Callable[[], str] = lambda: secrets.token_urlsafe(50)) -> str:
    """The secret stored at `path`, created (mode 0600) on the first call and the same ever after.

    Several processes start at once (daphne, the Celery worker and beat), so the file appears
    whole or not at all: it is written under a temporary name and linked into place, which fails
    when another process got there first; then that one's secret is the secret.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(generate() + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()
