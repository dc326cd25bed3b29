"""Incidents (cases): categories and deadlines, the escalation workflow, hotline files, density."""
