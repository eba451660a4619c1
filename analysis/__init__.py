"""Analyses that read the activation store: where the negation annotation is dropped."""
