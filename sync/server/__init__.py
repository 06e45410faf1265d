"""The central server, a package per job:

- devices/  what the kiosks talk to: the device API, signed requests, the push, enrolment, health, the catalog;
- results/  satisfaction results: periods, figures and the queries behind them, the dashboard, the public page,
            charts, exports and publications;
- alerts/   alert rules, what they find, and their e-mails;
- admin/    IT accounts and sign-in, and the fleet page;
- cli/      the `kiosk-server` command, a module per group of sub-commands.

What they all use stays here: app.py (the web application), web.py (what every page uses), db.py, models.py,
registry.py (agencies, counters, officers), settings.py, errors.py, context.py, bulk.py, migrations/, templates/
and static/.
"""
