"""The web interface (port 8080): support staff classify, batch-score and review tickets through the agent."""
