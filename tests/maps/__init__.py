"""Tests of the map builders and their offline assets."""
