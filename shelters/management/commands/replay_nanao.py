"""Replay Nanao City's real evacuee counts of 2024 as check-ins and check-outs, for live dashboards."""

import argparse
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from shelters.replay import (
    ATTRIBUTION,
    DEFAULT_SPEED,
    TOKYO,
    ReplayDataError,
    SnapshotOutcome,
    default_data_dir,
    replay_clear,
    replay_nanao,
)


def _tokyo_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a time such as 2024-02-01T06:00, found {value!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=TOKYO)


def _speed(value: str) -> float:
    try:
        speed = float(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a number, found {value!r}") from error
    if speed < 0:
        raise argparse.ArgumentTypeError("the speed cannot be negative")
    return speed


class Command(BaseCommand):
    help = (
        "Replay the real evacuee counts of Nanao City (七尾市) after the 2024 Noto Peninsula earthquake as "
        "check-ins and check-outs of fictional people at replay shelters (source=replay), so the live "
        "dashboards draw the real occupancy curve. Data: CC BY 4.0, raokiey/R06-Noto-Peninsula-EQ-open-shelter-Nanao."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--speed",
            type=_speed,
            default=DEFAULT_SPEED,
            help="Simulated seconds per real second (default 1440: a day a minute). 0 applies all without waiting.",
        )
        parser.add_argument("--no-wait", action="store_true", help="Apply the snapshots without waiting (--speed 0).")
        parser.add_argument(
            "--from",
            dest="start",
            type=_tokyo_time,
            metavar="TIME",
            help="Start at the first snapshot at or after this time (Asia/Tokyo unless given), e.g. 2024-02-01T06:00.",
        )
        parser.add_argument(
            "--until", type=_tokyo_time, metavar="TIME", help="Stop after the last snapshot at or before this time."
        )
        parser.add_argument("--data", metavar="DIR", help=f"The Nanao data directory (default {default_data_dir()}).")
        parser.add_argument(
            "--clear",
            action="store_true",
            help="Remove everything a replay made (shelters, people, stays, their history) and stop.",
        )

    def handle(self, *args, speed, no_wait, start, until, data, clear, **options):
        write = self.stdout.write
        if clear:
            summary = replay_clear()
            write(
                self.style.SUCCESS(
                    _(
                        "Removed the replay: %(shelters)d shelters, %(evacuees)d people, "
                        "%(households)d households, %(stays)d stays."
                    )
                    % {
                        "shelters": summary.shelters,
                        "evacuees": summary.evacuees,
                        "households": summary.households,
                        "stays": summary.stays,
                    }
                )
            )
            return

        write(ATTRIBUTION)
        write(
            self.style.WARNING(
                "再現データ / REPLAY: 人数は実際の記録、避難者は架空です (real counts, fictional people)."
            )
        )
        write("")
        try:
            outcomes = replay_nanao(
                directory=data,
                speed=0 if no_wait else speed,
                start=start,
                until=until,
                on_snapshot=self._report,
            )
        except ReplayDataError as error:
            raise CommandError(str(error)) from error
        except KeyboardInterrupt:
            write(self.style.WARNING(_("Stopped.")))
            return
        last = outcomes[-1]
        write(
            self.style.SUCCESS(
                _("Replayed %(count)d snapshots, up to %(time)s.")
                % {"count": len(outcomes), "time": f"{last.snapshot.at:%Y-%m-%d %H:%M}"}
            )
        )

    def _report(self, outcome: SnapshotOutcome) -> None:
        snapshot = outcome.snapshot
        line = (
            f"{snapshot.at:%Y-%m-%d %H:%M}  "
            f"open {outcome.open_shelters:>3} (file {snapshot.shelters:>3})  "
            f"people {outcome.people:>5,} (file {snapshot.people:>5,})  "
            f"+{outcome.checked_in} -{outcome.checked_out}"
        )
        self.stdout.write(line if outcome.matches_file else self.style.ERROR(line))
        self.stdout.flush()
