"""The review store: tickets the agent flagged (redacted), and reviewers' decisions."""
