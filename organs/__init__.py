"""The organ registry (DESIGN §2): who exists or existed, at which level, under whom. Read by the
metadata extractor (through a `find_organ` callable) and by the exchange alike; built once from
the settings by `app.compose.build_registry`."""
