"""The synthetic sample district and its year of cases."""
