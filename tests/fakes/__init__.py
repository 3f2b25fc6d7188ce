"""Local stand-ins for the services tapbot talks to off this machine (Slack, Microsoft)."""
