"""negprobe's command line (``negprobe``), bootstrap runner and example scripts."""
