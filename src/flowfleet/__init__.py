"""flowfleet: deployments as code for Prefect."""

__version__ = "0.1.0"
