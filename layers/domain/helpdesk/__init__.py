"""Support-ticket workflow: the domain (pure) and its AWS adapters."""
