"""Feedback cases: comments, harassment reports and callback requests to assign, answer, close and publish."""
