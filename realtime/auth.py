"""The sockets' authentication: channels' cookie, session and user middleware, with the session
and user read in the thread pool (realtime/threads.py) rather than on the one shared thread."""

from channels.auth import AuthMiddleware, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware

from realtime.threads import in_pool

# channels' own get_user (session key, backend, session hash checked), without its decorator.
_read_user = get_user.func


class PooledAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await in_pool(_read_user)(scope)


def SocketAuthMiddlewareStack(inner):
    return CookieMiddleware(SessionMiddleware(PooledAuthMiddleware(inner)))
