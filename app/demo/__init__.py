"""The demo organisation: ten people and a month of their incidents, for trying Muster out.
Each incident is a script (who declared what, how long ago, then who did what and when; the words
are in ``steps``, the people in ``people``, the incidents in ``scripts``), and ``player`` plays
the steps of every script in time order through the ordinary services. Everyone finds their own
kind of incident: customers locked out for support, a revenue dashboard showing zero for data, a
private lost laptop for security (which the executive cannot see), a migration and a launch run
as war rooms, a game day, live incidents whose next update is due within minutes (two overdue),
and closed ones with follow-ups to learn from. The organisation has teams (Leadership, Support,
Security, Data, SRE) and a workflow that loops Leadership in on Critical incidents and announces
them in the demo's chat channel (``chat``, ``/demo/chat``); support declared one minutes ago, so
the executive finds it and its updates in the inbox, and an overdue update's lead has a nudge.
"""

from app.demo.chat import PAGE_PATH as CHAT_PAGE
from app.demo.chat import Chat
from app.demo.player import seed

__all__ = ["CHAT_PAGE", "Chat", "seed"]
