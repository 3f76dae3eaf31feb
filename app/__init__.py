"""CLI, HTTP API and configuration: composes the other packages, holds no business logic."""
