"""Tests of the fake vendor servers."""
