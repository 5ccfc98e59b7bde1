"""Live delivery to open chat windows, in one process or across every worker of a shared store."""
