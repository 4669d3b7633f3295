"""The demo organisation: ten people and a month of their incidents, for trying Muster out.
Each incident is a script (who declared what, how long ago, then who did what and when; the words
are in ``steps``, the people in ``people``, the incidents in ``scripts``), and ``player`` plays
the steps of every script in time order through the ordinary services. Everyone finds their own
kind of incident: customers locked out for support, a revenue dashboard showing zero for data, a
private lost laptop for security (which the executive cannot see), a migration and a launch run
as war rooms, a game day, live incidents whose next update is due within minutes (two overdue),
and closed ones with follow-ups to learn from.
"""

from app.demo.player import seed

__all__ = ["seed"]
