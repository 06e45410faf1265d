"""Satisfaction results: periods, the figures and the queries that compute them, and the pages, charts, exports
and publications that show them."""
