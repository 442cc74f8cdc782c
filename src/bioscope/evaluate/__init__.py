"""Evaluation runs: a model over a data set, scored."""
