"""The pure domain: no AWS imports here."""
