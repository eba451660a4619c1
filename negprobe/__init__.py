"""negprobe: where inside a language model is a negation annotation dropped?

The public API; everything else lives in the layered subpackages
``negprobe.activations`` (datasets, models, residual reads, the activation store),
``negprobe.probes`` (linear probes and sweeps), ``negprobe.analysis`` (localisation and reports)
and ``negprobe.scripts`` (the command line). Names are imported on first use, so
``import negprobe`` stays cheap.
"""
