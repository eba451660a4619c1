"""Linear truth probes (scikit-learn estimator API). Filled in by the probes issue."""
