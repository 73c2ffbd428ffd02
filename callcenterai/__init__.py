"""CallCenterAI: ticket classification and the lifecycle of its models."""

__version__ = "0.1.0"
