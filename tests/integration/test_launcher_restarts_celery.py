"""`make run`'s launcher starts a Celery worker again when it dies (as kombu makes it do when Redis
drops while it holds unacknowledged messages), instead of leaving the supply pipeline stopped."""

import os
import subprocess
import time

import psutil
import pytest

from tests.system import PrivateRedis, free_port, launched, manage, wait_for

pytestmark = pytest.mark.integration


def celery_workers(launcher: subprocess.Popen) -> list[psutil.Process]:
    """The launcher's direct children running `celery ... worker` (not the worker's pool processes)."""
    return [
        child
        for child in psutil.Process(launcher.pid).children()
        if "worker" in child.cmdline() and any("celery" in part for part in child.cmdline())
    ]


def test_a_worker_that_dies_is_started_again_and_the_launcher_keeps_running(tmp_path):
    redis_server = PrivateRedis(tmp_path)
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "PORT": str(free_port()),
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "REDIS_URL": redis_server.url,
    }
    env.pop("DATABASE_URL", None)
    manage(env, "migrate", "--noinput")
    log_path = tmp_path / "launcher.log"
    try:
        with launched(env, log_path) as launcher:
            assert wait_for(lambda: " ready." in log_path.read_text(), timeout=60), log_path.read_text()
            [first] = celery_workers(launcher)
            first.kill()  # the worker this test's launcher started, by its pid

            assert wait_for(lambda: "worker exited with" in log_path.read_text(), timeout=30), log_path.read_text()
            assert wait_for(lambda: [w.pid for w in celery_workers(launcher)] not in ([], [first.pid]), timeout=30), (
                log_path.read_text()
            )
            assert wait_for(lambda: log_path.read_text().count(" ready.") >= 2, timeout=60), log_path.read_text()
            time.sleep(1)
            assert launcher.poll() is None, log_path.read_text()
    finally:
        redis_server.stop()
