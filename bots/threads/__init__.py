"""The thread unit of work: every lock and every store access of a running bot (``access.Threads``)."""
