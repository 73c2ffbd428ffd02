"""Drift monitoring: a window of what the agent answered against the training data.

``windows`` loads the window (the review store's traffic samples or a CSV) and the
reference (a sample of the training split); ``features`` turns tickets into what the
checks compare; ``checks`` and ``text_domain`` score each check; ``scoring`` runs them
all; ``report`` writes drift.json and the offline HTML report.
"""
