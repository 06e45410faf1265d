"""Alerts: the rules an agency sets, what they find, and the e-mails that tell of it."""
