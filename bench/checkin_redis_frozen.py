#!/usr/bin/env python
"""Check-in latency with Redis healthy, then frozen, in the same run (issue 10, part 3).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/checkin_redis_frozen.py [--check-ins 30]

Starts a whole system as the integration tests do (tests/system.py: a fresh database with the
sample data, one daphne with DEBUG=0, a private redis-server), then one desk checks people in one
after another: --check-ins with Redis healthy (the reference), then as many with Redis frozen by
SIGSTOP (it accepts connections and answers nothing), then thaws it. Prints the median and 90th
percentile latency of each phase, their ratio, the server errors, and the application log lines
(access log left out) written during each phase. Without DATABASE_URL it runs on SQLite.
"""

import argparse
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.system import PrivateRedis, Session, System


def log_lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if " - - [" not in line)


def phase(desk: Session, shelter_id: int, people: list[int]) -> tuple[list[float], int]:
    latencies, errors = [], 0
    for person in people:
        started = time.perf_counter()
        response = desk.api("POST", "/api/check-ins/", json={"shelter": shelter_id, "evacuees": [person]})
        latencies.append(time.perf_counter() - started)
        errors += response.status_code >= 500
    return latencies, errors


def describe(name: str, latencies: list[float], errors: int, lines: int) -> str:
    ordered = sorted(latencies)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (
        f"{name:<15} n={len(latencies):<3} median {statistics.median(latencies) * 1000:7.1f} ms"
        f"  p90 {p90 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms  5xx {errors}  log lines {lines}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-ins", type=int, default=30, help="per phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-redis-frozen-") as directory:
        workdir = Path(directory)
        redis_server = PrivateRedis(workdir)
        system = System(workdir=workdir, redis_url=redis_server.url)
        system.env["DEBUG"] = "0"
        try:
            server = system.start_daphne()
            log = next(workdir.glob("daphne-*.log"))
            hq = Session(server, "hq")
            shelter = hq.api("GET", "/api/shelters/").json()["results"][0]["id"]
            people = [
                p["id"]
                for p in hq.api("GET", "/api/evacuees/", params={"limit": 500}).json()["results"]
                if p["current_stay"] is None
            ]
            needed = 2 * args.check_ins + 3
            if len(people) < needed:
                sys.exit(f"the sample data has {len(people)} people staying nowhere; {needed} needed")
            phase(hq, shelter, people[:3])  # warm-up: connections, caches
            lines = log_lines(log)
            healthy, healthy_errors = phase(hq, shelter, people[3 : 3 + args.check_ins])
            healthy_lines, lines = log_lines(log) - lines, log_lines(log)
            redis_server.process.send_signal(signal.SIGSTOP)
            try:
                frozen, frozen_errors = phase(hq, shelter, people[3 + args.check_ins : needed])
                time.sleep(0.5)
                frozen_lines = log_lines(log) - lines
            finally:
                redis_server.process.send_signal(signal.SIGCONT)
            print(describe("Redis healthy", healthy, healthy_errors, healthy_lines))
            print(describe("Redis frozen", frozen, frozen_errors, frozen_lines))
            print(f"frozen / healthy median: {statistics.median(frozen) / statistics.median(healthy):.2f}")
        finally:
            system.stop()
            redis_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
