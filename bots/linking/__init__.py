"""One conversation across channels: signed link tokens and linking identities to threads."""
