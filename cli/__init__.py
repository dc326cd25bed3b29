"""The `geogrid` command line: ties the domain, the store, the API and the maps together."""
