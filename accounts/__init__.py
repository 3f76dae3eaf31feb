"""User accounts, API tokens, browser sessions and login throttling, kept in the object store."""
