"""Adapters that store the domain in AWS services."""
