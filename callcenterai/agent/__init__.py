"""The agent (port 8000): scrubs personal data, routes each ticket to the cheapest model
that is sure, explains the choice, flags tickets for people, survives a backend failing."""
