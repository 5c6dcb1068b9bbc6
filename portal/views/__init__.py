"""The portal's pages (portal.urls), by subject: account (login, join, reset, password, me),
money (home, withdrawals, statements, earn preview), team (downlines, contests, rankings,
targets, invite) and support (materials and courses, announcements, feedback)."""
