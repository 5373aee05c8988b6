"""Tests of the scholia-image plugin as installed."""
