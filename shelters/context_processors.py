from access import policy
from common.lockouts import can_lift_lockouts
from common.roles import is_staff_member


def navigation(request) -> dict:
    """What the top bar offers this user, decided by the access policy."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if policy.is_resident_only(user):
        # A resident's own pages are all they may use: no staff links at all.
        return {"nav_resident": True, "nav_own_page": True}
    return {
        "nav_staff": is_staff_member(user),
        "nav_own_page": policy.may_use_own_page(user),
        "nav_corrections": policy.may_handle_corrections(user),
        "nav_city_dashboard": policy.can_watch_city(user),
        "nav_follow_ups": policy.may_handle_follow_ups(user),
        "nav_survey_imports": policy.can_import_survey_responses(user),
        "nav_reports": policy.can_view_reports(user),
        "nav_login_lockouts": can_lift_lockouts(user),
        "nav_disasters": policy.can_manage_disasters(user),
        "nav_releases": policy.can_view_releases(user),
    }
