"""The words of the live client (static/js/live.js) in the page's language: one table for every live page."""

from django.utils.translation import gettext as _


def live_labels() -> dict:
    """Words the dashboards' JavaScript shows, in the page's language."""
    return {
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Reconnecting…"),
        "stale_since": _("Stale since %(time)s"),
        # Connected, but nothing heard for a while: the figures may be old (static/js/live.js).
        "stale": _("Updates interrupted"),
        "offline": _("Offline"),
        "refused": _("Not allowed to watch this stream"),
        "signed_out": _("Signed out: sign in again to watch"),
        "alerts": {
            "nearly_full": _("Nearly full (90%)"),
            "full": _("Full"),
            "closed_with_people": _("Closed with people inside"),
            "many_needing_support": _("Many residents needing support"),
        },
        "no_alerts": _("No alerts."),
        "inside": _("inside"),
        "outside": _("outside"),
        "nobody": _("Nobody needing support."),
        "no_notifications": _("No notifications yet."),
        "modes": {"inside": _("In the shelter"), "at_home": _("At home"), "in_car": _("In a car")},
        "evacuation_support": _("Evacuation support"),
        "sample": _("Sample"),
        "replay": _("Replay"),
        "replay_running": _("Replay of real data running (Nanao City, 2024 Noto earthquake): %(time)s"),
        "follow_up_states": {
            "new": _("New"),
            "contacted": _("Contacted"),
            "referred": _("Referred to health staff"),
            "closed": _("Closed"),
        },
        "no_follow_ups": _("Nobody on the follow-up list."),
        "no_needs": _("No requests from survey answers are waiting."),
        "replay_finished": _("Replay of real data finished (Nanao City, 2024 Noto earthquake): %(time)s"),
    }
