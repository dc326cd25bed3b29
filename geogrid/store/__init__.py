"""The persistent store of the grid hierarchy: imports, plans, exports, users and audit."""
